import { AbortError } from "@lmcot/core";

/** Runs at most `concurrency` tasks at once, across every caller that shares it (FIFO). */
export class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly concurrency: number) {
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  }

  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(signal);
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  /** Waiters are not woken by an abort: an aborted waiter gives its turn straight back (no listeners). */
  private async acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw new AbortError();
    if (this.active < this.concurrency) {
      this.active++;
      return;
    }
    // `release` hands its slot straight to the first waiter, so `active` already counts us.
    await new Promise<void>((resolve) => this.waiting.push(resolve));
    if (signal?.aborted) {
      this.release();
      throw new AbortError();
    }
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}
