import { AbortError } from "./errors";

interface Waiter {
  start: () => void;
  fail: (error: unknown) => void;
  signal?: AbortSignal;
}

/**
 * Runs at most `concurrency` tasks at once across every caller that shares it, first come first
 * served. A waiting caller whose signal fires is rejected at once (one listener per signal, however
 * many wait on it). After `stop(reason)`, no waiting or later task starts: each is rejected with it.
 */
export class Limiter {
  private active = 0;
  private queue: Waiter[] = [];
  private stopped?: { reason: unknown };
  private readonly watched = new WeakSet<AbortSignal>();

  constructor(readonly concurrency: number) {
    if (!(concurrency === Number.POSITIVE_INFINITY || (Number.isInteger(concurrency) && concurrency >= 1)))
      throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  }

  /** Tasks running now. */
  get running(): number {
    return this.active;
  }

  /** Tasks waiting for a turn. */
  get waiting(): number {
    return this.queue.length;
  }

  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(signal);
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  /** No task starts after this (tasks running now finish); the waiting ones are rejected with `reason`. */
  stop(reason: unknown): void {
    this.stopped ??= { reason };
    for (const waiter of this.queue.splice(0)) waiter.fail(this.stopped.reason);
  }

  private acquire(signal?: AbortSignal): Promise<void> {
    if (this.stopped) return Promise.reject(this.stopped.reason);
    if (signal?.aborted) return Promise.reject(new AbortError());
    if (this.active < this.concurrency) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise<void>((start, fail) => {
      this.queue.push({ start, fail, ...(signal ? { signal } : {}) });
      if (signal) this.watch(signal);
    });
  }

  /** `release` hands its slot straight to the first waiter, so `active` already counts it. */
  private release(): void {
    const next = this.queue.shift();
    if (next) next.start();
    else this.active--;
  }

  private watch(signal: AbortSignal): void {
    if (this.watched.has(signal)) return;
    this.watched.add(signal);
    const onAbort = () => {
      this.watched.delete(signal);
      const kept: Waiter[] = [];
      for (const waiter of this.queue) {
        if (waiter.signal === signal) waiter.fail(new AbortError());
        else kept.push(waiter);
      }
      this.queue = kept;
    };
    signal.addEventListener("abort", onAbort, { once: true });
  }
}

/** `run` over every item, at most `concurrency` at once; the results in the items' order. */
export function mapLimited<T, R>(
  items: readonly T[],
  concurrency: number,
  run: (item: T, index: number) => Promise<R>,
  signal?: AbortSignal,
): Promise<R[]> {
  const limiter = new Limiter(Math.max(1, Math.min(concurrency, items.length || 1)));
  return Promise.all(items.map((item, i) => limiter.run(() => run(item, i), signal)));
}
