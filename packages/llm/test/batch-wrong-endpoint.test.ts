import { appendFileSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  InvalidResponseError,
  isFatalError,
  type LanguageModel,
  ServerError,
  TimeoutError,
} from "@lmcot/core";
import { afterEach, describe, expect, it } from "vitest";
import { batchStatuses, listBatches } from "../src/batch/admin";
import { readJournal } from "../src/batch/journal";
import { BatchSession, type BatchSessionOptions } from "../src/batch/session";
import { createModel } from "../src/create";
import {
  type BatchServerOptions,
  batchServer,
  type FaultServerOptions,
  faultServer,
  type WrongEndpoint,
} from "../src/testing/index";

const KEY = "sk-test-0123456789abcdefghij";
let servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

const questions = ["q1 alpha", "q2 bravo", "q3 charlie", "q4 delta"];

/** A batched model on `baseURL` whose session writes to a fresh run directory. */
function batched(
  provider: "openai" | "anthropic",
  baseURL: string,
  extra: Partial<BatchSessionOptions> = {},
) {
  const dir = mkdtempSync(join(tmpdir(), "lmcot-batch-wrong-"));
  const notices: string[] = [];
  const session = new BatchSession({
    dir,
    pollIntervalMs: 5,
    onEvent: (e) => {
      if (e.type === "notice") notices.push(e.message);
    },
    ...extra,
  });
  const model = createModel(
    provider === "openai" ? "openai:gpt-4o-mini" : "anthropic:claude-3-5-haiku-latest",
    { apiKey: KEY, baseURL, batch: session, retries: 4 },
  );
  return { dir, session, model, notices };
}

/** One tracked item per question, each asking once; every outcome, in order. */
const runAll = (session: BatchSession, model: LanguageModel, qs = questions) =>
  Promise.allSettled(
    qs.map((q) => session.track(() => model.generate({ prompt: q, maxTokens: 8, temperature: 0 }))),
  );

const reasons = (outcomes: PromiseSettledResult<unknown>[]) =>
  outcomes.map((o) => (o.status === "rejected" ? o.reason : undefined));

async function web(options: FaultServerOptions) {
  const s = await faultServer(options);
  servers.push(s);
  return s;
}

async function batches(options: BatchServerOptions) {
  const s = await batchServer({ apiKey: KEY, ...options });
  servers.push(s);
  return s;
}

describe.each(["openai", "anthropic"] as const)(
  "%s batches against a server that is not the batch API",
  (provider) => {
    it.each(["html", "html-501", "foreign-json"] as WrongEndpoint[])(
      "%s: the submission fails at once with a fatal InvalidResponseError and is journaled as not submitted, never with an id",
      async (fault) => {
        const s = await web({ fault });
        const base = provider === "openai" ? `${s.url}/v1` : s.url;
        const { dir, session, model } = batched(provider, base);
        const errors = reasons(await runAll(session, model));
        for (const e of errors) {
          expect(InvalidResponseError.isInstance(e)).toBe(true);
          expect(isFatalError(e)).toBe(true);
          expect((e as Error).message).toContain(base);
          expect((e as Error).message).toMatch(/check the base URL/);
        }
        // Not retried (one upload or one create), and no poll of a batch called "undefined".
        expect(s.seen.length).toBe(1);
        expect(s.seen.some((r) => r.url.includes("undefined"))).toBe(false);
        const journal = readFileSync(join(dir, "batches.jsonl"), "utf8");
        expect(journal).not.toMatch(/"event":"submitted"/);
        expect(readJournal(join(dir, "batches.jsonl")).map((j) => j.state)).toEqual(["not-submitted"]);
      },
    );

    it("a server that hangs does not hold the upload past --timeout / --total-timeout", async () => {
      const s = await web({ fault: "hang" });
      const base = provider === "openai" ? `${s.url}/v1` : s.url;
      const { session, model } = batched(provider, base, {
        policy: { timeoutMs: 300, totalTimeoutMs: 800, retries: 4, baseDelayMs: 1 },
      });
      const errors = reasons(await runAll(session, model, ["q1"]));
      expect(TimeoutError.isInstance(errors[0])).toBe(true);
      // The run's caps, not the 15-minute transfer floor there was: nothing is allowed for a few bytes.
      expect((errors[0] as Error).message).toMatch(/batch submission: no answer within the 0\.8 s total cap/);
    });
  },
);

