import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AbortError, AuthenticationError, BadRequestError, RateLimitError, TimeoutError } from "@lmcot/core";
import { describe, expect, it } from "vitest";
import {
  createModel,
  diskCache,
  getModel,
  limit,
  retry,
  timeout,
  UsageMeter,
  usageMeter,
  wrapModel,
} from "../src/index";
import { withGenerate } from "../src/middleware/types";
import {
  anthropicError,
  anthropicMessage,
  delayed,
  FlakyLanguageModel,
  json,
  openaiCompletion,
  openaiError,
} from "../src/testing/index";
import { KEY, loopbackServers } from "./helpers";

const start = loopbackServers();
const openai = (url: string) => getModel("openai:gpt-4o-mini", { apiKey: KEY, baseURL: `${url}/v1` });
const recorder = () => {
  const delays: number[] = [];
  return { delays, sleep: async (ms: number) => void delays.push(ms) };
};

describe("retry", () => {
  it("waits what retry-after-ms says on a 429, then succeeds", async () => {
    const s = await start([
      openaiError(429, "slow down", { "retry-after-ms": "1500" }),
      json(200, openaiCompletion("ok")),
    ]);
    const r = recorder();
    const model = wrapModel(openai(s.url), [retry({ sleep: r.sleep })]);
    expect((await model.generate({ prompt: "x" })).text).toBe("ok");
    expect(s.seen).toHaveLength(2);
    expect(r.delays).toEqual([1500]);
  });

  it("backs off exponentially with full jitter on 500s", async () => {
    const s = await start([
      openaiError(500, "boom"),
      openaiError(500, "boom"),
      openaiError(502, "boom"),
      json(200, openaiCompletion("ok")),
    ]);
    const r = recorder();
    const model = wrapModel(openai(s.url), [retry({ sleep: r.sleep, random: () => 0.5, baseDelayMs: 400 })]);
    await model.generate({ prompt: "x" });
    expect(r.delays).toEqual([200, 400, 800]);
    expect(s.seen).toHaveLength(4);
  });

  it("retries Anthropic's 529 overloaded and gives up after maxRetries", async () => {
    const s = await start([anthropicError(529, "overloaded_error", "Overloaded")]);
    const r = recorder();
    const model = wrapModel(getModel("anthropic:claude-3-5-haiku-latest", { apiKey: KEY, baseURL: s.url }), [
      retry({ sleep: r.sleep, maxRetries: 2, random: () => 1 }),
    ]);
    const e = await model.generate({ prompt: "x" }).catch((x) => x);
    expect(e.code).toBe("overloaded");
    expect(s.seen).toHaveLength(3);
    expect(r.delays).toEqual([500, 1000]);
  });

  it("never retries authentication errors or aborts", async () => {
    const s = await start([openaiError(401, "no")]);
    const r = recorder();
    const model = wrapModel(openai(s.url), [retry({ sleep: r.sleep })]);
    expect(AuthenticationError.isInstance(await model.generate({ prompt: "x" }).catch((e) => e))).toBe(true);
    expect(s.seen).toHaveLength(1);
    const controller = new AbortController();
    const slow = await start([() => void controller.abort()]);
    const e = await wrapModel(openai(slow.url), [retry({ sleep: r.sleep })])
      .generate({ prompt: "x", signal: controller.signal })
      .catch((x) => x);
    expect(AbortError.isInstance(e)).toBe(true);
    expect(slow.seen).toHaveLength(1);
    expect(r.delays).toEqual([]);
  });

  it("recovers from a connection reset", async () => {
    const s = await start([(_r, res) => void res.socket?.destroy(), json(200, openaiCompletion("ok"))]);
    const model = wrapModel(openai(s.url), [retry(recorder())]);
    expect((await model.generate({ prompt: "x" })).text).toBe("ok");
  });
});

