import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { BadRequestError, ModelNotFoundError } from "@lmcot/core";
import { z } from "zod";
import { readSafetensors } from "./safetensors";
import { parseT5Config, type T5Config } from "./t5-config";
import { checkT5Weights, type T5Weights, t5ParameterShapes } from "./t5-onnx";
import { checkTokenizerFits, tokenizerFilesIn } from "./tokenizer-files";

export const SAFETENSORS_FILE = "model.safetensors";
export const SAFETENSORS_INDEX_FILE = "model.safetensors.index.json";

/** A Hugging Face T5 checkpoint in memory: float32 weights under their HF names, and where it came from. */
export interface T5Checkpoint {
  /** The validated architecture (defaults filled in). */
  config: T5Config;
  /** config.json as read, every field kept (written back unchanged by `writeT5Checkpoint`). */
  rawConfig: Record<string, unknown>;
  weights: T5Weights;
  /** The folder it was read from (absolute). */
  folder: string;
  /** generation_config.json, when the folder has one. */
  generationConfig?: Record<string, unknown>;
  /** The tokenizer files the folder holds (`tokenizer.json`, `spiece.model`, …). */
  tokenizerFiles: string[];
}

async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new ModelNotFoundError(
      `${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? error})`,
    );
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new BadRequestError(`${file}: not valid JSON`);
  }
}

/** What to run when a folder holds PyTorch, TensorFlow or Flax weights but no safetensors. */
function conversionHint(folder: string): string {
  return (
    "convert it once with Python (transformers + safetensors installed): " +
    `python -c "from transformers import T5ForConditionalGeneration as M; ` +
    `M.from_pretrained('${folder}').save_pretrained('${folder}', safe_serialization=True)"` +
    " — this writes model.safetensors next to the old weights"
  );
}

const OTHER_FORMATS = [
  "pytorch_model.bin",
  "pytorch_model.bin.index.json",
  "tf_model.h5",
  "flax_model.msgpack",
] as const;

const indexSchema = z.object({
  metadata: z.record(z.string(), z.unknown()).optional(),
  weight_map: z.record(z.string(), z.string().regex(/^[^/\\]+$/, "a file name in the same folder")),
});

/** Reads a sharded checkpoint: every shard the index names must exist and hold the tensors mapped to it. */
async function readSharded(folder: string): Promise<T5Weights> {
  const indexFile = join(folder, SAFETENSORS_INDEX_FILE);
  const parsed = indexSchema.safeParse(await readJson(indexFile));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new BadRequestError(`${indexFile}: ${issue?.path.join(".") || "(root)"}: ${issue?.message}`);
  }
  const byShard = new Map<string, string[]>();
  for (const [tensor, shard] of Object.entries(parsed.data.weight_map)) {
    byShard.set(shard, [...(byShard.get(shard) ?? []), tensor]);
  }
  const weights: T5Weights = new Map();
  for (const [shard, names] of byShard) {
    const file = join(folder, shard);
    if (!existsSync(file)) {
      throw new BadRequestError(
        `${indexFile}: shard ${shard} is missing (it holds ${names.length} tensors, e.g. ${names[0]})`,
      );
    }
    const tensors = await readSafetensors(file);
    for (const name of names) {
      const t = tensors.get(name);
      if (t === undefined)
        throw new BadRequestError(`${file}: missing ${name} (the index maps it to this shard)`);
      weights.set(name, t);
    }
  }
  return weights;
}

/**
 * Tensors HF's T5 skips on load: the stacks' copies of the tied embedding, an lm_head equal to
 * `shared.weight` in a tied model, and the cross-attention bias old checkpoints carry. Anything else
 * the architecture does not name is an error, so no weight is silently lost.
 */
function dropTiedAndIgnored(config: T5Config, weights: T5Weights, source: string): T5Weights {
  const expected = t5ParameterShapes(config);
  const shared = weights.get("shared.weight");
  const sameAsShared = (name: string) => {
    const t = weights.get(name);
    if (t === undefined || shared === undefined || t.data.length !== shared.data.length) return false;
    return Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).equals(
      Buffer.from(shared.data.buffer, shared.data.byteOffset, shared.data.byteLength),
    );
  };
  const out: T5Weights = new Map();
  for (const [name, tensor] of weights) {
    if (expected.has(name)) out.set(name, tensor);
    else if (name === "encoder.embed_tokens.weight" || name === "decoder.embed_tokens.weight") {
      if (!sameAsShared(name)) throw new BadRequestError(`${source}: ${name} differs from shared.weight`);
    } else if (name === "lm_head.weight") {
      if (!sameAsShared(name)) {
        throw new BadRequestError(
          `${source}: lm_head.weight differs from shared.weight but config.json tie_word_embeddings is true (missing means true); set it to false for an untied head`,
        );
      }
    } else if (name !== "decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight") {
      throw new BadRequestError(`${source}: unexpected tensor ${name} (not part of this T5 architecture)`);
    }
  }
  return out;
}

/**
 * Reads a Hugging Face T5 v1.0 or v1.1 / FLAN-T5 folder: `config.json` and `model.safetensors` or a
 * sharded `model.safetensors.index.json` with its shards; F32, F16 and BF16 weights become float32.
 * Every problem is a BadRequestError naming the file and the field or tensor (a folder without
 * config.json is a ModelNotFoundError).
 */
export async function readT5Checkpoint(folder: string): Promise<T5Checkpoint> {
  const dir = resolve(folder);
  const configFile = join(dir, "config.json");
  if (!existsSync(configFile)) {
    throw new ModelNotFoundError(
      `${dir}: no config.json (a Hugging Face T5 folder holds config.json and model.safetensors)`,
    );
  }
  const rawConfig = (await readJson(configFile)) as Record<string, unknown>;
  const config = parseT5Config(rawConfig, configFile);
  await checkTokenizerFits(dir, config.vocab_size, configFile);

  let weights: T5Weights;
  let source: string;
  if (existsSync(join(dir, SAFETENSORS_FILE))) {
    source = join(dir, SAFETENSORS_FILE);
    weights = await readSafetensors(source);
  } else if (existsSync(join(dir, SAFETENSORS_INDEX_FILE))) {
    source = join(dir, SAFETENSORS_INDEX_FILE);
    weights = await readSharded(dir);
  } else {
    const other = OTHER_FORMATS.find((f) => existsSync(join(dir, f)));
    if (other !== undefined) {
      throw new BadRequestError(
        `${dir}: has ${other} but no ${SAFETENSORS_FILE}; lmcot reads safetensors only, ${conversionHint(dir)}`,
      );
    }
    throw new ModelNotFoundError(`${dir}: no ${SAFETENSORS_FILE} or ${SAFETENSORS_INDEX_FILE}`);
  }
  const embedding = ["encoder.embed_tokens.weight", "decoder.embed_tokens.weight"].find((n) =>
    weights.has(n),
  );
  if (!weights.has("shared.weight") && embedding !== undefined) {
    // a converter kept one of the tied names: it is the shared embedding
    weights.set("shared.weight", weights.get(embedding) as NonNullable<ReturnType<T5Weights["get"]>>);
  }
  checkT5Weights(config, weights, source);
  weights = dropTiedAndIgnored(config, weights, source);
  const generationFile = join(dir, "generation_config.json");
  const generationConfig = existsSync(generationFile)
    ? ((await readJson(generationFile)) as Record<string, unknown>)
    : undefined;
  return { config, rawConfig, weights, folder: dir, generationConfig, tokenizerFiles: tokenizerFilesIn(dir) };
}
