import { callPolicy } from "./policy";
import type { Middleware } from "./types";

/** Fails a call that takes longer than `ms` with a `TimeoutError` (retryable), aborting it underneath. */
export function timeout(ms: number): Middleware {
  return callPolicy({ retries: 0, timeoutMs: ms, totalTimeoutMs: 0 }, false);
}
