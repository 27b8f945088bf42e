import { describe, expect, it } from "vitest";
import {
  AuthenticationError,
  BadRequestError,
  BudgetExceededError,
  type FailureRecord,
  type ResumableOptions,
  type RunStore,
  runBatch,
  runResumable,
  ServerError,
} from "../src/index";

class MemoryStore<R extends { key: string }> implements RunStore<R> {
  readonly rows: R[] = [];
  constructor(initial: R[] = []) {
    this.rows.push(...initial);
  }
  has(key: string) {
    return this.rows.some((r) => r.key === key);
  }
  async append(record: R) {
    this.rows.push(record);
  }
  async *records() {
    yield* this.rows;
  }
  async close() {}
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("runBatch", () => {
  it("keeps order and respects the concurrency limit", async () => {
    let inFlight = 0;
    let peak = 0;
    const out = await runBatch(
      [5, 1, 4, 2, 3, 0],
      async (n) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await sleep(n * 2);
        inFlight--;
        return n * 10;
      },
      { concurrency: 2 },
    );
    expect(out).toEqual([50, 10, 40, 20, 30, 0]);
    expect(peak).toBe(2);
  });

  it("rejects with the first error and aborts the rest", async () => {
    const aborted: number[] = [];
    await expect(
      runBatch(
        [1, 2, 3, 4],
        async (n, signal) => {
          if (n === 1) throw new Error("boom");
          await sleep(20);
          if (signal.aborted) aborted.push(n);
          return n;
        },
        { concurrency: 2 },
      ),
    ).rejects.toThrow("boom");
    expect(aborted).toEqual([2]);
  });
});

