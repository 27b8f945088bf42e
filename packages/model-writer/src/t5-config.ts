import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BadRequestError } from "@lmcot/core";
import { z } from "zod";

/** The feed-forward variants of HF's T5: v1.0 (`relu`) and v1.1 / FLAN-T5 (`gated-gelu`, tanh-approximated GELU). */
export const T5_FEED_FORWARD = ["relu", "gated-gelu"] as const;
export type T5FeedForward = (typeof T5_FEED_FORWARD)[number];

/** The T5 v1.0 and v1.1 / FLAN-T5 hyper-parameters the writer understands (HF `config.json` field names). */
export const t5ConfigSchema = z.object({
  model_type: z.literal("t5").default("t5"),
  vocab_size: z.number().int().positive(),
  d_model: z.number().int().positive(),
  d_kv: z.number().int().positive(),
  d_ff: z.number().int().positive(),
  num_heads: z.number().int().positive(),
  num_layers: z.number().int().positive(),
  num_decoder_layers: z.number().int().positive().optional(),
  relative_attention_num_buckets: z.number().int().min(2).default(32),
  relative_attention_max_distance: z.number().int().min(2).default(128),
  layer_norm_epsilon: z.number().positive().default(1e-6),
  feed_forward_proj: z.enum(T5_FEED_FORWARD).default("relu"),
  dropout_rate: z.number().min(0).max(1).default(0.1),
  tie_word_embeddings: z.boolean().default(true),
  decoder_start_token_id: z.number().int().min(0).default(0),
  pad_token_id: z.number().int().min(0).default(0),
  eos_token_id: z.number().int().min(0).default(1),
});

export type T5ConfigInput = z.input<typeof t5ConfigSchema>;
export type T5Config = z.output<typeof t5ConfigSchema> & { num_decoder_layers: number };

/** Whether the feed-forward is gated (`wi_0`, `wi_1`, `wo`) rather than one `wi` (v1.0). */
export const isGatedT5 = (config: { feed_forward_proj?: string }) =>
  config.feed_forward_proj === "gated-gelu";

/** Fills defaults and checks sizes; throws a message naming the bad field. */
export function resolveT5Config(input: T5ConfigInput): T5Config {
  const parsed = t5ConfigSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`T5 config: ${issue?.path.join(".") || "(root)"}: ${issue?.message ?? "invalid"}`);
  }
  const config = parsed.data;
  return { ...config, num_decoder_layers: config.num_decoder_layers ?? config.num_layers };
}

/** The `architectures` entries read as a T5 encoder-decoder with an LM head. */
export const T5_ARCHITECTURES = ["T5ForConditionalGeneration", "T5WithLMHeadModel"] as const;

/**
 * Reads a Hugging Face T5 `config.json` object (v1.0 or v1.1 / FLAN-T5). Errors are BadRequestErrors
 * naming `source` (the file) and the field: an unsupported `feed_forward_proj`, `model_type` or
 * `architectures`, or a field of the wrong type.
 */
export function parseT5Config(raw: unknown, source: string): T5Config {
  const fail = (field: string, message: string) => new BadRequestError(`${source}: ${field}: ${message}`);
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    throw fail("(root)", "not a JSON object");
  const fields = raw as Record<string, unknown>;
  if (fields.model_type !== undefined && fields.model_type !== "t5") {
    throw fail("model_type", `${JSON.stringify(fields.model_type)} is not supported (only "t5")`);
  }
  const architectures = fields.architectures;
  if (Array.isArray(architectures) && architectures.length > 0) {
    if (!architectures.some((a) => (T5_ARCHITECTURES as readonly unknown[]).includes(a))) {
      throw fail(
        "architectures",
        `${JSON.stringify(architectures)} is not supported (need ${T5_ARCHITECTURES.join(" or ")}: an encoder, a decoder and an LM head)`,
      );
    }
  }
  const ff = fields.feed_forward_proj;
  if (ff !== undefined && !(T5_FEED_FORWARD as readonly unknown[]).includes(ff)) {
    throw fail(
      "feed_forward_proj",
      `${JSON.stringify(ff)} is not supported (${T5_FEED_FORWARD.join(", ")}: T5 v1.0 and v1.1 / FLAN-T5)`,
    );
  }
  const parsed = t5ConfigSchema.safeParse(fields);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw fail(issue?.path.join(".") || "(root)", issue?.message ?? "invalid");
  }
  return { ...parsed.data, num_decoder_layers: parsed.data.num_decoder_layers ?? parsed.data.num_layers };
}

/**
 * The `config.json` object for a config: the HF fields `save_pretrained` writes for T5, with the
 * activation fields that follow from `feed_forward_proj`.
 */
export function t5ConfigJson(input: T5ConfigInput): Record<string, unknown> {
  const config = resolveT5Config(input);
  return {
    architectures: ["T5ForConditionalGeneration"],
    ...config,
    n_positions: 512,
    dense_act_fn: isGatedT5(config) ? "gelu_new" : "relu",
    is_gated_act: isGatedT5(config),
    is_encoder_decoder: true,
    use_cache: true,
    initializer_factor: 1.0,
    transformers_version: "4.46.0",
  };
}

/** `generation_config.json` for a config (the special token ids, optionally `max_new_tokens`). */
export function t5GenerationConfigJson(
  config: Pick<T5Config, "decoder_start_token_id" | "eos_token_id" | "pad_token_id">,
  generation: GenerationDefaults = {},
): Record<string, unknown> {
  return {
    decoder_start_token_id: config.decoder_start_token_id,
    eos_token_id: config.eos_token_id,
    pad_token_id: config.pad_token_id,
    ...(generation.maxNewTokens === undefined ? {} : { max_new_tokens: generation.maxNewTokens }),
  };
}

/** JSON as `save_pretrained` writes it: two-space indent and a final newline. */
export const jsonFile = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

export interface GenerationDefaults {
  maxNewTokens?: number;
}

/** Writes `config.json` and `generation_config.json` in the layout transformers.js and HF read. */
export async function writeT5Config(
  folder: string,
  input: T5ConfigInput,
  generation: GenerationDefaults = {},
) {
  const config = resolveT5Config(input);
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, "config.json"), jsonFile(t5ConfigJson(config)));
  await writeFile(
    join(folder, "generation_config.json"),
    jsonFile(t5GenerationConfigJson(config, generation)),
  );
}
