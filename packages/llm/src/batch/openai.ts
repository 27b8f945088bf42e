import type OpenAI from "openai";
import { nodeBuiltin } from "./node-builtin";
import {
  type BatchAPI,
  type BatchCalls,
  type BatchOutcome,
  type BatchRequest,
  type BatchStatus,
  calling,
  hasId,
} from "./types";

const ENDPOINT = "/v1/chat/completions";
const FILE = "an OpenAI file object";
const BATCH = "an OpenAI batch object";
const isBatch = hasId("status");

/** OpenAI's Batch API: a JSONL file (`purpose: "batch"`), a batch over it, output and error files. */
export class OpenAIBatchAPI implements BatchAPI {
  readonly provider = "openai" as const;

  private readonly call: BatchCalls<OpenAI>;

  constructor(connect: () => Promise<OpenAI>, secrets: readonly (string | undefined)[]) {
    this.call = calling(connect, "openai", secrets);
  }

  line(request: BatchRequest): string {
    return JSON.stringify({ custom_id: request.customId, method: "POST", url: ENDPOINT, body: request.body });
  }

  size(request: BatchRequest): number {
    return Buffer.byteLength(this.line(request)) + 1;
  }

  async submit(
    requests: readonly BatchRequest[],
    info: { submission: string; signal?: AbortSignal },
  ): Promise<{ id: string; inputFileId: string }> {
    const jsonl = `${requests.map((r) => this.line(r)).join("\n")}\n`;
    const { toFile } = await import("openai");
    return this.create(await toFile(Buffer.from(jsonl), `lmcot-${info.submission}.jsonl`), info);
  }

  async submitFile(
    path: string,
    info: { submission: string; signal?: AbortSignal },
  ): Promise<{ id: string; inputFileId: string }> {
    // A file-backed blob: the upload streams from disk instead of holding up to 200 MB.
    // Node-only, and loaded here: the browser entry carries this class for online batches' types.
    const { openAsBlob } = await nodeBuiltin<typeof import("node:fs")>("fs");
    const blob = await openAsBlob(path, { type: "application/jsonl" });
    return this.create(new File([blob], `lmcot-${info.submission}.jsonl`), info);
  }

  private async create(
    upload: File,
    info: { submission: string; signal?: AbortSignal },
  ): Promise<{ id: string; inputFileId: string }> {
    const file = await this.call.checked(FILE, hasId(), (client) =>
      client.files.create({ file: upload, purpose: "batch" }, { signal: info.signal }),
    );
    const batch = await this.call.checked(BATCH, isBatch, (client) =>
      client.batches.create(
        {
          input_file_id: file.id,
          endpoint: ENDPOINT,
          completion_window: "24h",
          metadata: { lmcot_submission: info.submission },
        },
        { signal: info.signal },
      ),
    );
    return { id: batch.id, inputFileId: file.id };
  }

  async retrieve(id: string, signal?: AbortSignal): Promise<BatchStatus> {
    return statusOf(
      await this.call.checked(BATCH, isBatch, (client) => client.batches.retrieve(id, { signal })),
    );
  }

  async cancel(id: string, signal?: AbortSignal): Promise<BatchStatus> {
    return statusOf(
      await this.call.checked(BATCH, isBatch, (client) => client.batches.cancel(id, { signal })),
    );
  }

  async results(id: string, signal?: AbortSignal): Promise<BatchOutcome[]> {
    const outcomes: BatchOutcome[] = [];
    for await (const outcome of this.outcomes(id, signal)) outcomes.push(outcome);
    return outcomes;
  }

  async *outcomes(id: string, signal?: AbortSignal): AsyncIterable<BatchOutcome> {
    const batch = await this.call.checked(BATCH, isBatch, (client) =>
      client.batches.retrieve(id, { signal }),
    );
    for (const file of [batch.output_file_id, batch.error_file_id]) {
      if (!file) continue;
      const response = await this.call((client) => client.files.content(file, { signal }));
      if (!response.body) continue;
      const [{ createInterface }, { Readable }] = await Promise.all([
        nodeBuiltin<typeof import("node:readline")>("readline"),
        nodeBuiltin<typeof import("node:stream")>("stream"),
      ]);
      const reader = createInterface({
        input: Readable.fromWeb(response.body as never),
        crlfDelay: Infinity,
      });
      try {
        for await (const line of reader) {
          if (!line.trim()) continue;
          const parsed = parseLine(line);
          if (!parsed)
            throw this.call.wrong({ response, body: line, expected: "an OpenAI batch output file (JSONL)" });
          yield outcomeOf(parsed);
        }
      } finally {
        reader.close();
      }
    }
  }

  async find(submission: { id: string; at: number; signal?: AbortSignal }): Promise<string | undefined> {
    return this.call(async (client) => {
      for await (const batch of client.batches.list({ limit: 100 }, { signal: submission.signal })) {
        if (batch.metadata?.lmcot_submission === submission.id) return batch.id;
        // Newest first: nothing older than the submission (less clock skew) can be it.
        if (batch.created_at * 1000 < submission.at - 10 * 60_000) return undefined;
      }
      return undefined;
    });
  }
}

const ENDED = new Set(["completed", "failed", "expired", "cancelled"]);

function statusOf(batch: OpenAI.Batches.Batch): BatchStatus {
  const counts = batch.request_counts ?? { total: 0, completed: 0, failed: 0 };
  const errors = batch.errors?.data
    ?.map((e) => `${e.line !== undefined && e.line !== null ? `line ${e.line}: ` : ""}${e.message ?? e.code}`)
    .join("; ");
  return {
    id: batch.id,
    state: ENDED.has(batch.status) ? "ended" : "running",
    status: batch.status,
    total: counts.total,
    done: counts.completed + counts.failed,
    failed: counts.failed,
    createdAt: batch.created_at * 1000,
    ...(batch.status === "failed" ? { error: errors || "the batch failed" } : {}),
  };
}

interface OutputLine {
  custom_id: string;
  response?: { status_code: number; body?: { error?: { message?: string } } } | null;
  error?: { code?: string; message?: string } | null;
}

/** A line of an output file, or undefined when it is not one (a wrong server's page). */
function parseLine(line: string): OutputLine | undefined {
  try {
    const parsed = JSON.parse(line) as OutputLine;
    return typeof parsed?.custom_id === "string" ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** One line of the output or error file. */
function outcomeOf(line: OutputLine): BatchOutcome {
  const customId = line.custom_id;
  const response = line.response;
  if (response && response.status_code >= 200 && response.status_code < 300)
    return { customId, ok: true, response: response.body };
  if (response)
    return {
      customId,
      ok: false,
      kind: "error",
      status: response.status_code,
      message: response.body?.error?.message ?? `HTTP ${response.status_code}`,
    };
  const code = line.error?.code ?? "";
  const kind = code === "batch_expired" ? "expired" : code === "batch_cancelled" ? "cancelled" : "error";
  return { customId, ok: false, kind, message: line.error?.message ?? (code || "no response") };
}
