import { BadRequestError } from "./errors";

/** A model id split into its provider and the provider's own model name. */
export interface ParsedModelId {
  provider: string;
  model: string;
}

/**
 * Splits `provider:model` at the first colon: `openai:gpt-4o-mini`,
 * `openai-compatible:http://127.0.0.1:8000/v1#qwen`, `transformers:./models/flan-t5-small`.
 */
export function parseModelId(id: string): ParsedModelId {
  const colon = id.indexOf(":");
  if (colon <= 0 || colon === id.length - 1) {
    throw new BadRequestError(
      `model id "${id}" must look like provider:model (e.g. openai:gpt-4o-mini, transformers:./models/flan-t5-small)`,
    );
  }
  return { provider: id.slice(0, colon), model: id.slice(colon + 1) };
}
