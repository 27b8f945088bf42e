import type { LanguageModel, RationaleModel } from "@lmcot/core";
import { createModel } from "@lmcot/llm";
import * as smallLm from "@lmcot/small-lm";

/** Turns model ids into models; the bench asks it once per id. Tests pass their own. */
export interface ModelResolver {
  large(id: string): Promise<LanguageModel> | LanguageModel;
  small(id: string): Promise<RationaleModel> | RationaleModel;
}

type Registry<T> = ((id: string, options?: Record<string, unknown>) => T | Promise<T>) | undefined;

/**
 * The default resolver: large ids through `@lmcot/llm`'s `createModel` (retry, timeout, disk cache,
 * usage meter), small ids through `@lmcot/small-lm`'s backends.
 */
export function defaultResolver(options: { cacheDir?: string } = {}): ModelResolver {
  return {
    large(id) {
      // Offline stand-ins are free and instant: no cache, retry or timeout around them.
      if (id.startsWith("extractive:")) return createModel(id, { retry: false });
      return createModel(id, { cacheDir: options.cacheDir });
    },
    small(id) {
      if (id === "extractive:selector") return new smallLm.ExtractiveSelector();
      const resolve = (smallLm as Record<string, unknown>).getRationaleModel as Registry<RationaleModel>;
      if (!resolve) throw new Error(`no rationale backend for "${id}" in this build of @lmcot/small-lm`);
      return resolve(id);
    },
  };
}
