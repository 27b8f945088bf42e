import Anthropic from "@anthropic-ai/sdk";
import OpenAI, { toFile } from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { type BatchServer, type BatchServerOptions, batchServer } from "../src/testing/index";

const KEY = "sk-test-batch";
let server: BatchServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const start = async (options: BatchServerOptions = {}) => {
  server = await batchServer({ apiKey: KEY, ...options });
  return {
    s: server,
    openai: new OpenAI({ apiKey: KEY, baseURL: server.openaiBaseURL, maxRetries: 0 }),
    anthropic: new Anthropic({ apiKey: KEY, baseURL: server.anthropicBaseURL, maxRetries: 0 }),
  };
};

const chatLine = (id: string, text: string, model = "gpt-4o-mini") => ({
  custom_id: id,
  method: "POST",
  url: "/v1/chat/completions",
  body: { model, messages: [{ role: "user", content: text }] },
});
const jsonl = (lines: unknown[]) =>
  lines.map((l) => (typeof l === "string" ? l : JSON.stringify(l))).join("\n");

async function submit(openai: OpenAI, lines: unknown[]) {
  const file = await openai.files.create({
    file: await toFile(Buffer.from(jsonl(lines)), "in.jsonl"),
    purpose: "batch",
  });
  return openai.batches.create({
    input_file_id: file.id,
    endpoint: "/v1/chat/completions",
    completion_window: "24h",
  });
}
const readLines = async (openai: OpenAI, id: string | null | undefined) =>
  id
    ? (await (await openai.files.content(id)).text())
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l))
    : [];

const messageRequest = (id: string, text: string) => ({
  custom_id: id,
  params: {
    model: "claude-3-5-haiku-latest",
    max_tokens: 64,
    messages: [{ role: "user" as const, content: text }],
  },
});
async function collect(anthropic: Anthropic, id: string) {
  const out: Anthropic.Messages.MessageBatchIndividualResponse[] = [];
  for await (const r of await anthropic.messages.batches.results(id)) out.push(r);
  return out;
}

