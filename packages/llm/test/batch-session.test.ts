import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BadRequestError, BatchExpiredError, BudgetExceededError, type LanguageModel } from "@lmcot/core";
import { afterEach, describe, expect, it } from "vitest";
import { cancelBatches } from "../src/batch/admin";
import { BatchSession, type BatchSessionOptions } from "../src/batch/session";
import { createModel } from "../src/create";
import { costUsd } from "../src/prices";
import { type BatchServer, type BatchServerOptions, batchServer } from "../src/testing/index";

const KEY = "sk-test-0123456789abcdefghij";
let servers: BatchServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function setup(
  provider: "openai" | "anthropic",
  server: BatchServerOptions = {},
  session: Partial<BatchSessionOptions> = {},
) {
  const s = await batchServer({ apiKey: KEY, ...server });
  servers.push(s);
  const dir = mkdtempSync(join(tmpdir(), "lmcot-batch-"));
  const make = (extra: Partial<BatchSessionOptions> = {}) => {
    const events: string[] = [];
    const batch = new BatchSession({
      dir,
      pollIntervalMs: 5,
      onEvent: (e) => events.push(e.type),
      ...session,
      ...extra,
    });
    const model = createModel(
      provider === "openai" ? "openai:gpt-4o-mini" : "anthropic:claude-3-5-haiku-latest",
      {
        apiKey: KEY,
        baseURL: provider === "openai" ? s.openaiBaseURL : s.anthropicBaseURL,
        batch,
        retries: 0,
      },
    );
    return { batch, model, events };
  };
  return {
    server: s,
    dir,
    make,
    journal: () =>
      readFileSync(join(dir, "batches.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l)),
  };
}

const ask = (model: LanguageModel, q: string, signal?: AbortSignal) =>
  model.generate({ prompt: q, maxTokens: 16, temperature: 0, ...(signal ? { signal } : {}) });

/** Runs one tracked task per question; each task's result or error, in order. */
const run = (batch: BatchSession, work: (q: string) => Promise<unknown>, questions: string[]) =>
  Promise.allSettled(questions.map((q) => batch.track(() => work(q))));

const questions = ["q1 alpha", "q2 bravo", "q3 charlie", "q4 delta", "q5 echo"];

for (const provider of ["openai", "anthropic"] as const) {
  describe(`${provider} batches`, () => {
    it("sends every waiting call as one batch, results by custom id (out of order), at batch prices", async () => {
      const { server, make, journal, dir } = await setup(provider, { shuffle: true });
      const { batch, model } = make();
      const results = await run(batch, (q) => ask(model, q), questions);
      expect(server.created).toHaveLength(1);
      expect(server.created[0]!.customIds).toHaveLength(5);
      for (const [i, r] of results.entries()) {
        expect(r.status).toBe("fulfilled");
        const value = (
          r as PromiseFulfilledResult<{
            text: string;
            costUsd: number;
            usage: { inputTokens: number; outputTokens: number };
          }>
        ).value;
        expect(value.text).toBe(`answer: ${questions[i]}`);
        const online = costUsd(model.id, value.usage)!;
        expect(value.costUsd).toBeCloseTo(online / 2, 12);
      }
      expect(model.meter.costUsd).toBeGreaterThan(0);
      const events = journal().map((e) => e.event);
      expect(events).toEqual(["submitting", "submitted", "ended", "collected"]);
      const collected = journal()[3];
      expect(readFileSync(join(dir, collected.file), "utf8").trim().split("\n")).toHaveLength(5);
    });

    it("goes in rounds: every item's first call, then every item's second call", async () => {
      const { server, make } = await setup(provider);
      const { batch, model } = make();
      const results = await run(
        batch,
        async (q) => {
          const first = await ask(model, q);
          return ask(model, `then ${first.text}`);
        },
        questions,
      );
      expect(results.every((r) => r.status === "fulfilled")).toBe(true);
      expect(server.created.map((b) => b.customIds.length)).toEqual([5, 5]);
    });

    it("splits a grid larger than one batch's limits", async () => {
      const { server, make } = await setup(provider, {}, { limits: { maxRequests: 2 } });
      const { batch, model } = make();
      const results = await run(batch, (q) => ask(model, q), questions);
      expect(results.every((r) => r.status === "fulfilled")).toBe(true);
      expect(server.created.map((b) => b.customIds.length)).toEqual([2, 2, 1]);
      const bytes = await setup(provider, {}, { limits: { maxBytes: 600 } });
      const second = bytes.make();
      await run(second.batch, (q) => ask(second.model, q), questions);
      expect(bytes.server.created.length).toBeGreaterThan(1);
      expect(bytes.server.created.flatMap((b) => b.customIds)).toHaveLength(5);
    });

    it("a request-level 400 fails its item; a 500 goes into a follow-up batch", async () => {
      const seen = new Map<string, number>();
      const { server, make } = await setup(provider, {
        answer: ({ body }) => {
          const text = JSON.stringify(body);
          const n = (seen.get(text) ?? 0) + 1;
          seen.set(text, n);
          if (text.includes("q2")) return { status: 400, message: "max_tokens is too large" };
          if (text.includes("q3") && n === 1) return { status: 500, message: "internal error" };
          return { text: "ok" };
        },
      });
      const { batch, model, events } = make();
      const results = await run(batch, (q) => ask(model, q), questions);
      expect(results.map((r) => r.status)).toEqual([
        "fulfilled",
        "rejected",
        "fulfilled",
        "fulfilled",
        "fulfilled",
      ]);
      const error = (results[1] as PromiseRejectedResult).reason;
      expect(BadRequestError.isInstance(error)).toBe(true);
      expect(error.message).toContain("max_tokens is too large");
      expect(server.created.map((b) => b.customIds.length)).toEqual([5, 1]);
      expect(events).toContain("follow-up");
    });

    it("an expired batch: what ran is kept, the rest goes into a follow-up batch", async () => {
      const { server, make } = await setup(provider, {
        fate: ({ index }) => (index === 0 ? { status: "expired", finished: 2 } : { status: "completed" }),
      });
      const { batch, model } = make();
      const results = await run(batch, (q) => ask(model, q), questions);
      expect(results.every((r) => r.status === "fulfilled")).toBe(true);
      expect(server.created.map((b) => b.customIds.length)).toEqual([5, 3]);
    });

    it("expired three times: the item fails as batch_expired; with fallback online it is answered online", async () => {
      const { server, make } = await setup(provider, { fate: () => ({ status: "expired", finished: 0 }) });
      const { batch, model } = make();
      const [result] = await run(batch, (q) => ask(model, q), ["q1"]);
      expect(result!.status).toBe("rejected");
      expect(BatchExpiredError.isInstance((result as PromiseRejectedResult).reason)).toBe(true);
      expect(server.created).toHaveLength(3);
      const online = make({ fallback: "online" });
      const [answered] = await run(online.batch, (q) => ask(online.model, q), ["q9"]);
      expect(answered!.status).toBe("fulfilled");
      expect(server.calls[provider === "openai" ? "chat.completions" : "messages"]).toBe(1);
    });

    it("a refused key at submission fails every call in it as authentication, nothing pending", async () => {
      const { server, make } = await setup(provider);
      const { batch } = make();
      const model = createModel(
        provider === "openai" ? "openai:gpt-4o-mini" : "anthropic:claude-3-5-haiku-latest",
        {
          apiKey: "sk-wrong-0123456789abcdefghij",
          baseURL: provider === "openai" ? server.openaiBaseURL : server.anthropicBaseURL,
          batch,
          retries: 0,
        },
      );
      const results = await run(batch, (q) => ask(model, q), questions);
      expect(server.created).toHaveLength(0);
      for (const r of results) {
        const error = (r as PromiseRejectedResult).reason;
        expect(error.code).toBe("authentication");
        expect(error.message).not.toContain("sk-wrong-0123456789abcdefghij");
      }
    });

    it("a journal that cannot be read or written: nothing is submitted, every call says why", async () => {
      const { server, make, dir } = await setup(provider);
      mkdirSync(join(dir, "batches.jsonl"));
      const { batch, model } = make();
      const results = await run(batch, (q) => ask(model, q), questions);
      expect(server.created).toHaveLength(0);
      for (const r of results)
        expect((r as PromiseRejectedResult).reason.message).toMatch(
          /could not read .*batches\.jsonl \(EISDIR.*nothing is/,
        );
    });

    it("results that cannot be saved are used from memory; a re-run downloads them again", async () => {
      const { server, make, dir, journal } = await setup(provider);
      writeFileSync(join(dir, "batches"), "in the way");
      const { batch, model, events } = make();
      const results = await run(batch, (q) => ask(model, q), questions);
      expect(results.every((r) => r.status === "fulfilled")).toBe(true);
      expect(events).toContain("notice");
      expect(journal().map((e) => e.event)).toEqual(["submitting", "submitted", "ended"]);
      rmSync(join(dir, "batches"));
      const again = make();
      expect(
        (await run(again.batch, (q) => ask(again.model, q), questions)).every(
          (r) => r.status === "fulfilled",
        ),
      ).toBe(true);
      expect(server.created).toHaveLength(1);
      expect(journal().map((e) => e.event)).toContain("collected");
    });

    it("a budget too small for the batch submits nothing", async () => {
      const { server, make } = await setup(provider, {}, { budgetUsd: 1e-9 });
      const { batch, model } = make();
      const results = await run(batch, (q) => ask(model, q), questions);
      expect(server.created).toHaveLength(0);
      for (const r of results)
        expect(BudgetExceededError.isInstance((r as PromiseRejectedResult).reason)).toBe(true);
    });

    it("stopped while waiting, a new session re-attaches to the batch instead of submitting again", async () => {
      const { server, make, journal } = await setup(provider, { pollsToEnd: 1_000_000 });
      const stop = new AbortController();
      const first = make({ signal: stop.signal });
      const pending = run(first.batch, (q) => ask(first.model, q, stop.signal), questions);
      await until(
        () => server.calls[provider === "openai" ? "batches.retrieve" : "messages.batches.retrieve"]! >= 2,
      );
      expect(first.batch.runningBatches()).toHaveLength(1);
      stop.abort();
      expect((await pending).every((r) => r.status === "rejected")).toBe(true);
      expect(journal().map((e) => e.event)).toEqual(["submitting", "submitted"]);

      const second = make();
      const resumed = run(second.batch, (q) => ask(second.model, q), questions);
      await until(() => second.events.includes("attached"));
      server.end(server.created[0]!.id);
      expect((await resumed).every((r) => r.status === "fulfilled")).toBe(true);
      expect(server.created).toHaveLength(1);

      // Third time: answered from the saved results file, with no network call at all.
      const before = JSON.stringify(server.calls);
      const third = make();
      expect(
        (await run(third.batch, (q) => ask(third.model, q), questions)).every(
          (r) => r.status === "fulfilled",
        ),
      ).toBe(true);
      expect(JSON.stringify(server.calls)).toBe(before);
    });

    it("a batch cancelled between runs (lmcot batch cancel): the next run sends the cancelled requests again", async () => {
      const { server, make, dir } = await setup(provider, { pollsToEnd: 1_000_000 });
      const stop = new AbortController();
      const first = make({ signal: stop.signal });
      const pending = run(first.batch, (q) => ask(first.model, q, stop.signal), questions);
      await until(() => first.batch.runningBatches().length === 1);
      stop.abort();
      await pending;
      const [cancelled] = await cancelBatches(dir, { env: server.env(KEY) });
      expect(cancelled?.outcome).toBe("cancelling");
      const second = make({ pollIntervalMs: 5 });
      const resumed = run(second.batch, (q) => ask(second.model, q), questions);
      await until(() => server.created.length === 2);
      server.end(server.created[1]!.id);
      expect((await resumed).every((r) => r.status === "fulfilled")).toBe(true);
      expect(server.created.map((b) => b.customIds.length)).toEqual([5, 5]);
    });

    it("a batch created by a process killed before it wrote the id is found, not submitted again", async () => {
      const { server, make, dir, journal } = await setup(provider, { pollsToEnd: 1_000_000 });
      const stop = new AbortController();
      const first = make({ signal: stop.signal });
      const pending = run(first.batch, (q) => ask(first.model, q, stop.signal), questions);
      await until(() => server.created.length === 1);
      await until(() => journal().length >= 2);
      stop.abort();
      await pending;
      // As if the process died between creating the batch and recording its id.
      const lines = readFileSync(join(dir, "batches.jsonl"), "utf8").trim().split("\n");
      writeFileSync(join(dir, "batches.jsonl"), `${lines[0]}\n`);
      const second = make();
      const resumed = run(second.batch, (q) => ask(second.model, q), questions);
      await until(() => second.events.includes("attached"));
      server.end(server.created[0]!.id);
      expect((await resumed).every((r) => r.status === "fulfilled")).toBe(true);
      expect(server.created).toHaveLength(1);
      expect(journal().find((e) => e.event === "submitted")?.adopted).toBe(true);
      // A submission that never reached the provider: said, and its requests sent.
      appendFileSync(
        join(dir, "batches.jsonl"),
        `${JSON.stringify({ event: "submitting", submission: "lmcot-lost", provider, model: second.model.id, customIds: ["x"], at: Date.now() })}\n`,
      );
      const notices: string[] = [];
      const third = new BatchSession({ dir, onEvent: (e) => e.type === "notice" && notices.push(e.message) });
      const model = createModel(second.model.id, {
        apiKey: KEY,
        baseURL: provider === "openai" ? server.openaiBaseURL : server.anthropicBaseURL,
        batch: third,
      });
      await run(third, (q) => ask(model, q), ["q1 alpha"]);
      expect(notices.join("\n")).toMatch(
        /submission lmcot-lost \(1 requests to .*\), left unfinished by the last run, is not at the provider/,
      );
      expect(
        journal().find((e) => e.submission === "lmcot-lost" && e.event === "not-submitted"),
      ).toBeDefined();
      appendFileSync(join(dir, "batches.jsonl"), "{torn");
      expect(() => new BatchSession({ dir }).runningBatches()).not.toThrow();
    });
  });
}

async function until(condition: () => boolean, ms = 10_000) {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 5));
  }
}
