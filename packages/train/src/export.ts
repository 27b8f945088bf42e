import { rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { exportT5Onnx } from "@lmcot/model-writer";
import { saveT5 } from "./t5/folder";
import type { SavableT5 } from "./t5/host";
import type { Tokenizer } from "./tokenizer";

/**
 * Writes a trained model as a complete HF / transformers.js folder: the checkpoint (`saveT5`) and
 * `onnx/encoder_model.onnx` + `onnx/decoder_model_merged.onnx` made from it by `exportT5Onnx`, the
 * code behind `lmcot export onnx`, so `transformers:<folder>` runs it like any FLAN-T5.
 */
export async function exportModel(
  folder: string,
  model: SavableT5,
  tokenizer: Tokenizer,
  maxNewTokens = 64,
): Promise<void> {
  await saveT5(folder, model, tokenizer, maxNewTokens);
  const exported = join(folder, ".onnx-export");
  await rm(exported, { recursive: true, force: true });
  await exportT5Onnx(folder, exported);
  await rm(join(folder, "onnx"), { recursive: true, force: true });
  await rename(join(exported, "onnx"), join(folder, "onnx"));
  // the export's config.json lists ONNX external data files when a model needs them
  await rename(join(exported, "config.json"), join(folder, "config.json"));
  await rm(exported, { recursive: true, force: true });
}
