import { existsSync } from "node:fs";
import { copyFile, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { BadRequestError } from "@lmcot/core";

/** The tokenizer files of a Hugging Face T5 folder, copied byte for byte when a checkpoint is saved or exported. */
export const T5_TOKENIZER_FILES = [
  "tokenizer.json",
  "tokenizer_config.json",
  "special_tokens_map.json",
  "spiece.model",
  "added_tokens.json",
] as const;

/** The tokenizer files present in `folder`. */
export function tokenizerFilesIn(folder: string): string[] {
  return T5_TOKENIZER_FILES.filter((f) => existsSync(join(folder, f)));
}

/** Copies the tokenizer files of `from` into `to` unchanged; returns the names copied. */
export async function copyTokenizerFiles(from: string, to: string): Promise<string[]> {
  const files = tokenizerFilesIn(from);
  if (resolve(from) === resolve(to)) return files;
  for (const f of files) await copyFile(join(from, f), join(to, f));
  return files;
}

/**
 * How many ids a `tokenizer.json` can produce: its model vocabulary (Unigram list or BPE / WordLevel
 * map) and its added tokens, as the largest id + 1.
 */
export function tokenizerIdCount(tokenizer: unknown, source: string): number {
  const model = (tokenizer as { model?: { vocab?: unknown } } | null)?.model;
  const vocab = model?.vocab;
  let count: number;
  if (Array.isArray(vocab)) count = vocab.length;
  else if (typeof vocab === "object" && vocab !== null) {
    count = 0;
    for (const id of Object.values(vocab)) if (typeof id === "number") count = Math.max(count, id + 1);
  } else throw new BadRequestError(`${source}: model.vocab: missing (not a tokenizers tokenizer.json)`);
  const added = (tokenizer as { added_tokens?: unknown }).added_tokens;
  if (Array.isArray(added)) {
    for (const t of added) {
      const id = (t as { id?: unknown })?.id;
      if (typeof id === "number") count = Math.max(count, id + 1);
    }
  }
  return count;
}

/**
 * Throws when `folder`'s `tokenizer.json` can produce ids the model has no embedding row for
 * (a config `vocab_size` larger than the tokenizer's, as FLAN-T5's 32128 vs 32100, is fine).
 */
export async function checkTokenizerFits(
  folder: string,
  vocabSize: number,
  configFile: string,
): Promise<void> {
  const file = join(folder, "tokenizer.json");
  if (!existsSync(file)) return;
  let tokenizer: unknown;
  try {
    tokenizer = JSON.parse(await readFile(file, "utf8"));
  } catch {
    throw new BadRequestError(`${file}: not valid JSON`);
  }
  const ids = tokenizerIdCount(tokenizer, file);
  if (ids > vocabSize) {
    throw new BadRequestError(
      `${file}: the tokenizer has ${ids} entries (ids 0–${ids - 1}) but ${configFile} vocab_size is ${vocabSize}; ` +
        "ids past the embedding matrix cannot be looked up (use the tokenizer the model was trained with)",
    );
  }
}
