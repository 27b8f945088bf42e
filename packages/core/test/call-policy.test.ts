import { describe, expect, it } from "vitest";
import {
  AbortError,
  AuthenticationError,
  type CallPolicy,
  callWithPolicy,
  type LmcotError,
  RateLimitError,
  ServerError,
  TimeoutError,
} from "../src/index";

/** Records the waits instead of sleeping them (still rejecting on abort, like the real one). */
const recorder = () => {
  const delays: number[] = [];
  const sleep: CallPolicy["sleep"] = async (ms, signal) => {
    if (signal?.aborted) throw signal.reason;
    delays.push(ms);
  };
  return { delays, sleep };
};

/** An attempt that plays the given outcomes in order (the last repeats), counting calls. */
const scripted = (...outcomes: (Error | string)[]) => {
  const attempt = async (_signal: AbortSignal): Promise<string> => {
    const outcome = outcomes[Math.min(attempt.calls++, outcomes.length - 1)];
    if (outcome instanceof Error) throw outcome;
    return outcome ?? "";
  };
  attempt.calls = 0;
  return attempt;
};

/** An attempt that never answers until its signal fires, then rejects with the signal's reason. */
const hanging = () => {
  const attempt = (signal: AbortSignal) => {
    attempt.calls++;
    return new Promise<never>((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
  };
  attempt.calls = 0;
  return attempt;
};

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.unreachable("the call should have failed"),
    (e: unknown) => e as LmcotError,
  );

describe("callWithPolicy", () => {
  it("returns the first success, untouched", async () => {
    const r = recorder();
    const attempt = scripted(new ServerError("boom"), "ok");
    expect(await callWithPolicy(attempt, { sleep: r.sleep, random: () => 0 })).toBe("ok");
    expect(attempt.calls).toBe(2);
  });

  it("waits what retry-after says on a 429 (capped by maxDelayMs), then succeeds", async () => {
    const r = recorder();
    const retries: number[] = [];
    const attempt = scripted(
      new RateLimitError("slow down", { retryAfterMs: 1500 }),
      new RateLimitError("slow down", { retryAfterMs: 90_000 }),
      "ok",
    );
    const policy = {
      sleep: r.sleep,
      maxDelayMs: 20_000,
      onRetry: (e: { attempt: number }) => retries.push(e.attempt),
    };
    expect(await callWithPolicy(attempt, policy)).toBe("ok");
    expect(r.delays).toEqual([1500, 20_000]);
    expect(retries).toEqual([1, 2]);
  });

  it("backs off exponentially with full jitter when no wait is hinted", async () => {
    const r = recorder();
    const attempt = scripted(new ServerError("a"), new ServerError("b"), new ServerError("c"), "ok");
    await callWithPolicy(attempt, { sleep: r.sleep, random: () => 0.5, baseDelayMs: 400 });
    expect(r.delays).toEqual([200, 400, 800]);
  });

  it("gives up after `retries` with the last error, saying how many attempts over how long", async () => {
    const r = recorder();
    const attempt = scripted(new ServerError("openai: 500 boom"));
    const e = await failure(callWithPolicy(attempt, { sleep: r.sleep, retries: 2 }));
    expect(ServerError.isInstance(e)).toBe(true);
    expect(attempt.calls).toBe(3);
    expect(e.attempts).toBe(3);
    expect(e.elapsedMs).toBeGreaterThanOrEqual(0);
    expect(e.message).toMatch(/^openai: 500 boom \(after 3 attempts over \d+\.\d s\)$/);
  });

  it("leaves the count to an outer layer when told not to annotate", async () => {
    const inner = (signal: AbortSignal) =>
      callWithPolicy(
        hanging(),
        { retries: 0, timeoutMs: 20, totalTimeoutMs: 0 },
        { signal, annotate: false },
      );
    const e = await failure(callWithPolicy(inner, { retries: 1, sleep: recorder().sleep }));
    expect(e.attempts).toBe(2);
    expect(e.message).toMatch(/within 0\.02 s \(after 2 attempts over/);
  });

  it("stops at once on an error a retry cannot fix", async () => {
    const r = recorder();
    const attempt = scripted(new AuthenticationError("bad key"), "never");
    const e = await failure(callWithPolicy(attempt, { sleep: r.sleep }));
    expect(AuthenticationError.isInstance(e)).toBe(true);
    expect(attempt.calls).toBe(1);
    expect(r.delays).toEqual([]);
    expect(e.message).toMatch(/bad key \(after 1 attempt over \d+\.\d s\)/);
    const custom = scripted(new AuthenticationError("rotating key"), "ok");
    expect(await callWithPolicy(custom, { sleep: r.sleep, isRetryable: () => true })).toBe("ok");
  });

  it("times out each attempt on its own, aborting it, and retries", async () => {
    const r = recorder();
    const attempt = hanging();
    const began = performance.now();
    const e = await failure(
      callWithPolicy(attempt, { sleep: r.sleep, timeoutMs: 50, retries: 2 }, { label: "m" }),
    );
    expect(TimeoutError.isInstance(e)).toBe(true);
    expect(attempt.calls).toBe(3);
    expect(e.attempts).toBe(3);
    expect(e.message).toMatch(/^m: no answer within 0\.05 s \(after 3 attempts over \d\.\d s\)$/);
    expect(performance.now() - began).toBeGreaterThanOrEqual(140);
  });

  it("caps the whole call, attempts and waits included: a hung provider costs at most the cap", async () => {
    const attempt = hanging();
    const began = performance.now();
    const e = await failure(
      callWithPolicy(attempt, { timeoutMs: 100, totalTimeoutMs: 250, retries: 100, random: () => 0 }),
    );
    const took = performance.now() - began;
    expect(TimeoutError.isInstance(e)).toBe(true);
    expect(e.message).toMatch(/0\.25 s total cap \(after \d attempts over \d\.\d s\)/);
    expect(e.attempts).toBe(attempt.calls);
    expect(took).toBeGreaterThanOrEqual(240);
    expect(took).toBeLessThan(2000);
  });

  it("keeps its limits even when an attempt ignores its signal", async () => {
    let calls = 0;
    const deaf = () => {
      calls++;
      return new Promise<never>(() => {});
    };
    const began = performance.now();
    const e = await failure(callWithPolicy(deaf, { timeoutMs: 60, totalTimeoutMs: 200, baseDelayMs: 1 }));
    expect(TimeoutError.isInstance(e)).toBe(true);
    expect(calls).toBeGreaterThan(1);
    expect(performance.now() - began).toBeLessThan(2000);
  });

  it("does not wait out a retry-after longer than the time left: the provider's error is the answer", async () => {
    const attempt = scripted(new RateLimitError("slow down", { retryAfterMs: 60_000 }), "ok");
    const began = performance.now();
    const e = await failure(callWithPolicy(attempt, { totalTimeoutMs: 5_000 }));
    expect(RateLimitError.isInstance(e)).toBe(true);
    expect(e.attempts).toBe(1);
    expect(performance.now() - began).toBeLessThan(2000);
  });

  it("never retries or annotates an abort, whether during an attempt or a wait", async () => {
    const r = recorder();
    const controller = new AbortController();
    const attempt = hanging();
    setTimeout(() => controller.abort(), 30);
    const during = await failure(callWithPolicy(attempt, { sleep: r.sleep }, { signal: controller.signal }));
    expect(AbortError.isInstance(during)).toBe(true);
    expect(during.attempts).toBeUndefined();
    expect(during.message).not.toMatch(/after/);
    expect(attempt.calls).toBe(1);

    const waiting = new AbortController();
    const flaky = scripted(new ServerError("boom"));
    setTimeout(() => waiting.abort(), 30);
    const inWait = await failure(
      callWithPolicy(flaky, { baseDelayMs: 10_000, random: () => 1 }, { signal: waiting.signal }),
    );
    expect(AbortError.isInstance(inWait)).toBe(true);
    expect(inWait.attempts).toBeUndefined();
    expect(flaky.calls).toBe(1);

    const already = scripted("ok");
    expect(
      AbortError.isInstance(await failure(callWithPolicy(already, {}, { signal: AbortSignal.abort() }))),
    ).toBe(true);
    expect(already.calls).toBe(0);
  });

  it("an abort error the attempt raises by itself is not retried either", async () => {
    const r = recorder();
    const attempt = scripted(new AbortError(), "ok");
    expect(AbortError.isInstance(await failure(callWithPolicy(attempt, { sleep: r.sleep })))).toBe(true);
    expect(attempt.calls).toBe(1);
  });
});
