import type { LanguageModel, RationaleModel } from "@lmcot/core";
import { createModel } from "@lmcot/llm";
import { getRationaleModel } from "@lmcot/small-lm";

/** Turns model ids into models; the bench asks it once per id. Tests pass their own. */
export interface ModelResolver {
  large(id: string): Promise<LanguageModel> | LanguageModel;
  small(id: string): Promise<RationaleModel> | RationaleModel;
}

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
    small: (id) => getRationaleModel(id),
  };
}
