import { join } from "node:path";
import { normalArray, seededRandom } from "./random";
import { writeSafetensors } from "./safetensors";
import { resolveT5Config, type T5ConfigInput, writeT5Config } from "./t5-config";
import { type T5OnnxVariant, type T5Weights, t5ParameterShapes, writeT5Onnx } from "./t5-onnx";
import { type WordLevelTokenizerOptions, writeWordLevelTokenizer } from "./tokenizer";

export interface T5ModelFolderOptions {
  config: T5ConfigInput;
  weights: T5Weights;
  /** Vocabulary (ids in order; `<pad>`, `</s>`, `<unk>` are placed first) or texts to build it from. */
  vocab: readonly string[] | { texts: Iterable<string> };
  tokenizer?: WordLevelTokenizerOptions;
  /** Default `max_new_tokens` in generation_config.json. */
  maxNewTokens?: number;
  /** ONNX variants to write (default `["fp32"]`; add `"q8"` for `*_quantized.onnx`). */
  onnxVariants?: T5OnnxVariant[];
}

/**
 * Writes a complete T5 model folder in HF / transformers.js layout: config.json,
 * generation_config.json, tokenizer.json, tokenizer_config.json, model.safetensors and the ONNX
 * encoder + merged decoder. The tokenizer's vocabulary size must equal `config.vocab_size`.
 */
export async function writeT5ModelFolder(folder: string, options: T5ModelFolderOptions): Promise<void> {
  const config = resolveT5Config(options.config);
  const vocab = await writeWordLevelTokenizer(folder, options.vocab, options.tokenizer);
  if (vocab.length > config.vocab_size) {
    throw new Error(
      `T5 model folder: tokenizer has ${vocab.length} tokens but config.vocab_size is ${config.vocab_size}`,
    );
  }
  await writeT5Config(folder, config, { maxNewTokens: options.maxNewTokens });
  await writeSafetensors(join(folder, "model.safetensors"), options.weights);
  await writeT5Onnx(folder, config, options.weights, { variants: options.onnxVariants });
}

/**
 * Random T5 weights from a seed, with HF's initialisation scales (so activations stay in a sane
 * range). The same seed and config always give the same weights.
 */
export function randomT5Weights(input: T5ConfigInput, seed: number): T5Weights {
  const c = resolveT5Config(input);
  const random = seededRandom(seed);
  const weights: T5Weights = new Map();
  for (const [name, shape] of t5ParameterShapes(c)) {
    const size = shape.reduce((a, b) => a * b, 1);
    let data: Float32Array;
    if (name.endsWith("layer_norm.weight")) data = new Float32Array(size).fill(1);
    else if (name === "shared.weight" || name === "lm_head.weight") data = normalArray(random, size, 1);
    else if (/\.q\.weight$/.test(name)) data = normalArray(random, size, (c.d_model * c.d_kv) ** -0.5);
    else if (/\.o\.weight$/.test(name)) data = normalArray(random, size, (c.num_heads * c.d_kv) ** -0.5);
    else if (name.endsWith("wo.weight")) data = normalArray(random, size, c.d_ff ** -0.5);
    else data = normalArray(random, size, c.d_model ** -0.5);
    weights.set(name, { data, shape });
  }
  return weights;
}
