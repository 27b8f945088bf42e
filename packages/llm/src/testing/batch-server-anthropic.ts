// Anthropic Message Batches API. Wire format: @anthropic-ai/sdk src/resources/messages/batches.ts
// (MessageBatch, MessageBatchIndividualResponse; `results()` retrieves the batch, then GETs the
// absolute `results_url` with Accept: application/binary and splits the body into JSON lines) and
// src/core/pagination.ts (Page: `after_id` from last_id, `before_id` from first_id).
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
} from "./batch-server-jobs";
import { anthropicMessage } from "./server";
import { anthropicErrorBody } from "./wire";

const CUSTOM_ID = /^[a-zA-Z0-9_-]{1,64}$/;
const DAY_MS = 86_400_000;

const error = (status: number, message: string, type?: string): Reply => ({
  status,
  json: { ...anthropicErrorBody(status, message, type), request_id: `req_${hex(12)}` },
});

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

const message = (body: Record<string, unknown>, a: Extract<BatchAnswer, { text: string }>) =>
  anthropicMessage(a.text, "end_turn", {
    id: `msg_${hex(12)}`,
    model: String(body.model ?? "claude-3-5-haiku-20241022"),
    usage: { input_tokens: a.inputTokens ?? 10, output_tokens: a.outputTokens ?? 3 },
  });

const errored = (a: Extract<BatchAnswer, { status: number }>) => ({
  type: "errored",
  error: { ...anthropicErrorBody(a.status, a.message, a.type), request_id: `req_${hex(12)}` },
});

/** Each request's result once the batch has ended, in input order. */
function results(job: Job) {
  const ending = job.ending!;
  return job.lines.map((line, i) => {
    const a = job.answers[i];
    if (a) return isSuccess(a) ? { type: "succeeded", message: message(line.body, a) } : errored(a);
    if (ending.status === "failed")
      return errored({ status: 500, message: ending.message ?? "Internal server error" });
    return { type: ending.status === "cancelled" ? "canceled" : "expired" };
  });
}

function validate(body: Record<string, unknown> | undefined): BatchLine[] | string {
  const requests = body?.requests;
  if (!Array.isArray(requests) || !requests.length) return "requests: Field required";
  const seen = new Set<string>();
  const lines: BatchLine[] = [];
  for (const [i, r] of requests.entries()) {
    const customId = r?.custom_id;
    if (typeof customId !== "string" || !CUSTOM_ID.test(customId))
      return `requests.${i}.custom_id: String should match pattern '^[a-zA-Z0-9_-]{1,64}$'`;
    if (seen.has(customId))
      return `requests.${i}.custom_id: Duplicate custom_id '${customId}'; custom_id must be unique within a batch`;
    seen.add(customId);
    if (!r.params || typeof r.params !== "object") return `requests.${i}.params: Field required`;
    for (const key of ["model", "messages", "max_tokens"])
      if (r.params[key] === undefined) return `requests.${i}.params.${key}: Field required`;
    lines.push({ customId, body: r.params });
  }
  return lines;
}

