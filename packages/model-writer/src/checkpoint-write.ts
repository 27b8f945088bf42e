import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BadRequestError } from "@lmcot/core";
import { SAFETENSORS_FILE, SAFETENSORS_INDEX_FILE } from "./checkpoint-read";
import { type SafetensorsDtype, writeSafetensors } from "./safetensors";
import {
  jsonFile,
  parseT5Config,
  type T5Config,
  type T5ConfigInput,
  t5ConfigJson,
  t5GenerationConfigJson,
} from "./t5-config";
import { checkT5Weights, type T5Weights, t5ParameterShapes, type WeightTensor } from "./t5-onnx";
import { copyTokenizerFiles } from "./tokenizer-files";

/** `save_pretrained`'s default `max_shard_size` in transformers 4.x ("5GB", decimal: 5·10⁹ bytes). */
export const DEFAULT_MAX_SHARD_SIZE = 5_000_000_000;

export interface WriteT5CheckpointOptions {
  /** config.json as read (`T5Checkpoint.rawConfig`): written with every field kept. Takes precedence over `config`. */
  rawConfig?: Record<string, unknown>;
  /** The architecture, for a model with no source config.json (HF's T5 fields are written). */
  config?: T5ConfigInput;
  weights: T5Weights;
  /** A folder whose tokenizer files (tokenizer.json, tokenizer_config.json, special_tokens_map.json, spiece.model) are copied byte for byte. */
  tokenizerFrom?: string;
  /** Shard above this many bytes of weights, as `save_pretrained(max_shard_size=…)`; default 5·10⁹. */
  maxShardSize?: number;
  /** How tensors are stored: F32 (default, what training uses), or F16 / BF16 (half the size). */
  dtype?: SafetensorsDtype;
  /** generation_config.json fields (e.g. `T5Checkpoint.generationConfig`, or `{ max_new_tokens: 64 }`) over the config's token ids. */
  generation?: Record<string, unknown>;
}

/**
 * Splits tensors (in state-dict order) into shards of at most `maxShardSize` bytes the way
 * huggingface_hub's `split_torch_state_dict_into_shards` does: a tensor that would tip the current
 * shard over starts a new one; a tensor larger than the limit gets a shard of its own.
 */
export function planShards(sizes: [name: string, bytes: number][], maxShardSize: number): string[][] {
  const shards: string[][] = [];
  let current: string[] = [];
  let currentSize = 0;
  for (const [name, bytes] of sizes) {
    if (bytes > maxShardSize) {
      shards.push([name]);
      continue;
    }
    if (currentSize + bytes > maxShardSize && current.length > 0) {
      shards.push(current);
      current = [];
      currentSize = 0;
    }
    current.push(name);
    currentSize += bytes;
  }
  if (current.length > 0) shards.push(current);
  return shards;
}

const sortedKeys = (value: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/** Removes weight files an earlier save left, so a folder never holds two sets of weights. */
async function removeOldWeights(folder: string): Promise<void> {
  const old = (await readdir(folder)).filter(
    (f) =>
      f === SAFETENSORS_FILE || f === SAFETENSORS_INDEX_FILE || /^model-\d{5}-of-\d{5}\.safetensors$/.test(f),
  );
  for (const f of old) await rm(join(folder, f));
}

/**
 * Writes a Hugging Face T5 folder that `T5ForConditionalGeneration.from_pretrained` loads with no
 * missing or unexpected keys: config.json, generation_config.json, model.safetensors (metadata
 * `{"format":"pt"}`) or, above `maxShardSize`, `model-0000i-of-0000n.safetensors` + index, tensors
 * named and shaped as `save_pretrained` writes them (`shared.weight` only; `lm_head.weight` only when
 * untied), and the tokenizer files of `tokenizerFrom` copied unchanged. Returns the files written.
 */
export async function writeT5Checkpoint(
  folder: string,
  options: WriteT5CheckpointOptions,
): Promise<string[]> {
  let config: T5Config;
  let configJson: Record<string, unknown>;
  if (options.rawConfig !== undefined) {
    config = parseT5Config(options.rawConfig, "rawConfig");
    configJson = options.rawConfig;
  } else if (options.config !== undefined) {
    configJson = t5ConfigJson(options.config);
    config = parseT5Config(configJson, "config");
  } else throw new BadRequestError("writeT5Checkpoint: give rawConfig or config");
  checkT5Weights(config, options.weights, "writeT5Checkpoint weights");
  const shapes = t5ParameterShapes(config);
  const extra = [...options.weights.keys()].find((name) => !shapes.has(name));
  if (extra !== undefined) {
    throw new BadRequestError(
      `writeT5Checkpoint weights: unexpected tensor ${extra} (not part of this T5 architecture; transformers would report it as an unexpected key)`,
    );
  }

  await mkdir(folder, { recursive: true });
  await removeOldWeights(folder);
  const written: string[] = [];
  const write = async (name: string, text: string) => {
    await writeFile(join(folder, name), text);
    written.push(name);
  };
  await write("config.json", jsonFile(sortedKeys(configJson)));
  await write(
    "generation_config.json",
    jsonFile(sortedKeys({ ...t5GenerationConfigJson(config), ...(options.generation ?? {}) })),
  );

  const names = [...shapes.keys()];
  const width = options.dtype === "F16" || options.dtype === "BF16" ? 2 : 4;
  const sizes = names.map((n): [string, number] => [n, (options.weights.get(n)?.data.length ?? 0) * width]);
  const shards = planShards(sizes, options.maxShardSize ?? DEFAULT_MAX_SHARD_SIZE);
  const pick = (list: string[]): T5Weights =>
    new Map(list.map((n) => [n, options.weights.get(n) as WeightTensor]));
  if (shards.length <= 1) {
    await writeSafetensors(join(folder, SAFETENSORS_FILE), pick(names), undefined, options.dtype);
    written.push(SAFETENSORS_FILE);
  } else {
    const weightMap: Record<string, string> = {};
    const count = String(shards.length).padStart(5, "0");
    for (const [i, list] of shards.entries()) {
      const file = `model-${String(i + 1).padStart(5, "0")}-of-${count}.safetensors`;
      await writeSafetensors(join(folder, file), pick(list), undefined, options.dtype);
      written.push(file);
      for (const n of list) weightMap[n] = file;
    }
    const totalSize = sizes.reduce((a, [, b]) => a + b, 0);
    const totalParameters = totalSize / width;
    await write(
      SAFETENSORS_INDEX_FILE,
      jsonFile({
        metadata: { total_parameters: totalParameters, total_size: totalSize },
        weight_map: sortedKeys(weightMap),
      }),
    );
  }
  if (options.tokenizerFrom !== undefined)
    written.push(...(await copyTokenizerFiles(options.tokenizerFrom, folder)));
  return written;
}
