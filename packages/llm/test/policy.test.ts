import { AuthenticationError, TimeoutError } from "@lmcot/core";
import { describe, expect, it } from "vitest";
import { createModel, getModel, retry, timeout, wrapModel } from "../src/index";
import type { FaultServerOptions } from "../src/testing/index";
import { faultServers, KEY } from "./helpers";

const start = faultServers();
const openai = (url: string, options: Parameters<typeof createModel>[1] = {}) =>
  createModel("openai:gpt-4o-mini", { apiKey: KEY, baseURL: `${url}/v1`, ...options });
const noJitter = { random: () => 0 };
const failed = (model: { generate: (r: { prompt: string }) => Promise<unknown> }) =>
  model.generate({ prompt: "x" }).then(
    () => expect.unreachable("the call should have failed"),
    (e) => e,
  );

describe("createModel's call policy", () => {
  it("a hung provider costs at most the total cap, and the error says how many attempts over how long", async () => {
    const s = await start({ fault: "hang" });
    const began = performance.now();
    const e = await failed(
      openai(s.url, { timeoutMs: 100, totalTimeoutMs: 350, retries: 10, retry: noJitter }),
    );
    const took = performance.now() - began;
    expect(TimeoutError.isInstance(e)).toBe(true);
    // The cap, or the last attempt's own timeout when no further attempt could fit before the cap.
    expect(e.message).toMatch(
      /(0\.35 s total cap|no answer within 0\.1 s) \(after \d attempts over \d\.\d s\)$/,
    );
    expect(e.attempts).toBeGreaterThanOrEqual(2);
    expect(took).toBeGreaterThanOrEqual(340);
    expect(took).toBeLessThan(2000);
  });

  it("takes retries, per-attempt timeout and total cap at top level", async () => {
    const s = await start({ fault: 500 });
    const e = await failed(openai(s.url, { retries: 2, retry: noJitter }));
    expect(s.seen).toHaveLength(3);
    expect(e.message).toMatch(/\(after 3 attempts over \d+\.\d s\)$/);
    const slow = await start({ fault: "slow", slowMs: 1000 });
    const t = await failed(openai(slow.url, { timeoutMs: 150, retries: 1, retry: noJitter }));
    expect(t.message).toMatch(/openai:gpt-4o-mini: no answer within 0\.15 s \(after 2 attempts/);
  });

  it("waits what retry-after says, then succeeds", async () => {
    const s = await start({ fault: 429, failFirst: 1, retryAfter: 0.3 });
    const began = performance.now();
    expect((await openai(s.url).generate({ prompt: "x" })).text).toBe("Answer: yes");
    expect(performance.now() - began).toBeGreaterThanOrEqual(290);
    expect(s.seen).toHaveLength(2);
  });

  it("retry: false makes one attempt, still under the timeout; errors a retry cannot fix stop at once", async () => {
    const s = await start({ fault: "hang" });
    const e = await failed(openai(s.url, { retry: false, timeoutMs: 100 }));
    expect(TimeoutError.isInstance(e)).toBe(true);
    expect(e.attempts).toBe(1);
    const auth = await start({ fault: 401 });
    expect(AuthenticationError.isInstance(await failed(openai(auth.url)))).toBe(true);
    expect(auth.seen).toHaveLength(1);
  });
});

describe("retry() and timeout() are the same policy", () => {
  it("stacked, the final error counts the retry layer's attempts", async () => {
    const options: FaultServerOptions = { fault: "hang" };
    const s = await start(options);
    const bare = createModel("openai:gpt-4o-mini", { apiKey: KEY, baseURL: `${s.url}/v1`, retry: false });
    const model = wrapModel(bare, [retry({ maxRetries: 2, ...noJitter }), timeout(60)]);
    const e = await failed(model);
    expect(e.attempts).toBe(3);
    expect(e.message).toMatch(/within 0\.06 s \(after 3 attempts over/);
  });
});

describe("keys an error body echoes", () => {
  it.each([
    [
      "openai-compatible",
      (url: string, apiKey: string) => getModel(`openai-compatible:${url}/v1#m`, { apiKey }),
    ],
    [
      "anthropic",
      (url: string, apiKey: string) =>
        getModel("anthropic:claude-3-5-haiku-latest", { apiKey, baseURL: url }),
    ],
  ] as const)("never show through %s, whatever the key looks like", async (_name, make) => {
    for (const apiKey of ["local-secret-123456", "local+secret/123456=="]) {
      const s = await start({ fault: 400, echoRequest: true });
      const e = await failed(wrapModel(make(s.url, apiKey), [retry()]));
      expect(JSON.stringify(s.seen[0]?.headers)).toContain(apiKey);
      for (const shown of [e.message, String(e), JSON.stringify(e), e.stack])
        expect(shown).not.toContain(apiKey);
    }
  });
});
