import {
  isGatedT5,
  resolveT5Config,
  type T5Config,
  type T5ConfigInput,
  t5ConfigSchema,
} from "@lmcot/model-writer";
import { z } from "zod";

export type { T5Config, T5ConfigInput };

/** Model sizes by name; `vocab_size` comes from the tokenizer built on the training data. */
export const MODEL_PRESETS = {
  /** 21 k parameters + vocab × 32 embeddings: for tests. */
  micro: {
    d_model: 32,
    d_kv: 8,
    d_ff: 64,
    num_heads: 4,
    num_layers: 1,
    relative_attention_num_buckets: 8,
    relative_attention_max_distance: 32,
  },
  /** 0.23 M parameters + vocab × 64 embeddings. */
  tiny: {
    d_model: 64,
    d_kv: 16,
    d_ff: 256,
    num_heads: 4,
    num_layers: 2,
    relative_attention_num_buckets: 16,
    relative_attention_max_distance: 64,
  },
  /** 1.4 M parameters + vocab × 128 embeddings. */
  small: {
    d_model: 128,
    d_kv: 32,
    d_ff: 512,
    num_heads: 4,
    num_layers: 3,
    relative_attention_num_buckets: 32,
    relative_attention_max_distance: 128,
  },
  /** 7.3 M parameters + vocab × 256 embeddings (9.4 M with an 8,000-word vocabulary). */
  base: {
    d_model: 256,
    d_kv: 32,
    d_ff: 1024,
    num_heads: 8,
    num_layers: 4,
    relative_attention_num_buckets: 32,
    relative_attention_max_distance: 128,
  },
} as const satisfies Record<string, Omit<T5ConfigInput, "vocab_size">>;

export type ModelPreset = keyof typeof MODEL_PRESETS;

export const modelSizeSchema = z.union([
  z.enum(Object.keys(MODEL_PRESETS) as [ModelPreset, ...ModelPreset[]]),
  t5ConfigSchema
    .pick({
      d_model: true,
      d_kv: true,
      d_ff: true,
      num_heads: true,
      num_layers: true,
      num_decoder_layers: true,
      relative_attention_num_buckets: true,
      relative_attention_max_distance: true,
    })
    .strict(),
]);

export type ModelSize = z.infer<typeof modelSizeSchema>;

/** The full HF T5 config for a size and a vocabulary. */
export function t5ConfigFor(size: ModelSize, vocabSize: number): T5Config {
  const base = typeof size === "string" ? MODEL_PRESETS[size] : size;
  return resolveT5Config({ ...base, vocab_size: vocabSize, tie_word_embeddings: true });
}

/** Parameter count of a config (tied embeddings counted once). */
export function parameterCount(c: T5Config): number {
  const inner = c.num_heads * c.d_kv;
  const attention = 4 * inner * c.d_model;
  const ff = (isGatedT5(c) ? 3 : 2) * c.d_model * c.d_ff;
  const enc = c.num_layers * (attention + ff + 2 * c.d_model);
  const dec = c.num_decoder_layers * (2 * attention + ff + 3 * c.d_model);
  const bias = 2 * c.relative_attention_num_buckets * c.num_heads;
  return (
    c.vocab_size * c.d_model +
    enc +
    dec +
    bias +
    2 * c.d_model +
    (c.tie_word_embeddings ? 0 : c.vocab_size * c.d_model)
  );
}
