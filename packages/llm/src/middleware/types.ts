import type { LanguageModel } from "@lmcot/core";

/** Wraps a model in another with the same contract; the adapter inside never knows. */
export type Middleware = (model: LanguageModel) => LanguageModel;

/** Applies middleware outermost-first: `wrapModel(m, [a, b])` calls a, then b, then m. */
export function wrapModel(model: LanguageModel, middleware: readonly Middleware[]): LanguageModel {
  return middleware.reduceRight((inner, wrap) => wrap(inner), model);
}

/** A model with the same id whose `generate` is replaced. */
export function withGenerate(model: LanguageModel, generate: LanguageModel["generate"]): LanguageModel {
  return { specificationVersion: "v1", id: model.id, generate };
}
