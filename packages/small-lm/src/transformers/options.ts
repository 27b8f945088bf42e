import { BadRequestError, type RationaleGenerateOptions } from "@lmcot/core";
import type { SamplingSettings } from "./sampling";

export interface ResolvedGenerateOptions {
  settings: SamplingSettings;
  maxNewTokens: number;
  numReturnSequences: number;
  seed: number;
}

const bad = (message: string) => new BadRequestError(message, { provider: "transformers" });

/** Checks decoding options and fills defaults (greedy unless temperature > 0 or doSample). */
export function resolveGenerateOptions(
  options: RationaleGenerateOptions,
  defaultMaxNewTokens: number,
): ResolvedGenerateOptions {
  const { temperature, topP, topK, maxNewTokens, numReturnSequences, seed } = options;
  if (temperature !== undefined && !(temperature >= 0))
    throw bad(`temperature must be >= 0, got ${temperature}`);
  if (topP !== undefined && !(topP > 0 && topP <= 1)) throw bad(`topP must be in (0, 1], got ${topP}`);
  if (topK !== undefined && !(Number.isInteger(topK) && topK >= 0))
    throw bad(`topK must be a whole number >= 0, got ${topK}`);
  if (maxNewTokens !== undefined && !(Number.isInteger(maxNewTokens) && maxNewTokens >= 1)) {
    throw bad(`maxNewTokens must be a whole number >= 1, got ${maxNewTokens}`);
  }
  if (
    numReturnSequences !== undefined &&
    !(Number.isInteger(numReturnSequences) && numReturnSequences >= 1)
  ) {
    throw bad(`numReturnSequences must be a whole number >= 1, got ${numReturnSequences}`);
  }
  if (seed !== undefined && !Number.isInteger(seed)) throw bad(`seed must be an integer, got ${seed}`);
  const sample = (temperature ?? 0) > 0 || (options.doSample === true && temperature !== 0);
  return {
    settings: {
      sample,
      temperature: temperature && temperature > 0 ? temperature : 1,
      topK: topK ?? 0,
      topP: topP ?? 1,
    },
    maxNewTokens: maxNewTokens ?? defaultMaxNewTokens,
    numReturnSequences: numReturnSequences ?? 1,
    seed: seed ?? Math.floor(Math.random() * 2 ** 31),
  };
}