export function anthropicBatchRoutes(state: BatchState): Route[] {
  const render = (job: Job) => {
    const ended = job.phase === "ended";
    const counts = { processing: job.lines.length, succeeded: 0, errored: 0, canceled: 0, expired: 0 };
    if (ended) {
      counts.processing = 0;
      for (const r of results(job)) counts[r.type as keyof typeof counts]++;
    }
    return {
      id: job.id,
      type: "message_batch",
      processing_status: ended ? "ended" : job.phase === "cancelling" ? "canceling" : "in_progress",
      request_counts: counts,
      ended_at: iso(job.ending?.at),
      created_at: iso(job.createdAt),
      expires_at: iso(job.createdAt + DAY_MS),
      archived_at: null,
      cancel_initiated_at: iso(job.cancellingAt),
      results_url: ended ? `${state.url}/v1/messages/batches/${job.id}/results` : null,
    };
  };
  const find = (ctx: RouteContext) => {
    const job = state.jobs.get(ctx.params[0]!);
    return job?.provider === "anthropic" ? job : undefined;
  };
  const noBatch = (ctx: RouteContext) =>
    error(404, `Message Batch ${ctx.params[0]} not found.`, "not_found_error");

  return [
    {
      method: "POST",
      pattern: /^\/v1\/messages\/batches$/,
      name: "messages.batches.create",
      handle: (ctx) => {
        const lines = validate(jsonBody(ctx.body));
        if (typeof lines === "string") return error(400, lines, "invalid_request_error");
        return { status: 200, json: render(state.newJob("anthropic", `msgbatch_${hex(12)}`, lines)) };
      },
    },
    {
      method: "GET",
      pattern: /^\/v1\/messages\/batches$/,
      name: "messages.batches.list",
      handle: async (ctx) => {
        const all = [...state.jobs.values()].filter((j) => j.provider === "anthropic").reverse();
        const limit = Math.min(1000, Math.max(1, Number(ctx.query.get("limit") ?? 20) || 20));
        const [after, before] = [ctx.query.get("after_id"), ctx.query.get("before_id")];
        let [from, to] = [0, limit];
        if (before) {
          to = Math.max(
            0,
            all.findIndex((j) => j.id === before),
          );
          from = Math.max(0, to - limit);
        } else if (after) {
          from = all.findIndex((j) => j.id === after) + 1;
          to = from + limit;
        }
        const page = all.slice(from, to);
        await Promise.all(page.map((j) => advance(j, state.options, false)));
        const data = page.map(render);
        const hasMore = before ? from > 0 : to < all.length;
        return {
          status: 200,
          json: { data, has_more: hasMore, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null },
        };
      },
    },
    {
      method: "GET",
      pattern: /^\/v1\/messages\/batches\/([^/]+)$/,
      name: "messages.batches.retrieve",
      handle: async (ctx) => {
        const job = find(ctx);
        if (!job) return noBatch(ctx);
        await advance(job, state.options, true);
        return { status: 200, json: render(job) };
      },
    },
    {
      method: "POST",
      pattern: /^\/v1\/messages\/batches\/([^/]+)\/cancel$/,
      name: "messages.batches.cancel",
      handle: async (ctx) => {
        const job = find(ctx);
        if (!job) return noBatch(ctx);
        await advance(job, state.options, false);
        if (!(await cancel(job)))
          return error(
            400,
            `Message Batch ${job.id} has already ended and cannot be canceled.`,
            "invalid_request_error",
          );
        return { status: 200, json: render(job) };
      },
    },
    {
      method: "GET",
      pattern: /^\/v1\/messages\/batches\/([^/]+)\/results$/,
      name: "messages.batches.results",
      handle: async (ctx) => {
        const job = find(ctx);
        if (!job) return noBatch(ctx);
        await advance(job, state.options, false);
        if (job.phase !== "ended")
          return error(
            400,
            `Message Batch ${job.id} has not ended processing; results are available once processing_status is 'ended'.`,
            "invalid_request_error",
          );
        const all = results(job);
        const lines = outputOrder(job, state.options.shuffle).map((i) =>
          JSON.stringify({ custom_id: job.lines[i]!.customId, result: all[i] }),
        );
        return { status: 200, raw: `${lines.join("\n")}\n`, type: "application/binary" };
      },
    },
    {
      method: "POST",
      pattern: /^\/v1\/messages$/,
      name: "messages",
      handle: async (ctx) => {
        const body = jsonBody(ctx.body);
        if (!body)
          return error(400, "There was an error parsing the body of your request.", "invalid_request_error");
        if (body.stream === true)
          return error(400, "This test server does not stream.", "invalid_request_error");
        const a = await answerOf(state.options, { provider: "anthropic", customId: "", body });
        if (isSuccess(a)) return { status: 200, json: message(body, a) };
        return { status: a.status, json: errored(a).error };
      },
    },
  ];
}