describe("runResumable", () => {
  const items = Array.from({ length: 10 }, (_, i) => `ex${i}`);

  it("skips keys the store has and appends the rest", async () => {
    const store = new MemoryStore([
      { key: "ex0", costUsd: 0 },
      { key: "ex3", costUsd: 0 },
    ]);
    const ran: string[] = [];
    const result = await runResumable({
      items,
      keyOf: (i) => i,
      store,
      run: async (item) => {
        ran.push(item);
        return { key: item, costUsd: 0.01, cached: item === "ex5" };
      },
      concurrency: 3,
    });
    expect(ran.sort()).toEqual(items.filter((i) => i !== "ex0" && i !== "ex3").sort());
    expect(store.rows).toHaveLength(10);
    expect(result.progress).toMatchObject({ total: 10, done: 10, skipped: 2, failed: 0, cacheHits: 1 });
    expect(result.progress.costUsd).toBeCloseTo(0.08);
    expect(result.stopped).toBeUndefined();
  });

  it("an item put off by isDeferred is neither stored nor failed, only counted; a later run does it", async () => {
    const store = new MemoryStore<{ key: string }>();
    const later = new Error("waiting for a batch");
    const failures: FailureRecord[] = [];
    const options = (ready: boolean): ResumableOptions<string, { key: string }> => ({
      items,
      keyOf: (i) => i,
      store,
      isDeferred: (e) => e === later,
      onFailure: (f) => {
        failures.push(f);
      },
      run: async (item) => {
        if (!ready && Number(item.slice(2)) % 2) throw later;
        return { key: item };
      },
    });
    const first = await runResumable(options(false));
    expect(first.deferred).toBe(5);
    expect(first.progress).toMatchObject({ done: 5, failed: 0 });
    expect(failures).toEqual([]);
    const second = await runResumable(options(true));
    expect(second).toMatchObject({ deferred: 0, progress: { done: 10, skipped: 5, failed: 0 } });
    expect(store.rows).toHaveLength(10);
  });

  it("never runs more than `concurrency` items at once", async () => {
    let inFlight = 0;
    let peak = 0;
    await runResumable({
      items,
      keyOf: (i) => i,
      store: new MemoryStore(),
      concurrency: 4,
      run: async (item) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await sleep(3);
        inFlight--;
        return { key: item };
      },
    });
    expect(peak).toBe(4);
  });

  it("stops before an item that would exceed the budget", async () => {
    const store = new MemoryStore<{ key: string; costUsd: number }>();
    const result = await runResumable({
      items,
      keyOf: (i) => i,
      store,
      concurrency: 1,
      budgetUsd: 0.035,
      estimateCostUsd: () => 0.01,
      run: async (item) => ({ key: item, costUsd: 0.01 }),
    });
    expect(store.rows).toHaveLength(3);
    expect(result.stopped).toBe("budget");
    expect(BudgetExceededError.isInstance(result.budgetError)).toBe(true);
    expect(result.budgetError!.message).toMatch(/budget of \$0\.0350 reached.*7 items not run/);
  });

  it("records failures without writing them, so a re-run retries them", async () => {
    const store = new MemoryStore<{ key: string }>();
    const first = await runResumable({
      items,
      keyOf: (i) => i,
      store,
      run: async (item) => {
        if (item === "ex4") throw new Error("rate limited");
        return { key: item };
      },
    });
    expect(first.progress).toMatchObject({ done: 9, failed: 1, lastError: "rate limited" });
    expect(first.errors).toEqual([
      { key: "ex4", errorClass: "error", message: "rate limited", at: expect.any(String) },
    ]);
    const second = await runResumable({
      items,
      keyOf: (i) => i,
      store,
      run: async (item) => ({ key: item }),
    });
    expect(second.progress).toMatchObject({ done: 10, skipped: 9, failed: 0 });
    expect(store.rows.filter((r) => r.key === "ex4")).toHaveLength(1);
  });

  it("stops on abort and keeps what finished", async () => {
    const controller = new AbortController();
    const store = new MemoryStore<{ key: string }>();
    const result = await runResumable({
      items,
      keyOf: (i) => i,
      store,
      concurrency: 2,
      signal: controller.signal,
      run: async (item, { signal }) => {
        if (item === "ex3") controller.abort();
        await sleep(1);
        if (signal.aborted) throw new Error("aborted");
        return { key: item };
      },
    });
    expect(result.stopped).toBe("abort");
    expect(store.rows.length).toBeLessThan(10);
    expect(result.progress.failed).toBe(0);
  });

  it("reports progress with rate and eta", async () => {
    const seen: number[] = [];
    await runResumable({
      items,
      keyOf: (i) => i,
      store: new MemoryStore(),
      run: async (item) => ({ key: item }),
      onProgress: (p) => seen.push(p.done),
    });
    expect(seen[0]).toBe(0);
    expect(seen.at(-1)).toBe(10);
  });

  /** The runner over `items`, keyed by themselves, into a fresh store unless one is given. */
  const resumable = (
    options: Omit<ResumableOptions<string, { key: string }>, "items" | "keyOf" | "store"> & {
      store?: MemoryStore<{ key: string }>;
    },
  ) => runResumable({ items, keyOf: (i) => i, store: new MemoryStore(), ...options });

  it("hands each failure to onFailure as it happens, typed and redacted, with its cell", async () => {
    const written: FailureRecord[] = [];
    const result = await resumable({
      cell: "standard · hotpotqa",
      secrets: ["hunter2-secret"],
      onFailure: async (failure) => {
        await sleep(1);
        written.push(failure);
      },
      run: async (item) => {
        if (item === "ex2" || item === "ex7")
          throw new ServerError("500 from upstream, key hunter2-secret", { status: 500, provider: "openai" });
        return { key: item };
      },
    });
    expect(result.stopped).toBeUndefined();
    expect(written.map((f) => f.key).sort()).toEqual(["ex2", "ex7"]);
    expect(written[0]).toMatchObject({
      cell: "standard · hotpotqa",
      errorClass: "server",
      status: 500,
      provider: "openai",
      message: "500 from upstream, key [redacted]",
    });
    expect(result.errors).toEqual(written);
  });

  it("stops at the first fatal error: nothing more starts, what is in flight finishes", async () => {
    const store = new MemoryStore<{ key: string }>();
    const started: string[] = [];
    const failures: FailureRecord[] = [];
    const result = await resumable({
      store,
      concurrency: 2,
      onFailure: (f) => {
        failures.push(f);
      },
      run: async (item) => {
        started.push(item);
        if (item === "ex0") throw new AuthenticationError("401 invalid api key", { status: 401 });
        await sleep(5);
        return { key: item };
      },
    });
    expect(result.stopped).toBe("fatal");
    expect(AuthenticationError.isInstance(result.fatal?.error)).toBe(true);
    expect(result.fatal?.failure).toMatchObject({ key: "ex0", errorClass: "authentication", status: 401 });
    expect(started).toEqual(["ex0", "ex1"]);
    expect(store.rows.map((r) => r.key)).toEqual(["ex1"]);
    expect(failures).toHaveLength(1);
  });

  it("treats a 400 on each of the first items, none succeeding, as a request every item would get", async () => {
    const started: string[] = [];
    const result = await resumable({
      concurrency: 1,
      run: async (item) => {
        started.push(item);
        throw new BadRequestError("max_tokens is too large", { status: 400 });
      },
    });
    expect(result.stopped).toBe("fatal");
    expect(started).toHaveLength(3);
    expect(result.errors.map((e) => e.errorClass)).toEqual(["bad_request", "bad_request", "bad_request"]);
  });

  it("keeps going past 400s once an item has succeeded (here or in an earlier run)", async () => {
    const bad = new Set(["ex1", "ex2", "ex3"]);
    const run = async (item: string) => {
      if (bad.has(item)) throw new BadRequestError("context too long", { status: 400 });
      return { key: item };
    };
    const fresh = await resumable({
      concurrency: 1,
      run,
    });
    expect(fresh.stopped).toBeUndefined();
    expect(fresh.progress).toMatchObject({ done: 7, failed: 3 });
    const resumed = await resumable({
      store: new MemoryStore([{ key: "ex9" }]),
      concurrency: 1,
      run: async (item) => {
        if (item !== "ex9") throw new BadRequestError("context too long", { status: 400 });
        return { key: item };
      },
    });
    expect(resumed.stopped).toBeUndefined();
    expect(resumed.progress.failed).toBe(9);
  });

  it("a budget error from below (a metered model) stops the run as the budget, not as a failure", async () => {
    const result = await resumable({
      concurrency: 1,
      run: async (item) => {
        if (item === "ex3") throw new BudgetExceededError("meter: $1 budget reached");
        return { key: item };
      },
    });
    expect(result.stopped).toBe("budget");
    expect(result.budgetError?.message).toBe("meter: $1 budget reached");
    expect(result.errors).toEqual([]);
    expect(result.progress.done).toBe(3);
  });
});
