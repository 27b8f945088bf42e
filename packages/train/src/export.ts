import { writeT5ModelFolder } from "@lmcot/model-writer";
import type { T5Model } from "./t5/model";
import type { WordTokenizer } from "./tokenizer";

/**
 * Writes a trained model as a complete HF / transformers.js folder (config, generation config,
 * tokenizer, model.safetensors, onnx/encoder_model.onnx + onnx/decoder_model_merged.onnx) through
 * `@lmcot/model-writer`, so `transformers:<folder>` runs it like any FLAN-T5.
 */
export async function exportModel(
  folder: string,
  model: T5Model,
  tokenizer: WordTokenizer,
  maxNewTokens = 64,
): Promise<void> {
  await writeT5ModelFolder(folder, {
    config: model.config,
    weights: model.weights(),
    vocab: tokenizer.vocab,
    maxNewTokens,
  });
}
