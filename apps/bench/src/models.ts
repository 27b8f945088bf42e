import type { CallPolicy, LanguageModel, RationaleModel } from "@lmcot/core";
import { type BatchWrapper, createModel } from "@lmcot/llm";
import { getRationaleModel } from "@lmcot/small-lm";
import type { BenchConfig } from "./config";

/** Turns model ids into models; the bench asks it once per id. Tests pass their own. */
export interface ModelResolver {
  /** `batch`: the run's provider batches (`batch: true`), which the model's calls must go through. */
  large(id: string, options?: { batch?: BatchWrapper }): Promise<LanguageModel> | LanguageModel;
  small(id: string): Promise<RationaleModel> | RationaleModel;
}

/** The call policy settings a command or a config may give (only those given). */
export type CallLimits = Pick<CallPolicy, "timeoutMs" | "retries" | "totalTimeoutMs">;

/** The bench config's `timeout` / `retries` / `totalTimeout` (seconds) as a call policy. */
export function callLimitsOf(config: Pick<BenchConfig, "timeout" | "retries" | "totalTimeout">): CallLimits {
  return {
    ...(config.timeout !== undefined ? { timeoutMs: config.timeout * 1000 } : {}),
    ...(config.retries !== undefined ? { retries: config.retries } : {}),
    ...(config.totalTimeout !== undefined ? { totalTimeoutMs: config.totalTimeout * 1000 } : {}),
  };
}

/**
 * The default resolver: large ids through `@lmcot/llm`'s `createModel` (call policy, disk cache,
 * usage meter), small ids through `@lmcot/small-lm`'s backends, both under the same call limits.
 */
export function defaultResolver(options: { cacheDir?: string; limits?: CallLimits } = {}): ModelResolver {
  const limits = options.limits ?? {};
  return {
    large(id, { batch } = {}) {
      // Offline stand-ins are free and instant: no cache, retry or timeout around them.
      if (id.startsWith("extractive:") && !batch) return createModel(id, { retry: false });
      return createModel(id, {
        ...limits,
        ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
        ...(batch ? { batch } : {}),
      });
    },
    small: (id) => getRationaleModel(id, { ...limits }),
  };
}
