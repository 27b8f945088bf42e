import { AbortError, LmcotError } from "@lmcot/core";
import { sleep as defaultSleep, type Middleware, withGenerate } from "./types";

export interface RetryOptions {
  /** Retries after the first attempt (default 4). */
  maxRetries?: number;
  /** First backoff ceiling; doubles each attempt (default 500 ms). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Which errors to retry; default: typed errors marked `retryable` (429, 408, 409, 5xx, 529, timeouts, resets). */
  isRetryable?: (error: unknown) => boolean;
  /** Injectable for tests. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  onRetry?: (event: { attempt: number; delayMs: number; error: unknown }) => void;
}

const retryable = (error: unknown) => LmcotError.isInstance(error) && error.retryable;

/**
 * Retries with exponential backoff and full jitter (delay drawn from [0, base·2^attempt]); when the
 * provider says how long to wait (`retry-after` / `retry-after-ms`), it waits that long instead.
 * Aborts, authentication and bad requests are never retried.
 */
export function retry(options: RetryOptions = {}): Middleware {
  const max = options.maxRetries ?? 4;
  const base = options.baseDelayMs ?? 500;
  const cap = options.maxDelayMs ?? 60_000;
  const isRetryable = options.isRetryable ?? retryable;
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  return (model) =>
    withGenerate(model, async (request) => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await model.generate(request);
        } catch (error) {
          if (request.signal?.aborted || AbortError.isInstance(error)) throw error;
          if (attempt >= max || !isRetryable(error)) throw error;
          const hinted = LmcotError.isInstance(error) ? error.retryAfterMs : undefined;
          const delayMs =
            hinted !== undefined
              ? Math.min(hinted, cap)
              : Math.round(random() * Math.min(cap, base * 2 ** attempt));
          options.onRetry?.({ attempt: attempt + 1, delayMs, error });
          try {
            await sleep(delayMs, request.signal);
          } catch {
            throw new AbortError();
          }
        }
      }
    });
}