describe("FlakyLanguageModel (from @lmcot/llm/testing)", () => {
  it("plays typed errors then replies, so retry behaviour is testable without a server", async () => {
    const flaky = new FlakyLanguageModel([
      new RateLimitError("slow down", { retryAfterMs: 250 }),
      new RateLimitError("slow down"),
      "ok",
    ]);
    const r = recorder();
    const model = wrapModel(flaky, [retry({ sleep: r.sleep, random: () => 0.5, baseDelayMs: 100 })]);
    expect((await model.generate({ prompt: "x" })).text).toBe("ok");
    expect(flaky.calls).toBe(3);
    expect(r.delays).toEqual([250, 100]);
    const bad = new FlakyLanguageModel([new BadRequestError("no such model"), "never"]);
    await expect(wrapModel(bad, [retry({ sleep: r.sleep })]).generate({ prompt: "x" })).rejects.toThrow(
      "no such model",
    );
    expect(bad.calls).toBe(1);
  });
});

describe("timeout", () => {
  it("turns a slow response into a TimeoutError, retried per attempt", async () => {
    const s = await start([delayed(2000, json(200, openaiCompletion("late")))]);
    const r = recorder();
    const model = wrapModel(openai(s.url), [retry({ sleep: r.sleep, maxRetries: 1 }), timeout(100)]);
    const e = await model.generate({ prompt: "x" }).catch((x) => x);
    expect(TimeoutError.isInstance(e)).toBe(true);
    expect(s.seen).toHaveLength(2);
  });
});