describe("batchServer: OpenAI Batch API", () => {
  it("uploads, runs and returns a completed batch, results matched by custom_id", async () => {
    const { s, openai } = await start({ pollsToEnd: 3 });
    const file = await openai.files.create({
      file: await toFile(
        Buffer.from(jsonl([chatLine("a", "first question"), chatLine("b", "second")])),
        "in.jsonl",
      ),
      purpose: "batch",
    });
    expect(file).toMatchObject({
      object: "file",
      purpose: "batch",
      status: "processed",
      filename: "in.jsonl",
    });
    expect(file.bytes).toBeGreaterThan(100);
    expect((await openai.files.retrieve(file.id)).id).toBe(file.id);
    const created = await openai.batches.create({
      input_file_id: file.id,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
      metadata: { run: "r1" },
    });
    expect(created).toMatchObject({
      object: "batch",
      status: "validating",
      input_file_id: file.id,
      output_file_id: null,
      errors: null,
      metadata: { run: "r1" },
      request_counts: { total: 2, completed: 0, failed: 0 },
    });
    expect(created.id).toMatch(/^batch_/);
    expect(created.expires_at! - created.created_at).toBe(86_400);

    expect((await openai.batches.retrieve(created.id)).status).toBe("in_progress");
    const finalizing = await openai.batches.retrieve(created.id);
    expect(finalizing.status).toBe("finalizing");
    expect(finalizing.request_counts).toEqual({ total: 2, completed: 2, failed: 0 });
    const done = await openai.batches.retrieve(created.id);
    expect(done).toMatchObject({ status: "completed", error_file_id: null, failed_at: null });
    expect(done.completed_at).toBeGreaterThanOrEqual(done.created_at);
    expect(done.usage).toMatchObject({ input_tokens: 20, output_tokens: 6, total_tokens: 26 });

    const out = await readLines(openai, done.output_file_id);
    expect(out.map((l) => l.custom_id)).toEqual(["a", "b"]);
    const byId = Object.fromEntries(out.map((l) => [l.custom_id, l]));
    expect(byId.a.id).toMatch(/^batch_req_/);
    expect(byId.a.error).toBeNull();
    expect(byId.a.response.status_code).toBe(200);
    expect(byId.a.response.body.object).toBe("chat.completion");
    expect(byId.a.response.body.choices[0].message.content).toBe("answer: first question");
    expect(byId.b.response.body.choices[0].message.content).toBe("answer: second");
    expect(byId.b.response.body.usage).toEqual({ prompt_tokens: 10, completion_tokens: 3, total_tokens: 13 });
    expect((await openai.files.retrieve(done.output_file_id!)).purpose).toBe("batch_output");
    expect(s.created).toEqual([
      { provider: "openai", id: created.id, customIds: ["a", "b"], model: "gpt-4o-mini" },
    ]);
    expect(s.calls).toMatchObject({
      "files.create": 1,
      "batches.create": 1,
      "batches.retrieve": 3,
      "files.content": 1,
    });
  });

  it("puts request-level errors in the error file", async () => {
    const { openai } = await start({
      answer: (r) =>
        r.customId === "bad" ? { status: 400, message: "max_tokens is too large" } : { text: "ok" },
    });
    const batch = await submit(openai, [chatLine("good", "x"), chatLine("bad", "y")]);
    const done = await openai.batches.retrieve(batch.id);
    expect(done).toMatchObject({
      status: "completed",
      request_counts: { total: 2, completed: 1, failed: 1 },
    });
    expect((await readLines(openai, done.output_file_id)).map((l) => l.custom_id)).toEqual(["good"]);
    const [err] = await readLines(openai, done.error_file_id);
    expect(err).toMatchObject({
      custom_id: "bad",
      error: null,
      response: {
        status_code: 400,
        body: {
          error: {
            message: "max_tokens is too large",
            type: "invalid_request_error",
            param: null,
            code: null,
          },
        },
      },
    });
    expect(err.response.request_id).toMatch(/^req_/);
  });

  it("expires a batch after n requests, the rest batch_expired", async () => {
    const { openai } = await start({
      fate: ({ index }) => (index === 0 ? { status: "expired", finished: 1 } : { status: "completed" }),
    });
    const batch = await submit(openai, [chatLine("a", "1"), chatLine("b", "2"), chatLine("c", "3")]);
    const done = await openai.batches.retrieve(batch.id);
    expect(done.status).toBe("expired");
    expect(done.expired_at).toBeTypeOf("number");
    expect(done.request_counts).toEqual({ total: 3, completed: 1, failed: 0 });
    expect((await readLines(openai, done.output_file_id)).map((l) => l.custom_id)).toEqual(["a"]);
    const errors = await readLines(openai, done.error_file_id);
    expect(errors.map((l) => l.custom_id)).toEqual(["b", "c"]);
    expect(errors[0]).toMatchObject({
      response: null,
      error: {
        code: "batch_expired",
        message: "This request could not be executed before the completion window expired.",
      },
    });
    expect((await openai.batches.retrieve((await submit(openai, [chatLine("d", "4")])).id)).status).toBe(
      "completed",
    );
  });

  it("cancels: cancelling, then cancelled with unfinished requests batch_cancelled", async () => {
    const { s, openai } = await start({ pollsToEnd: 4 });
    const batch = await submit(openai, [
      chatLine("a", "1"),
      chatLine("b", "2"),
      chatLine("c", "3"),
      chatLine("d", "4"),
    ]);
    expect((await openai.batches.retrieve(batch.id)).request_counts?.completed).toBe(1);
    const cancelling = await openai.batches.cancel(batch.id);
    expect(cancelling.status).toBe("cancelling");
    expect(cancelling.cancelling_at).toBeTypeOf("number");
    const cancelled = await openai.batches.retrieve(batch.id);
    expect(cancelled).toMatchObject({
      status: "cancelled",
      request_counts: { total: 4, completed: 1, failed: 0 },
    });
    expect((await readLines(openai, cancelled.output_file_id)).map((l) => l.custom_id)).toEqual(["a"]);
    const errors = await readLines(openai, cancelled.error_file_id);
    expect(errors.map((l) => [l.custom_id, l.error.code])).toEqual([
      ["b", "batch_cancelled"],
      ["c", "batch_cancelled"],
      ["d", "batch_cancelled"],
    ]);
    const other = await submit(openai, [chatLine("x", "1")]);
    s.end(other.id);
    expect((await openai.batches.list({ limit: 1 })).data[0]?.status).toBe("completed");
    await expect(openai.batches.cancel(other.id)).rejects.toMatchObject({
      status: 409,
      message: expect.stringContaining("Cannot cancel a batch with status 'completed'."),
    });
  });

  it("shuffles output lines deterministically", async () => {
    const ids = Array.from({ length: 12 }, (_, i) => `r${i}`);
    const { openai } = await start({ shuffle: true });
    const batch = await submit(
      openai,
      ids.map((id) => chatLine(id, id)),
    );
    const out = await readLines(openai, (await openai.batches.retrieve(batch.id)).output_file_id);
    const order = out.map((l) => l.custom_id);
    expect(order).not.toEqual(ids);
    expect([...order].sort()).toEqual([...ids].sort());
    for (const l of out) expect(l.response.body.choices[0].message.content).toBe(`answer: ${l.custom_id}`);
  });

  it("fails a malformed input file with per-line errors", async () => {
    const { s, openai } = await start();
    const batch = await submit(openai, [
      chatLine("a", "1"),
      "{not json",
      { method: "POST", url: "/v1/chat/completions", body: { model: "gpt-4o-mini", messages: [] } },
      chatLine("a", "dup"),
      { ...chatLine("e", "1"), url: "/v1/embeddings" },
      chatLine("f", "1", "gpt-4o"),
    ]);
    expect(batch.status).toBe("validating");
    const failed = await openai.batches.retrieve(batch.id);
    expect(failed.status).toBe("failed");
    expect(failed.failed_at).toBeTypeOf("number");
    expect(failed.output_file_id).toBeNull();
    expect(failed.errors?.object).toBe("list");
    expect(failed.errors?.data?.map((e) => [e.line, e.code, e.param])).toEqual([
      [2, "invalid_json_line", null],
      [3, "missing_required_parameter", "custom_id"],
      [4, "duplicate_custom_id", "custom_id"],
      [5, "invalid_url", "url"],
      [6, "mismatched_model", "body.model"],
    ]);
    expect(failed.errors?.data?.[0]?.message).toBe("This line is not parseable as valid JSON.");
    await expect(
      openai.batches.create({ input_file_id: "x", endpoint: "/v1/embeddings", completion_window: "24h" }),
    ).rejects.toMatchObject({ status: 400, param: "endpoint", code: "invalid_value" });
    expect(s.created[0]?.customIds).toEqual(["a"]);
  });

  it("lists newest first with cursor pagination", async () => {
    const { openai } = await start();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await submit(openai, [chatLine(`c${i}`, "q")])).id);
    const first = await openai.batches.list({ limit: 2 });
    expect(first.data.map((b) => b.id)).toEqual([ids[4], ids[3]]);
    expect(first.has_more).toBe(true);
    const all: string[] = [];
    for await (const b of openai.batches.list({ limit: 2 })) all.push(b.id);
    expect(all).toEqual([...ids].reverse());
    server!.end(ids[0]!, {
      status: "failed",
      code: "token_limit_exceeded",
      message: "Enqueued token limit reached.",
    });
    const last = await openai.batches.list({ limit: 2, after: ids[1] });
    expect(last.data.map((b) => [b.id, b.status])).toEqual([[ids[0], "failed"]]);
    expect(last.data[0]?.errors?.data?.[0]).toMatchObject({ code: "token_limit_exceeded" });
    expect(last.has_more).toBe(false);
  });

  it("answers online chat completions with the same answer function", async () => {
    const { s, openai } = await start();
    const res = await openai.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "hello there" }],
    });
    expect(res.choices[0]?.message.content).toBe("answer: hello there");
    expect(res.usage?.total_tokens).toBe(13);
    expect(s.calls["chat.completions"]).toBe(1);
  });

  it("rejects a wrong key with OpenAI's 401 body", async () => {
    const { s } = await start();
    const bad = new OpenAI({ apiKey: "sk-wrong", baseURL: s.openaiBaseURL, maxRetries: 0 });
    await expect(bad.batches.list()).rejects.toMatchObject({
      status: 401,
      code: "invalid_api_key",
      type: "invalid_request_error",
    });
  });
});

