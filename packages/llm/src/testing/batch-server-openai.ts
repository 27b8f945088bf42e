// OpenAI Files + Batch API. Wire format: openai-node src/resources/{files,batches}.ts (FileObject,
// Batch, CursorPage `after`), the Batch guide's output/error file lines, and the batch validation
// errors OpenAI returns as recorded in llamastack tests/integration/batches/test_batches_errors.py.

import type { BatchAnswer, BatchState, Reply, Route, RouteContext } from "./batch-server";
import {
  advance,
  answerOf,
  type BatchLine,
  cancel,
  hex,
  isSuccess,
  type Job,
  jsonBody,
  outputOrder,
  seconds,
} from "./batch-server-jobs";
import { openaiCompletion } from "./server";
import { openaiErrorBody } from "./wire";

const ENDPOINT = "/v1/chat/completions";
const DAY = 86_400;

interface StoredFile {
  object: Record<string, unknown>;
  content: Buffer;
}

interface BatchError {
  code: string;
  message: string;
  param: string | null;
  line: number | null;
}

interface Meta {
  inputFileId: string;
  completionWindow: string;
  metadata: unknown;
  outputFileId: string | null;
  errorFileId: string | null;
  finalized: boolean;
}

const error = (
  status: number,
  message: string,
  param: string | null = null,
  code: string | null = null,
): Reply => ({
  status,
  json: { error: { message, type: "invalid_request_error", param, code } },
});

/** Fields of a multipart/form-data body, by name. */
export function parseMultipart(body: Buffer, contentType: string | undefined) {
  const fields = new Map<string, { filename?: string; data: Buffer }>();
  const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? "");
  if (!boundary) return fields;
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  let pos = body.indexOf(delimiter);
  while (pos !== -1) {
    const start = pos + delimiter.length;
    if (body.subarray(start, start + 2).toString() === "--") break;
    const next = body.indexOf(delimiter, start);
    if (next === -1) break;
    const part = body.subarray(start + 2, next - 2);
    const split = part.indexOf("\r\n\r\n");
    const head = part.subarray(0, split).toString("utf8");
    const name = /;\s*name="([^"]*)"/i.exec(head)?.[1];
    const filename = /;\s*filename="([^"]*)"/i.exec(head)?.[1];
    if (name !== undefined) fields.set(name, { filename, data: part.subarray(split + 4) });
    pos = next;
  }
  return fields;
}

type Problem = [code: string, message: string, param: string | null];

/** What is wrong with one input line, if anything; a good line is added to `lines` and `seen`. */
function checkLine(text: string, lines: BatchLine[], seen: Set<string>): Problem | undefined {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(text);
    if (!entry || typeof entry !== "object" || Array.isArray(entry)) throw new Error();
  } catch {
    return ["invalid_json_line", "This line is not parseable as valid JSON.", null];
  }
  for (const key of ["custom_id", "method", "url", "body"])
    if (entry[key] === undefined || entry[key] === null)
      return ["missing_required_parameter", `Missing required parameter: '${key}'.`, key];
  const { custom_id, method, url } = entry;
  const body = entry.body as Record<string, unknown>;
  const model = lines[0]?.body.model;
  if (typeof custom_id !== "string") return ["invalid_type", "Invalid type for 'custom_id'.", "custom_id"];
  if (method !== "POST")
    return ["invalid_value", "Invalid value for 'method': only POST is supported.", "method"];
  if (url !== ENDPOINT)
    return ["invalid_url", "The URL provided for this request does not match the batch endpoint.", "url"];
  if (typeof body !== "object" || Array.isArray(body))
    return ["invalid_type", "Invalid type for 'body'.", "body"];
  if (seen.has(custom_id))
    return [
      "duplicate_custom_id",
      "The custom_id for this request is a duplicate of another request. The custom_id parameter must be unique for each request in a batch.",
      "custom_id",
    ];
  seen.add(custom_id);
  if (typeof body.model !== "string")
    return ["invalid_request", "Model parameter is required.", "body.model"];
  if (model !== undefined && body.model !== model)
    return [
      "mismatched_model",
      `The provided model '${body.model}' does not match the model '${model}' of the other requests in this batch.`,
      "body.model",
    ];
  if (!Array.isArray(body.messages))
    return ["invalid_request", "Messages parameter is required.", "body.messages"];
  if (body.stream === true)
    return [
      "streaming_unsupported",
      "Chat Completions: Streaming is not supported in the Batch API.",
      "body.stream",
    ];
  lines.push({ customId: custom_id, body });
  return undefined;
}

