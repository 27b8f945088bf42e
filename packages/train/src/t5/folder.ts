import { readT5Checkpoint, type T5Checkpoint, writeT5Checkpoint } from "@lmcot/model-writer";
import { loadTokenizer, type Tokenizer } from "../tokenizer";
import type { SavableT5 } from "./host";
import { T5Model } from "./model";

/** A T5 checkpoint folder read into memory and checked, with its tokenizer, before any tensor exists. */
export type T5Folder = T5Checkpoint & { tokenizer: Tokenizer };

/**
 * Writes a Hugging Face T5 folder through `@lmcot/model-writer`'s `writeT5Checkpoint` (what
 * `save_pretrained` writes: config.json, generation_config.json, model.safetensors or shards with
 * an index) and the tokenizer files. A model loaded from a checkpoint keeps its config.json and
 * generation_config.json fields; `maxNewTokens` sets `max_new_tokens` (transformers.js stops at 20
 * tokens without it).
 */
export async function saveT5(
  folder: string,
  model: SavableT5,
  tokenizer: Tokenizer,
  maxNewTokens?: number,
): Promise<void> {
  const source = model.source;
  await writeT5Checkpoint(folder, {
    ...(source === undefined ? { config: model.config } : { rawConfig: source.rawConfig }),
    weights: model.weights(),
    generation: {
      ...source?.generationConfig,
      ...(maxNewTokens === undefined ? {} : { max_new_tokens: maxNewTokens }),
    },
  });
  await tokenizer.save(folder);
}

/**
 * Reads a T5 v1.0 or v1.1 / FLAN-T5 folder written by `saveT5` or by Hugging Face's
 * `save_pretrained` (model.safetensors or a sharded index; F32, F16 or BF16), with its tokenizer.
 * Errors are `BadRequestError`s naming the file and the field or tensor that is wrong.
 */
export async function readT5Folder(folder: string): Promise<T5Folder> {
  const checkpoint = await readT5Checkpoint(folder);
  return { ...checkpoint, tokenizer: await loadTokenizer(checkpoint.folder) };
}

/** A model and its tokenizer from a folder (its path, or what `readT5Folder` read). */
export async function loadT5(
  source: string | T5Folder,
  trainable = true,
): Promise<{ model: T5Model; tokenizer: Tokenizer }> {
  const read = typeof source === "string" ? await readT5Folder(source) : source;
  const model = new T5Model(read.config, read.weights, trainable);
  model.source = { rawConfig: read.rawConfig, generationConfig: read.generationConfig };
  return { model, tokenizer: read.tokenizer };
}
