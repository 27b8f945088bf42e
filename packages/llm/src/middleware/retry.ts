import type { CallPolicy } from "@lmcot/core";
import { callPolicy } from "./policy";
import type { Middleware } from "./types";

export interface RetryOptions extends Omit<CallPolicy, "retries"> {
  /** Retries after the first attempt (default 4). */
  maxRetries?: number;
}

/**
 * Retries with exponential backoff and full jitter (delay drawn from [0, base·2^attempt]); when the
 * provider says how long to wait (`retry-after` / `retry-after-ms`), it waits that long instead.
 * Aborts, authentication and bad requests are never retried. Core's call policy with no per-attempt
 * timeout unless given (that is `timeout()`'s job) and its total cap (default 300 s).
 */
export function retry(options: RetryOptions = {}): Middleware {
  const { maxRetries, ...policy } = options;
  return callPolicy({
    timeoutMs: 0,
    ...policy,
    ...(maxRetries !== undefined ? { retries: maxRetries } : {}),
  });
}