/** The input file's requests and, if any line is bad, the errors OpenAI reports for it (lines 1-based). */
function validate(content: string): { lines: BatchLine[]; errors: BatchError[] } {
  const lines: BatchLine[] = [];
  const errors: BatchError[] = [];
  const seen = new Set<string>();
  content.split("\n").forEach((text, i) => {
    const problem = text.trim() ? checkLine(text, lines, seen) : undefined;
    if (problem) errors.push({ code: problem[0], message: problem[1], param: problem[2], line: i + 1 });
  });
  if (!lines.length && !errors.length)
    errors.push({ code: "empty_file", message: "The input file is empty.", param: null, line: null });
  return { lines, errors };
}

const errorBody = (a: Extract<BatchAnswer, { status: number }>) => {
  const body = openaiErrorBody(a.status, a.message);
  return { error: { ...body.error, type: a.type ?? body.error.type } };
};

const completion = (body: Record<string, unknown>, a: Extract<BatchAnswer, { text: string }>) => {
  const [prompt, output] = [a.inputTokens ?? 10, a.outputTokens ?? 3];
  return openaiCompletion(a.text, {
    id: `chatcmpl-${hex(12)}`,
    created: seconds(Date.now()),
    model: String(body.model ?? "gpt-4o-mini"),
    usage: { prompt_tokens: prompt, completion_tokens: output, total_tokens: prompt + output },
  });
};

