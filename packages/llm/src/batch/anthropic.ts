import type Anthropic from "@anthropic-ai/sdk";
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

const BATCH = "an Anthropic message batch";
const isBatch = hasId("processing_status", "request_counts");

/** Anthropic's Message Batches: requests inline, results read as a JSONL stream once ended. */
export class AnthropicBatchAPI implements BatchAPI {
  readonly provider = "anthropic" as const;

  private readonly call: BatchCalls<Anthropic>;

  constructor(connect: () => Promise<Anthropic>, secrets: readonly (string | undefined)[]) {
    this.call = calling(connect, "anthropic", secrets);
  }

  line(request: BatchRequest): string {
    return JSON.stringify({ custom_id: request.customId, params: request.body });
  }

  size(request: BatchRequest): number {
    // Each request as it sits in the `requests` array, with its comma.
    return Buffer.byteLength(this.line(request)) + 1;
  }

  async submitFile(path: string, info: { signal?: AbortSignal }): Promise<{ id: string }> {
    // Message batches take their requests inline, in one JSON body: read back, up to the size limit.
    const requests: BatchRequest[] = [];
    // Node-only, and loaded here: the browser entry carries this class.
    const [{ createReadStream }, { createInterface }] = await Promise.all([
      nodeBuiltin<typeof import("node:fs")>("fs"),
      nodeBuiltin<typeof import("node:readline")>("readline"),
    ]);
    for await (const line of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) {
      if (!line.trim()) continue;
      const { custom_id, params } = JSON.parse(line) as {
        custom_id: string;
        params: Record<string, unknown>;
      };
      requests.push({ customId: custom_id, body: params });
    }
    return this.submit(requests, info);
  }

  async submit(requests: readonly BatchRequest[], info: { signal?: AbortSignal }): Promise<{ id: string }> {
    const batch = await this.call.checked(BATCH, isBatch, (client) =>
      client.messages.batches.create(
        {
          requests: requests.map((r) => ({
            custom_id: r.customId,
            params: r.body as unknown as Anthropic.MessageCreateParamsNonStreaming,
          })),
        },
        { signal: info.signal },
      ),
    );
    return { id: batch.id };
  }

  async retrieve(id: string, signal?: AbortSignal): Promise<BatchStatus> {
    return statusOf(
      await this.call.checked(BATCH, isBatch, (client) =>
        client.messages.batches.retrieve(id, {}, { signal }),
      ),
    );
  }

  async cancel(id: string, signal?: AbortSignal): Promise<BatchStatus> {
    return statusOf(
      await this.call.checked(BATCH, isBatch, (client) => client.messages.batches.cancel(id, {}, { signal })),
    );
  }

  async results(id: string, signal?: AbortSignal): Promise<BatchOutcome[]> {
    const outcomes: BatchOutcome[] = [];
    for await (const outcome of this.outcomes(id, signal)) outcomes.push(outcome);
    return outcomes;
  }

  async *outcomes(id: string, signal?: AbortSignal): AsyncIterable<BatchOutcome> {
    const lines = await this.call((client) => client.messages.batches.results(id, {}, { signal }));
    for await (const line of lines) yield outcomeOf(line);
  }

  async find(submission: {
    at: number;
    requests: number;
    known: ReadonlySet<string>;
    signal?: AbortSignal;
  }): Promise<string | undefined> {
    // No metadata on message batches: the one unknown batch of the same size created around then.
    return this.call(async (client) => {
      const found: string[] = [];
      for await (const batch of client.messages.batches.list({ limit: 100 }, { signal: submission.signal })) {
        const created = Date.parse(batch.created_at);
        if (created < submission.at - 10 * 60_000) break;
        if (created > submission.at + 30 * 60_000 || submission.known.has(batch.id)) continue;
        if (statusOf(batch).total === submission.requests) found.push(batch.id);
      }
      return found.length === 1 ? found[0] : undefined;
    });
  }
}

function statusOf(batch: Anthropic.Messages.MessageBatch): BatchStatus {
  const c = batch.request_counts;
  const failed = c.errored + c.canceled + c.expired;
  const total = c.processing + c.succeeded + failed;
  return {
    id: batch.id,
    state: batch.processing_status === "ended" ? "ended" : "running",
    status: batch.processing_status,
    total,
    done: total - c.processing,
    failed,
    createdAt: Date.parse(batch.created_at),
  };
}

function outcomeOf(line: Anthropic.Messages.MessageBatchIndividualResponse): BatchOutcome {
  const customId = line.custom_id;
  const result = line.result;
  if (result.type === "succeeded") return { customId, ok: true, response: result.message };
  if (result.type === "expired")
    return { customId, ok: false, kind: "expired", message: "the batch expired first" };
  if (result.type === "canceled")
    return { customId, ok: false, kind: "cancelled", message: "the batch was cancelled first" };
  const error = result.error?.error as { type?: string; message?: string } | undefined;
  return {
    customId,
    ok: false,
    kind: "error",
    status: STATUS[error?.type ?? ""] ?? 500,
    message: `${error?.type ?? "error"}: ${error?.message ?? "no message"}`,
  };
}

/** Anthropic's error types and the HTTP status each is sent with online. */
const STATUS: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  overloaded_error: 529,
};
