import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { readSafetensors, resolveT5Config, writeSafetensors, writeT5Config } from "@lmcot/model-writer";
import { WordTokenizer } from "../tokenizer";
import type { T5Config } from "./config";
import { T5Model } from "./model";

/** Writes config.json, generation_config.json, tokenizer files and model.safetensors (HF layout). */
export async function saveT5(
  folder: string,
  model: T5Model,
  tokenizer: WordTokenizer,
  maxNewTokens?: number,
): Promise<void> {
  await writeT5Config(folder, model.config, { maxNewTokens });
  await tokenizer.save(folder);
  await writeSafetensors(join(folder, "model.safetensors"), model.weights());
}

/** Reads a folder written by `saveT5` (or any word-level T5 folder with safetensors weights). */
export async function loadT5(
  folder: string,
  trainable = true,
): Promise<{ model: T5Model; tokenizer: WordTokenizer }> {
  const file = join(folder, "config.json");
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, "utf8"));
  } catch (cause) {
    throw new Error(
      `${file}: ${(cause as NodeJS.ErrnoException).code === "ENOENT" ? "not found" : "is not valid JSON"}`,
    );
  }
  let config: T5Config;
  try {
    config = resolveT5Config(raw as Parameters<typeof resolveT5Config>[0]);
  } catch (cause) {
    throw new Error(`${file}: ${(cause as Error).message}`);
  }
  const tokenizer = await WordTokenizer.load(folder);
  if (tokenizer.size > config.vocab_size)
    throw new Error(
      `${folder}: tokenizer has ${tokenizer.size} tokens but vocab_size is ${config.vocab_size}`,
    );
  const weights = await readSafetensors(join(folder, "model.safetensors"));
  return { model: new T5Model(config, weights, trainable), tokenizer };
}