describe("polling a batch", () => {
  it("gives up after maxFailedPolls failed looks in a row, with the reason", async () => {
    const s = await batches({
      pollsToEnd: 1000,
      misbehave: (route, i) => (route === "batches.retrieve" && i >= 1 ? 500 : undefined),
    });
    const { session, model, notices } = batched("openai", s.openaiBaseURL, {
      maxFailedPolls: 3,
      policy: { retries: 0 },
    });
    const errors = reasons(await runAll(session, model, ["q1", "q2"]));
    for (const e of errors) {
      expect(ServerError.isInstance(e)).toBe(true);
      expect((e as Error).message).toMatch(
        /gave up after 3 failed looks at its status in a row .*the last: openai: 500/,
      );
    }
    // The first look succeeded; then three failed ones, and no more.
    expect(s.calls["batches.retrieve"]).toBe(4);
    expect(notices.filter((n) => /could not read its status/.test(n))).toHaveLength(2);
  });

  it("a poll answered by a web page stops the calls at once (fatal), not after many polls", async () => {
    const s = await batches({
      pollsToEnd: 1000,
      misbehave: (route, i) => (route === "batches.retrieve" && i >= 1 ? "html" : undefined),
    });
    const { session, model } = batched("openai", s.openaiBaseURL, { maxFailedPolls: 50 });
    const errors = reasons(await runAll(session, model, ["q1"]));
    expect(InvalidResponseError.isInstance(errors[0])).toBe(true);
    expect(s.calls["batches.retrieve"]).toBe(2);
  });

  it("the results download honours the call policy's timeout", async () => {
    const s = await batches({ misbehave: (route) => (route === "files.content" ? "hang" : undefined) });
    const { session, model } = batched("openai", s.openaiBaseURL, {
      policy: { timeoutMs: 200, totalTimeoutMs: 600, baseDelayMs: 1 },
    });
    const errors = reasons(await runAll(session, model, ["q1"]));
    expect(TimeoutError.isInstance(errors[0])).toBe(true);
    expect((errors[0] as Error).message).toMatch(/no answer within the 0\.6\d* s total cap/);
  });
});

describe("after a fatal error", () => {
  it("no queued batch is submitted: the second chunk fails with the first one's error", async () => {
    const s = await batches({ misbehave: (route) => (route === "batches.create" ? "html" : undefined) });
    const { session, model } = batched("openai", s.openaiBaseURL, { limits: { maxRequests: 2 } });
    const errors = reasons(await runAll(session, model));
    expect(errors.every((e) => InvalidResponseError.isInstance(e))).toBe(true);
    // Two chunks of two were queued; only the first was uploaded and created.
    expect(s.calls["files.create"]).toBe(1);
    expect(s.calls["batches.create"]).toBe(1);
  });
});

describe("a journal that records a batch without an id", () => {
  it("lists it as failed with its reason, asks no server about it, and a re-run submits its requests again", async () => {
    const s = await batches({});
    const { dir, session, model } = batched("openai", s.openaiBaseURL);
    // What an older lmcot wrote after a web page answered its batch create.
    const at = Date.now();
    const customIds = ["c1", "c2"];
    appendFileSync(
      join(dir, "batches.jsonl"),
      `${JSON.stringify({ event: "submitting", submission: "lmcot-old", provider: "openai", model: "openai:gpt-4o-mini", customIds, at })}\n${JSON.stringify({ event: "submitted", submission: "lmcot-old", at })}\n${JSON.stringify({ event: "submitted", submission: "lmcot-old", batchId: "undefined", at })}\n`,
    );
    const [listed] = listBatches(dir);
    expect(listed).toMatchObject({ state: "failed", id: "lmcot-old" });
    expect(listed!.reason).toMatch(/without a batch id.*check the base URL/);
    const statuses = await batchStatuses(dir, {
      env: { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: s.openaiBaseURL },
    });
    expect(statuses[0]).toMatchObject({ state: "failed" });
    expect(s.calls["batches.retrieve"]).toBeUndefined();
    const results = await runAll(session, model, ["q1"]);
    expect(results[0]!.status).toBe("fulfilled");
    expect(s.calls["batches.retrieve"]).toBeGreaterThan(0);
  });
});