describe("limit", () => {
  it("keeps at most `concurrency` calls in flight", async () => {
    const s = await start([delayed(40, json(200, openaiCompletion("ok")))]);
    let inFlight = 0;
    let peak = 0;
    const adapter = openai(s.url);
    const counted = withGenerate(adapter, async (request) => {
      peak = Math.max(peak, ++inFlight);
      try {
        return await adapter.generate(request);
      } finally {
        inFlight--;
      }
    });
    const model = wrapModel(counted, [limit({ concurrency: 2 })]);
    await Promise.all(Array.from({ length: 6 }, () => model.generate({ prompt: "x" })));
    expect(s.seen).toHaveLength(6);
    expect(peak).toBe(2);
  });

  it("spaces requests to the requests-per-minute limit and can be aborted while waiting", async () => {
    const s = await start([json(200, openaiCompletion("ok"))]);
    const model = wrapModel(openai(s.url), [limit({ rpm: 2 })]);
    await model.generate({ prompt: "x" });
    await model.generate({ prompt: "x" });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    expect(
      AbortError.isInstance(await model.generate({ prompt: "x", signal: controller.signal }).catch((e) => e)),
    ).toBe(true);
    expect(s.seen).toHaveLength(2);
  });

  it("holds a call back when the tokens-per-minute budget is spent, while a smaller one still fits", async () => {
    const s = await start([json(200, openaiCompletion("ok"))]);
    const model = wrapModel(openai(s.url), [limit({ tpm: 300 })]);
    await model.generate({ prompt: "x", maxTokens: 250 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const held = await model
      .generate({ prompt: "x", maxTokens: 250, signal: controller.signal })
      .catch((e) => e);
    expect(AbortError.isInstance(held)).toBe(true);
    expect(s.seen).toHaveLength(1);
    await model.generate({ prompt: "x", maxTokens: 10 });
    expect(s.seen).toHaveLength(2);
  });
});

describe("abort", () => {
  it("stops in-flight and queued calls through the whole createModel stack at once", async () => {
    const s = await start([delayed(5000, json(200, openaiCompletion("late")))]);
    const dir = mkdtempSync(join(tmpdir(), "lmcot-cache-"));
    const model = createModel("openai:gpt-4o-mini", {
      apiKey: KEY,
      baseURL: `${s.url}/v1`,
      cacheDir: dir,
      concurrency: 1,
      retry: { maxRetries: 4 },
    });
    const controller = new AbortController();
    const calls = ["q1", "q2"].map((prompt) =>
      model.generate({ prompt, signal: controller.signal }).catch((e) => e),
    );
    // Abort once the first call is in flight at the server (the SDK is imported on first use).
    while (s.seen.length < 1) await new Promise((r) => setTimeout(r, 10));
    const aborted = performance.now();
    controller.abort();
    const errors = await Promise.all(calls);
    expect(errors.map((e) => AbortError.isInstance(e))).toEqual([true, true]);
    expect(performance.now() - aborted).toBeLessThan(1000);
    expect(s.seen).toHaveLength(1); // the second call was still waiting for the concurrency slot
    expect(model.meter.calls).toBe(0);
    expect(readdirSync(dir, { recursive: true }).filter((f) => String(f).endsWith(".json"))).toEqual([]);
  });
});

describe("disk cache and usage meter", () => {
  it("returns identical results without a network call, marks hits, costs nothing, stores no key", async () => {
    const s = await start([json(200, openaiCompletion("Answer: Paris"))]);
    const dir = mkdtempSync(join(tmpdir(), "lmcot-cache-"));
    const meter = new UsageMeter();
    const model = createModel("openai:gpt-4o-mini", {
      apiKey: KEY,
      baseURL: `${s.url}/v1`,
      cacheDir: dir,
      meter,
    });
    const request = { prompt: "Capital of France?", maxTokens: 8, seed: 1, promptVersion: "answer@1" };
    const first = await model.generate(request);
    const second = await model.generate({ ...request });
    expect(s.seen).toHaveLength(1);
    expect(second.text).toBe(first.text);
    expect(second.usage).toEqual(first.usage);
    expect(first.cached).toBeFalsy();
    expect(second).toMatchObject({ cached: true, costUsd: 0 });
    expect(first.costUsd).toBeCloseTo((42 * 0.15 + 7 * 0.6) / 1e6, 12);
    expect(meter).toMatchObject({ calls: 2, cacheHits: 1, inputTokens: 42, outputTokens: 7 });
    // A different prompt version is a different entry.
    await model.generate({ ...request, promptVersion: "answer@2" });
    expect(s.seen).toHaveLength(2);
    const files = readdirSync(dir, { recursive: true }).filter((f) => String(f).endsWith(".json"));
    expect(files).toHaveLength(2);
    for (const f of files) expect(readFileSync(join(dir, String(f)), "utf8")).not.toContain(KEY);
  });

  it("several writers of one entry (each with its own cache, as separate processes) leave one whole file", async () => {
    const s = await start([json(200, openaiCompletion("ok"))]);
    const dir = mkdtempSync(join(tmpdir(), "lmcot-cache-"));
    const writer = () => wrapModel(openai(s.url), [diskCache({ dir })]);
    const results = await Promise.all(Array.from({ length: 8 }, () => writer().generate({ prompt: "same" })));
    expect(results.map((r) => r.text)).toEqual(Array(8).fill("ok"));
    const files = readdirSync(dir, { recursive: true }).map(String);
    expect(files.filter((f) => f.endsWith(".tmp"))).toEqual([]);
    expect(files.filter((f) => f.endsWith(".json"))).toHaveLength(1);
    expect((await writer().generate({ prompt: "same" })).cached).toBe(true);
    expect(s.seen).toHaveLength(8);
  });

  it("never caches errors", async () => {
    const s = await start([openaiError(500, "boom"), json(200, openaiCompletion("ok"))]);
    const dir = mkdtempSync(join(tmpdir(), "lmcot-cache-"));
    const model = wrapModel(openai(s.url), [diskCache({ dir })]);
    await expect(model.generate({ prompt: "x" })).rejects.toThrow();
    expect((await model.generate({ prompt: "x" })).text).toBe("ok");
    expect((await model.generate({ prompt: "x" })).cached).toBe(true);
    expect(s.seen).toHaveLength(2);
  });

  it("counts unpriced models apart and uses overridden prices", async () => {
    const s = await start([json(200, anthropicMessage("hi"))]);
    const meter = new UsageMeter();
    const m = wrapModel(getModel("anthropic:my-fine-tune", { apiKey: KEY, baseURL: s.url }), [
      usageMeter(meter),
    ]);
    expect((await m.generate({ prompt: "x" })).costUsd).toBeUndefined();
    expect(meter.unpricedCalls).toBe(1);
    const priced = wrapModel(getModel("anthropic:my-fine-tune", { apiKey: KEY, baseURL: s.url }), [
      usageMeter(meter, { "anthropic:my-fine-tune": { input: 1, output: 2 } }),
    ]);
    expect((await priced.generate({ prompt: "x" })).costUsd).toBeCloseTo((40 + 12) / 1e6, 12);
  });
});
