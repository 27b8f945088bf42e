import { AbortError, TimeoutError } from "@lmcot/core";
import { type Middleware, withGenerate } from "./types";

/** Fails a call that takes longer than `ms` with a `TimeoutError` (retryable), aborting it underneath. */
export function timeout(ms: number): Middleware {
  return (model) =>
    withGenerate(model, async (request) => {
      const timer = new AbortController();
      const handle = setTimeout(
        () => timer.abort(new TimeoutError(`${model.id}: no answer within ${ms} ms`)),
        ms,
      );
      const signal = request.signal ? AbortSignal.any([request.signal, timer.signal]) : timer.signal;
      try {
        return await model.generate({ ...request, signal });
      } catch (error) {
        if (timer.signal.aborted && !request.signal?.aborted) throw timer.signal.reason as TimeoutError;
        if (request.signal?.aborted && !AbortError.isInstance(error)) throw new AbortError();
        throw error;
      } finally {
        clearTimeout(handle);
      }
    });
}
