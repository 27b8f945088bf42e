import { BadRequestError, didYouMean, parseModelId, type RationaleModel } from "@lmcot/core";
import { ExtractiveSelector } from "./extractive";
import { OpenAICompatibleRationaleModel } from "./openai-compatible";
import { TransformersRationaleModel } from "./transformers/model";

/** Backend options, passed through to the backend's factory (e.g. `TransformersModelOptions`). */
export type RationaleBackendOptions = Record<string, unknown>;

/** Builds a rationale model from the part of the id after `backend:`. */
export type RationaleBackendFactory = (
  model: string,
  options: RationaleBackendOptions,
) => RationaleModel | Promise<RationaleModel>;

// One line per backend.
const backends = new Map<string, RationaleBackendFactory>([
  ["transformers", (model, options) => new TransformersRationaleModel(model, options)],
  ["openai-compatible", (model, options) => new OpenAICompatibleRationaleModel(model, options)],
  ["extractive", (model) => new ExtractiveSelector(selectorSentences(model))],
]);

/** `selector` → 2 sentences, `selector-3` → 3. */
function selectorSentences(model: string): number {
  const match = /^selector(?:-(\d+))?$/.exec(model);
  if (!match)
    throw new BadRequestError(
      `unknown extractive model "${model}"; use extractive:selector or extractive:selector-<sentences>`,
    );
  return Number(match[1] ?? 2);
}

/** Adds (or replaces) a backend, so `getRationaleModel("name:…")` reaches it. */
export function registerRationaleBackend(name: string, factory: RationaleBackendFactory): void {
  if (!/^[a-z][a-z0-9-]*$/.test(name))
    throw new BadRequestError(`backend name "${name}" must be lower-case letters, digits and dashes`);
  backends.set(name, factory);
}

export function rationaleBackends(): string[] {
  return [...backends.keys()].sort();
}

/**
 * A rationale model from an id: `transformers:./models/flan-t5-small`, `transformers:Xenova/flan-t5-small`,
 * `openai-compatible:http://127.0.0.1:8000/v1#flan-t5-large`, `extractive:selector`.
 */
export async function getRationaleModel(
  id: string,
  options: RationaleBackendOptions = {},
): Promise<RationaleModel> {
  const { provider, model } = parseModelId(id);
  const factory = backends.get(provider);
  if (factory === undefined) {
    throw new BadRequestError(
      `unknown rationale backend "${provider}" in "${id}"${didYouMean(provider, backends.keys())}; known: ${rationaleBackends().join(", ")}`,
    );
  }
  return factory(model, options);
}
