import { statSync } from "node:fs";
import { join } from "node:path";
import { AbortError } from "@lmcot/core";
import { type Command, Option } from "commander";
import { onInterrupt, wasInterrupted } from "../interrupt";
import { note, printResult } from "../log";
import type { RegisterCommand } from "./index";

interface ExportOnnxFlags {
  out: string;
  quantize?: "q8";
  json?: boolean;
}

const size = (bytes: number) =>
  bytes < 1e6 ? `${(bytes / 1e3).toFixed(1)} kB` : `${(bytes / 1e6).toFixed(1)} MB`;

async function exportOnnx(checkpoint: string, flags: ExportOnnxFlags): Promise<void> {
  const { exportT5OnnxFrom } = await import("@lmcot/small-lm");
  note(`lmcot export onnx: reading ${checkpoint} …\n`);
  // Ctrl-C stops between files and removes the half-written folder
  const result = await onInterrupt((signal) =>
    exportT5OnnxFrom(checkpoint, flags.out, { quantize: flags.quantize, signal }),
  ).catch((error: unknown) => {
    if (wasInterrupted()) throw new AbortError(`interrupted: nothing written to ${flags.out}`);
    throw error;
  });
  const files = result.files.map((file) => ({ file, bytes: statSync(join(result.folder, file)).size }));
  printResult(flags.json, { folder: result.folder, files }, () =>
    [
      `Wrote ${result.folder}:`,
      ...files.map((f) => `  ${f.file.padEnd(44)} ${size(f.bytes).padStart(10)}`),
      "",
      `Use it as transformers:${result.folder} (lmcot ask --small, bench), or in transformers.js directly.`,
      "",
    ].join("\n"),
  );
}

export const registerExport: RegisterCommand = (program: Command) => {
  const command = program
    .command("export")
    .description(
      "turn a Hugging Face T5 / FLAN-T5 checkpoint (folder or hub id) into the ONNX folder transformers.js runs",
    );
  command
    .command("onnx")
    .description(
      "write config, generation config, tokenizer files and onnx/encoder_model.onnx + onnx/decoder_model_merged.onnx",
    )
    .argument(
      "<checkpoint>",
      "a folder with config.json and model.safetensors (or model.safetensors.index.json + shards), or a hub id such as google/flan-t5-small",
    )
    .requiredOption(
      "--out <dir>",
      "the folder to write; must not exist or be empty (written beside it and renamed at the end, so a failure leaves it untouched)",
    )
    .addOption(
      new Option(
        "--quantize <type>",
        "also write int8 weights (onnx/*_quantized.onnx, loaded with dtype q8)",
      ).choices(["q8"]),
    )
    .option("--json", "print the folder and the files written as JSON")
    .action((checkpoint: string, flags: ExportOnnxFlags) => exportOnnx(checkpoint, flags));
};
