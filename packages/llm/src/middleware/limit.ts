import {
  AbortError,
  approximateTokens,
  type GenerateRequest,
  isFatalError,
  Limiter,
  sleep,
} from "@lmcot/core";
import { type Middleware, withGenerate } from "./types";

export interface LimitOptions {
  /** Calls in flight at once. */
  concurrency?: number;
  /** Requests per minute. */
  rpm?: number;
  /** Tokens per minute (prompt estimate + maxTokens), as providers count them against limits. */
  tpm?: number;
}

/** A token bucket refilled continuously at `perMinute`. */
class Bucket {
  private tokens: number;
  private last = Date.now();
  constructor(private readonly perMinute: number) {
    this.tokens = perMinute;
  }
  /** Milliseconds to wait before `n` can be taken (0 when it was taken now). */
  take(n: number): number {
    const now = Date.now();
    this.tokens = Math.min(this.perMinute, this.tokens + ((now - this.last) * this.perMinute) / 60_000);
    this.last = now;
    const need = Math.min(n, this.perMinute);
    if (this.tokens >= need) {
      this.tokens -= need;
      return 0;
    }
    return Math.ceil(((need - this.tokens) * 60_000) / this.perMinute);
  }
}

const estimate = (r: GenerateRequest) =>
  approximateTokens(
    `${r.system ?? ""}${r.prompt ?? ""}${(r.messages ?? []).map((m) => m.content).join("")}`,
  ) + (r.maxTokens ?? 256);

/**
 * A concurrency limit plus requests- and tokens-per-minute limits; waiting honours the abort signal.
 * After an error a re-run cannot fix (a refused key, a reply that is not the provider's format), no
 * waiting or later call starts: each gets that error.
 */
export function limit(options: LimitOptions): Middleware {
  const requests = options.rpm ? new Bucket(options.rpm) : undefined;
  const tokens = options.tpm ? new Bucket(options.tpm) : undefined;
  const slots = new Limiter(options.concurrency ?? Number.POSITIVE_INFINITY);
  return (model) =>
    withGenerate(model, (request) =>
      slots.run(async () => {
        for (const [bucket, n] of [
          [requests, 1],
          [tokens, estimate(request)],
        ] as const) {
          for (let wait = bucket?.take(n) ?? 0; wait > 0; wait = bucket!.take(n)) {
            await sleep(wait, request.signal).catch(() => {
              throw new AbortError();
            });
          }
        }
        try {
          return await model.generate(request);
        } catch (error) {
          if (isFatalError(error)) slots.stop(error);
          throw error;
        }
      }, request.signal),
    );
}
