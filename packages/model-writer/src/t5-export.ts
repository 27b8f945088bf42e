import { existsSync } from "node:fs";
import { mkdir, readdir, rename, rm, rmdir, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { BadRequestError } from "@lmcot/core";
import { readT5Checkpoint, type T5Checkpoint } from "./checkpoint-read";
import { jsonFile, t5ConfigJson, t5GenerationConfigJson } from "./t5-config";
import { type T5OnnxOptions, type T5OnnxVariant, writeT5Onnx } from "./t5-onnx";
import { copyTokenizerFiles, tokenizerFilesIn } from "./tokenizer-files";

export interface ExportT5OnnxOptions
  extends Pick<T5OnnxOptions, "externalDataThreshold" | "externalDataChunkBytes" | "signal"> {
  /** `"q8"` also writes `onnx/*_quantized.onnx` (int8 weights; transformers.js dtype q8). */
  quantize?: "q8";
  /** Where the tokenizer files come from when `source` is a checkpoint in memory with no folder. */
  tokenizerFrom?: string;
}

/** A checkpoint to export: read from a folder, or built in memory (e.g. by a trainer). */
export type T5ExportSource =
  | string
  | (Pick<T5Checkpoint, "config" | "weights"> & Partial<Omit<T5Checkpoint, "config" | "weights">>);

export interface T5ExportResult {
  folder: string;
  /** Files written, relative to `folder`. */
  files: string[];
}

async function emptyOrAbsent(folder: string): Promise<void> {
  if (!existsSync(folder)) return;
  const entries = await readdir(folder).catch(() => {
    throw new BadRequestError(`${folder}: exists and is not a folder`);
  });
  if (entries.length > 0) {
    throw new BadRequestError(`${folder}: exists and is not empty; choose a new output folder or remove it`);
  }
}

/**
 * Writes the folder transformers.js 4 loads for a T5 (v1.0 or v1.1 / FLAN-T5) checkpoint: config.json
 * (the source's fields), generation_config.json, the tokenizer files copied unchanged,
 * `onnx/encoder_model.onnx` and `onnx/decoder_model_merged.onnx` (+ `_quantized` for q8), with
 * ONNX external data for files past protobuf's 2 GB limit (listed in config.json's
 * `transformers.js_config.use_external_data_format`, so transformers.js fetches them from a hub too).
 * All of it is written to a temporary folder beside `outFolder` and renamed at the end: bad input
 * leaves `outFolder` untouched. `outFolder` must not exist or be empty.
 */
export async function exportT5Onnx(
  source: T5ExportSource,
  outFolder: string,
  options: ExportT5OnnxOptions = {},
): Promise<T5ExportResult> {
  const out = resolve(outFolder);
  await emptyOrAbsent(out);
  const checkpoint = typeof source === "string" ? await readT5Checkpoint(source) : source;
  const tokenizerFolder = options.tokenizerFrom ?? checkpoint.folder;
  if (tokenizerFolder === undefined || !tokenizerFilesIn(tokenizerFolder).includes("tokenizer.json")) {
    throw new BadRequestError(
      `${tokenizerFolder ?? "export"}: no tokenizer.json (transformers.js needs it; pass the folder holding it as tokenizerFrom)`,
    );
  }
  const variants: T5OnnxVariant[] = options.quantize === "q8" ? ["fp32", "q8"] : ["fp32"];

  await mkdir(dirname(out), { recursive: true });
  const temp = join(dirname(out), `.${basename(out)}.tmp-${process.pid}-${Date.now().toString(36)}`);
  await mkdir(temp);
  try {
    const onnx = await writeT5Onnx(temp, checkpoint.config, checkpoint.weights, {
      variants,
      externalDataThreshold: options.externalDataThreshold,
      externalDataChunkBytes: options.externalDataChunkBytes,
      signal: options.signal,
    });
    const config: Record<string, unknown> = {
      ...(checkpoint.rawConfig ?? t5ConfigJson(checkpoint.config)),
      // transformers.js sizes the decoder cache from these: a hand-written config.json may leave them to HF's defaults
      model_type: "t5",
      num_decoder_layers: checkpoint.config.num_decoder_layers,
    };
    if (Object.keys(onnx.externalData).length > 0) {
      const jsConfig = (config["transformers.js_config"] ?? {}) as Record<string, unknown>;
      config["transformers.js_config"] = { ...jsConfig, use_external_data_format: onnx.externalData };
    }
    await writeFile(join(temp, "config.json"), jsonFile(config));
    await writeFile(
      join(temp, "generation_config.json"),
      jsonFile(checkpoint.generationConfig ?? t5GenerationConfigJson(checkpoint.config)),
    );
    const tokenizer = await copyTokenizerFiles(tokenizerFolder, temp);
    options.signal?.throwIfAborted();
    if (existsSync(out)) await rmdir(out);
    await rename(temp, out);
    return { folder: out, files: ["config.json", "generation_config.json", ...tokenizer, ...onnx.files] };
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
}
