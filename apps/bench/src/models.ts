import type { LanguageModel, RationaleModel } from "@lmcot/core";
import * as llm from "@lmcot/llm";
import * as smallLm from "@lmcot/small-lm";

/** Turns model ids into models; the bench asks it once per id. Tests pass their own. */
export interface ModelResolver {
  large(id: string): Promise<LanguageModel> | LanguageModel;
  small(id: string): Promise<RationaleModel> | RationaleModel;
}

type Registry<T> = ((id: string, options?: Record<string, unknown>) => T | Promise<T>) | undefined;

/**
 * The default resolver: `extractive:*` offline stand-ins directly, every other id through the
 * provider registries of `@lmcot/llm` (with its disk cache) and `@lmcot/small-lm`.
 */
export function defaultResolver(options: { cacheDir?: string } = {}): ModelResolver {
  return {
    large(id) {
      if (id.startsWith("extractive:")) return new llm.ExtractiveReader(id.slice("extractive:".length));
      const resolve = (llm as Record<string, unknown>).createModel as Registry<LanguageModel>;
      if (!resolve) throw new Error(`no provider for "${id}" in this build of @lmcot/llm`);
      return resolve(id, { cacheDir: options.cacheDir });
    },
    small(id) {
      if (id === "extractive:selector") return new smallLm.ExtractiveSelector();
      const resolve = (smallLm as Record<string, unknown>).getRationaleModel as Registry<RationaleModel>;
      if (!resolve) throw new Error(`no rationale backend for "${id}" in this build of @lmcot/small-lm`);
      return resolve(id);
    },
  };
}