describe("batchServer: Anthropic Message Batches API", () => {
  it("creates, polls and streams results matched by custom_id", async () => {
    const { s, anthropic } = await start({ pollsToEnd: 2 });
    const batch = await anthropic.messages.batches.create({
      requests: [messageRequest("q-1", "what is two plus two, really?"), messageRequest("q-2", "hi")],
    });
    expect(batch).toMatchObject({
      type: "message_batch",
      processing_status: "in_progress",
      request_counts: { processing: 2, succeeded: 0, errored: 0, canceled: 0, expired: 0 },
      ended_at: null,
      archived_at: null,
      cancel_initiated_at: null,
      results_url: null,
    });
    expect(batch.id).toMatch(/^msgbatch_/);
    expect(Date.parse(batch.expires_at) - Date.parse(batch.created_at)).toBe(86_400_000);
    await expect(anthropic.messages.batches.results(batch.id)).rejects.toThrow(/results_url/);
    await expect(anthropic.get(`/v1/messages/batches/${batch.id}/results`)).rejects.toMatchObject({
      status: 400,
      error: { type: "error", error: { type: "invalid_request_error" } },
    });
    const ended = await anthropic.messages.batches.retrieve(batch.id);
    expect(ended.processing_status).toBe("ended");
    expect(ended.request_counts).toEqual({
      processing: 0,
      succeeded: 2,
      errored: 0,
      canceled: 0,
      expired: 0,
    });
    expect(ended.results_url).toBe(`${s.url}/v1/messages/batches/${batch.id}/results`);
    const results = await collect(anthropic, batch.id);
    const byId = Object.fromEntries(results.map((r) => [r.custom_id, r.result]));
    expect(byId["q-1"]).toMatchObject({
      type: "succeeded",
      message: {
        type: "message",
        role: "assistant",
        model: "claude-3-5-haiku-latest",
        content: [{ type: "text", text: "answer: what is two plus two" }],
        usage: { input_tokens: 10, output_tokens: 3 },
      },
    });
    expect(byId["q-2"]).toMatchObject({ type: "succeeded", message: { content: [{ text: "answer: hi" }] } });
    // results() retrieves the batch first (a poll here), then GETs results_url.
    expect(s.calls).toMatchObject({ "messages.batches.retrieve": 3, "messages.batches.results": 2 });
  });

  it("reports request-level errors as errored results", async () => {
    const { anthropic } = await start({
      answer: (r) => (r.customId === "bad" ? { status: 429, message: "slow down" } : { text: "fine" }),
    });
    const batch = await anthropic.messages.batches.create({
      requests: [messageRequest("ok", "a"), messageRequest("bad", "b")],
    });
    expect((await anthropic.messages.batches.retrieve(batch.id)).request_counts).toMatchObject({
      succeeded: 1,
      errored: 1,
    });
    const byId = Object.fromEntries((await collect(anthropic, batch.id)).map((r) => [r.custom_id, r.result]));
    expect(byId.bad).toMatchObject({
      type: "errored",
      error: { type: "error", error: { type: "rate_limit_error", message: "slow down" } },
    });
    expect(byId.ok?.type).toBe("succeeded");
  });

  it("expires, cancels and shuffles", async () => {
    const { anthropic } = await start({
      pollsToEnd: 3,
      shuffle: true,
      fate: ({ index }) => (index === 0 ? { status: "expired", finished: 2 } : { status: "completed" }),
    });
    const ids = Array.from({ length: 10 }, (_, i) => `m${i}`);
    const expiring = await anthropic.messages.batches.create({
      requests: ids.map((id) => messageRequest(id, id)),
    });
    for (let i = 0; i < 3; i++) await anthropic.messages.batches.retrieve(expiring.id);
    const results = await collect(anthropic, expiring.id);
    expect(results.map((r) => r.custom_id)).not.toEqual(ids);
    expect(
      results
        .filter((r) => r.result.type === "succeeded")
        .map((r) => r.custom_id)
        .sort(),
    ).toEqual(["m0", "m1"]);
    expect(results.filter((r) => r.result.type === "expired")).toHaveLength(8);

    const cancelled = await anthropic.messages.batches.create({
      requests: ids.slice(0, 3).map((id) => messageRequest(id, id)),
    });
    const canceling = await anthropic.messages.batches.cancel(cancelled.id);
    expect(canceling.processing_status).toBe("canceling");
    expect(canceling.cancel_initiated_at).not.toBeNull();
    const ended = await anthropic.messages.batches.retrieve(cancelled.id);
    expect(ended.processing_status).toBe("ended");
    expect(ended.request_counts).toEqual({
      processing: 0,
      succeeded: 0,
      errored: 0,
      canceled: 3,
      expired: 0,
    });
    expect((await collect(anthropic, cancelled.id)).map((r) => r.result.type)).toEqual([
      "canceled",
      "canceled",
      "canceled",
    ]);
  });

  it("validates custom_id with Anthropic's 400 body", async () => {
    const { anthropic } = await start();
    for (const requests of [
      [messageRequest("has space", "x")],
      [messageRequest("a", "x"), messageRequest("a", "y")],
    ])
      await expect(anthropic.messages.batches.create({ requests })).rejects.toMatchObject({
        status: 400,
        error: { type: "error", error: { type: "invalid_request_error" } },
      });
  });

  it("lists newest first with after_id / before_id pages", async () => {
    const { anthropic } = await start();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await anthropic.messages.batches.create({ requests: [messageRequest(`c${i}`, "q")] })).id);
    const first = await anthropic.messages.batches.list({ limit: 2 });
    expect(first.data.map((b) => b.id)).toEqual([ids[4], ids[3]]);
    expect([first.has_more, first.first_id, first.last_id]).toEqual([true, ids[4], ids[3]]);
    const all: string[] = [];
    for await (const b of anthropic.messages.batches.list({ limit: 2 })) all.push(b.id);
    expect(all).toEqual([...ids].reverse());
    const before = await anthropic.messages.batches.list({ limit: 2, before_id: ids[1] });
    expect(before.data.map((b) => b.id)).toEqual([ids[3], ids[2]]);
    expect(before.has_more).toBe(true);
  });

  it("answers online messages and rejects a wrong key with 401", async () => {
    const { s, anthropic } = await start();
    const msg = await anthropic.messages.create({
      model: "claude-3-5-haiku-latest",
      max_tokens: 10,
      messages: [{ role: "user", content: [{ type: "text", text: "parts work" }] }],
    });
    expect(msg.content).toEqual([{ type: "text", text: "answer: parts work" }]);
    const bad = new Anthropic({ apiKey: "wrong", baseURL: s.anthropicBaseURL, maxRetries: 0 });
    await expect(bad.messages.batches.list()).rejects.toMatchObject({
      status: 401,
      error: { type: "error", error: { type: "authentication_error", message: "invalid x-api-key" } },
    });
    expect(s.calls).toMatchObject({ messages: 1, "messages.batches.list": 1 });
  });
});
