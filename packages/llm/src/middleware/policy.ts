import { type CallPolicy, callWithPolicy } from "@lmcot/core";
import { type Middleware, withGenerate } from "./types";

/**
 * Every call under core's call policy: typed errors retried with backoff that honours `retry-after`,
 * a timeout per attempt, a cap on the whole call, and a final error that says how many attempts
 * over how long. Each attempt gets its own signal; the caller's abort stops it at once.
 */
export function callPolicy(policy: CallPolicy = {}, annotate = true): Middleware {
  return (model) =>
    withGenerate(model, (request) =>
      callWithPolicy((signal) => model.generate({ ...request, signal }), policy, {
        ...(request.signal ? { signal: request.signal } : {}),
        label: model.id,
        annotate,
      }),
    );
}
