import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import {
  randomT5Weights,
  resolveT5Config,
  type T5ConfigInput,
  writeSafetensors,
  writeT5Config,
} from "@lmcot/model-writer";
import { WordTokenizer } from "../src/tokenizer";

/** google/flan-t5-small's config.json sizes (and flan-t5-base's), as the issue gives them. */
export const FLAN_SIZES = {
  small: { d_model: 512, d_kv: 64, d_ff: 1024, num_heads: 6, num_layers: 8, num_decoder_layers: 8 },
  base: { d_model: 768, d_kv: 64, d_ff: 2048, num_heads: 12, num_layers: 12, num_decoder_layers: 12 },
} as const;

export type FlanSize = keyof typeof FLAN_SIZES;

export function flanConfig(size: FlanSize) {
  return resolveT5Config({
    ...FLAN_SIZES[size],
    vocab_size: 32128,
    relative_attention_num_buckets: 32,
    relative_attention_max_distance: 128,
    feed_forward_proj: "gated-gelu",
    tie_word_embeddings: false,
    layer_norm_epsilon: 1e-6,
  } satisfies T5ConfigInput);
}

/** The synthetic word for token id `i` (≥ 3), so that texts tokenise to known ids. */
export const word = (i: number) => `w${i}`;

/**
 * A model folder with flan-t5-<size>'s config.json and random weights (HF initialisation, seed 0),
 * written by @lmcot/model-writer, plus a word-level tokenizer whose 32,125 words are w3…w32127.
 * Both sides of the benchmark read these same weights.
 */
export async function writeFlanFolder(root: string, size: FlanSize): Promise<string> {
  const folder = join(root, `flan-t5-${size}-random`);
  if (existsSync(join(folder, "model.safetensors"))) return folder;
  await mkdir(folder, { recursive: true });
  const config = flanConfig(size);
  await writeT5Config(folder, config);
  const words = Array.from({ length: config.vocab_size - 3 }, (_, i) => word(i + 3));
  // Every word once, in id order: ties in frequency sort by text, so order the texts that way.
  const tokenizer = WordTokenizer.fromTexts([words.join(" ")], config.vocab_size);
  await tokenizer.save(folder);
  await writeSafetensors(join(folder, "model.safetensors"), randomT5Weights(config, 0));
  return folder;
}