export function openaiBatchRoutes(state: BatchState): Route[] {
  const files = new Map<string, StoredFile>();
  const metas = new Map<string, Meta>();

  const storeFile = (content: Buffer, filename: string, purpose: string) => {
    const id = `file-${hex(12)}`;
    const object = {
      id,
      object: "file",
      bytes: content.length,
      created_at: seconds(Date.now()),
      filename,
      purpose,
      status: "processed",
      expires_at: null,
      status_details: null,
    };
    files.set(id, { object, content });
    return object;
  };

  /** Writes the output and error files once the batch has ended. */
  const finalize = (job: Job, meta: Meta) => {
    if (meta.finalized || job.phase !== "ended" || job.ending?.status === "failed") return;
    meta.finalized = true;
    const output: string[] = [];
    const errors: string[] = [];
    for (const i of outputOrder(job, state.options.shuffle)) {
      const { customId, body } = job.lines[i]!;
      const a = job.answers[i];
      const base = { id: `batch_req_${hex(16)}`, custom_id: customId };
      const requestId = `req_${hex(16)}`;
      if (a && isSuccess(a))
        output.push(
          JSON.stringify({
            ...base,
            response: { status_code: 200, request_id: requestId, body: completion(body, a) },
            error: null,
          }),
        );
      else if (a)
        errors.push(
          JSON.stringify({
            ...base,
            response: { status_code: a.status, request_id: requestId, body: errorBody(a) },
            error: null,
          }),
        );
      else
        errors.push(
          JSON.stringify({
            ...base,
            response: null,
            error:
              job.ending?.status === "cancelled"
                ? {
                    code: "batch_cancelled",
                    message: "This request could not be executed before the batch was cancelled.",
                  }
                : {
                    code: "batch_expired",
                    message: "This request could not be executed before the completion window expired.",
                  },
          }),
        );
    }
    const write = (lines: string[], kind: string) =>
      lines.length
        ? (storeFile(Buffer.from(`${lines.join("\n")}\n`), `batch_${job.id}_${kind}.jsonl`, "batch_output")
            .id as string)
        : null;
    meta.outputFileId = write(output, "output");
    meta.errorFileId = write(errors, "error");
  };

  const render = (job: Job) => {
    const meta = metas.get(job.id)!;
    finalize(job, meta);
    const ending = job.ending;
    const at = (status: string) => (ending?.status === status ? seconds(ending.at) : null);
    const done = job.answers.filter(isSuccess);
    const input = done.reduce((n, a) => n + (a.inputTokens ?? 10), 0);
    const output = done.reduce((n, a) => n + (a.outputTokens ?? 3), 0);
    const errors =
      job.invalid !== undefined
        ? { object: "list", data: job.invalid }
        : ending?.status === "failed"
          ? {
              object: "list",
              data: [
                {
                  code: ending.code ?? "batch_failed",
                  message: ending.message ?? "The batch failed.",
                  param: null,
                  line: null,
                },
              ],
            }
          : null;
    return {
      id: job.id,
      object: "batch",
      endpoint: ENDPOINT,
      model: (job.lines[0]?.body.model as string | undefined) ?? null,
      errors,
      input_file_id: meta.inputFileId,
      completion_window: meta.completionWindow,
      status: job.phase === "ended" ? ending!.status : job.phase,
      output_file_id: meta.outputFileId,
      error_file_id: meta.errorFileId,
      created_at: seconds(job.createdAt),
      in_progress_at: job.inProgressAt === undefined ? null : seconds(job.inProgressAt),
      expires_at: seconds(job.createdAt) + DAY,
      finalizing_at:
        job.finalizingAt === undefined || ending?.status === "cancelled" ? null : seconds(job.finalizingAt),
      completed_at: at("completed"),
      failed_at: at("failed"),
      expired_at: at("expired"),
      cancelling_at: job.cancellingAt === undefined ? null : seconds(job.cancellingAt),
      cancelled_at: at("cancelled"),
      request_counts: {
        total: job.invalid === undefined ? job.lines.length : 0,
        completed: done.length,
        failed: job.answers.length - done.length,
      },
      usage: {
        input_tokens: input,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: output,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: input + output,
      },
      metadata: meta.metadata ?? null,
    };
  };

  const find = (ctx: RouteContext) => {
    const job = state.jobs.get(ctx.params[0]!);
    return job?.provider === "openai" ? job : undefined;
  };
  const noBatch = (ctx: RouteContext) => error(404, `No batch found with id '${ctx.params[0]}'.`);
  const noFile = (ctx: RouteContext) => error(404, `No such File object: ${ctx.params[0]}`, "id");

  return [
    {
      method: "POST",
      pattern: /^\/v1\/files$/,
      name: "files.create",
      handle: (ctx) => {
        const fields = parseMultipart(ctx.body, ctx.headers["content-type"]);
        const file = fields.get("file");
        const purpose = fields.get("purpose")?.data.toString("utf8");
        if (!file)
          return error(400, "Missing required parameter: 'file'.", "file", "missing_required_parameter");
        if (!purpose)
          return error(
            400,
            "Missing required parameter: 'purpose'.",
            "purpose",
            "missing_required_parameter",
          );
        const filename = file.filename ?? "upload";
        if (purpose === "batch" && !filename.endsWith(".jsonl"))
          return error(400, "Invalid file format for Batch API. Must be .jsonl");
        return { status: 200, json: storeFile(Buffer.from(file.data), filename, purpose) };
      },
    },
    {
      method: "GET",
      pattern: /^\/v1\/files\/([^/]+)$/,
      name: "files.retrieve",
      handle: (ctx) => {
        const file = files.get(ctx.params[0]!);
        return file ? { status: 200, json: file.object } : noFile(ctx);
      },
    },
    {
      method: "GET",
      pattern: /^\/v1\/files\/([^/]+)\/content$/,
      name: "files.content",
      handle: (ctx) => {
        const file = files.get(ctx.params[0]!);
        return file ? { status: 200, raw: file.content, type: "application/octet-stream" } : noFile(ctx);
      },
    },
    {
      method: "POST",
      pattern: /^\/v1\/batches$/,
      name: "batches.create",
      handle: (ctx) => {
        const body = jsonBody(ctx.body);
        if (!body) return error(400, "We could not parse the JSON body of your request.");
        const { input_file_id, endpoint, completion_window, metadata } = body;
        for (const [key, value] of Object.entries({ input_file_id, endpoint, completion_window }))
          if (typeof value !== "string")
            return error(400, `Missing required parameter: '${key}'.`, key, "missing_required_parameter");
        if (endpoint !== ENDPOINT)
          return error(
            400,
            `Invalid value: '${endpoint}'. Supported values are: '${ENDPOINT}'.`,
            "endpoint",
            "invalid_value",
          );
        if (completion_window !== "24h")
          return error(
            400,
            `Invalid value: '${completion_window}'. Supported values are: '24h'.`,
            "completion_window",
            "invalid_value",
          );
        const file = files.get(input_file_id as string);
        const checked: { lines: BatchLine[]; errors: BatchError[] } = file
          ? validate(file.content.toString("utf8"))
          : {
              lines: [],
              errors: [
                {
                  code: "invalid_request",
                  message: `Cannot find file ${input_file_id}.`,
                  param: "file_id",
                  line: null,
                },
              ],
            };
        if (file && state.options.forgetInputs) file.content = Buffer.alloc(0);
        const id = `batch_${hex(16)}`;
        metas.set(id, {
          inputFileId: input_file_id as string,
          completionWindow: completion_window,
          metadata,
          outputFileId: null,
          errorFileId: null,
          finalized: false,
        });
        const job = state.newJob(
          "openai",
          id,
          checked.lines,
          checked.errors.length ? checked.errors : undefined,
        );
        return { status: 200, json: render(job) };
      },
    },
    {
      method: "GET",
      pattern: /^\/v1\/batches$/,
      name: "batches.list",
      handle: async (ctx) => {
        const all = [...state.jobs.values()].filter((j) => j.provider === "openai").reverse();
        const after = ctx.query.get("after");
        const from = after ? all.findIndex((j) => j.id === after) + 1 : 0;
        const limit = Math.min(100, Math.max(1, Number(ctx.query.get("limit") ?? 20) || 20));
        const page = all.slice(from, from + limit);
        await Promise.all(page.map((j) => advance(j, state.options, false)));
        const data = page.map(render);
        return {
          status: 200,
          json: {
            object: "list",
            data,
            first_id: data[0]?.id ?? null,
            last_id: data.at(-1)?.id ?? null,
            has_more: from + limit < all.length,
          },
        };
      },
    },
    {
      method: "GET",
      pattern: /^\/v1\/batches\/([^/]+)$/,
      name: "batches.retrieve",
      handle: async (ctx) => {
        const job = find(ctx);
        if (!job) return noBatch(ctx);
        await advance(job, state.options, true);
        return { status: 200, json: render(job) };
      },
    },
    {
      method: "POST",
      pattern: /^\/v1\/batches\/([^/]+)\/cancel$/,
      name: "batches.cancel",
      handle: async (ctx) => {
        const job = find(ctx);
        if (!job) return noBatch(ctx);
        await advance(job, state.options, false);
        if (!(await cancel(job)) && job.ending?.status !== "cancelled")
          return error(409, `Cannot cancel a batch with status '${job.ending?.status}'.`);
        return { status: 200, json: render(job) };
      },
    },
    {
      method: "POST",
      pattern: /^\/v1\/chat\/completions$/,
      name: "chat.completions",
      handle: async (ctx) => {
        const body = jsonBody(ctx.body);
        if (!body) return error(400, "We could not parse the JSON body of your request.");
        if (body.stream === true) return error(400, "This test server does not stream.", "stream");
        const a = await answerOf(state.options, { provider: "openai", customId: "", body });
        return isSuccess(a)
          ? { status: 200, json: completion(body, a) }
          : { status: a.status, json: errorBody(a) };
      },
    },
  ];
}
