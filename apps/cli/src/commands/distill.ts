import { existsSync } from "node:fs";
import { join } from "node:path";
import { apiKeysInEnv, defaultResolver } from "@lmcot/bench";
import type { Example } from "@lmcot/core";
import { loadSample, readAll, trainEvalSplit } from "@lmcot/datasets";
import { distill, type ExportFormat, readKept, validateExport, writeExport } from "@lmcot/train";
import { type Command, Option } from "commander";
import { type CallFlags, callOptions, callPolicyFrom } from "../call-flags";
import { lockNotice, reportFailures } from "../failures";
import { onInterrupt } from "../interrupt";
import { UsageError } from "../usage-error";
import type { RegisterCommand } from "./index";

interface DistillFlags extends CallFlags {
  teacher: string;
  dataset: "hotpotqa" | "2wikimultihopqa";
  input: string;
  out: string;
  evalSize: string;
  samples: string;
  temperature?: string;
  filter: "em" | "f1";
  threshold?: string;
  concurrency: string;
  budget?: string;
  export: string;
  cacheDir: string;
  cache: boolean;
}

/** Export file names in the output folder (docs/training.md uses them). */
const EXPORT_FILES: Record<ExportFormat, string> = {
  trl: "sft-trl",
  openai: "finetune-openai",
  seq2seq: "seq2seq",
  rl: "rl-prompts",
};

/** `--input sample` uses the training side of the bundled sample's seeded train / eval split. */
async function examplesFor(flags: DistillFlags): Promise<Example[]> {
  if (flags.input !== "sample") {
    if (!existsSync(flags.input)) throw new UsageError(`--input: no such file: ${flags.input}`);
    return readAll(flags.input, { dataset: flags.dataset });
  }
  return trainEvalSplit(await loadSample(flags.dataset), Number(flags.evalSize), 0).train;
}

export const registerDistill: RegisterCommand = (program: Command) => {
  callOptions(program.command("distill"))
    .description(
      "rationale distillation (step 1): the teacher writes rationales; correct ones become training data",
    )
    .requiredOption(
      "--teacher <id>",
      "the teacher (large LM) id, e.g. openai:gpt-4o-mini or extractive:reader",
    )
    .addOption(
      new Option("--dataset <name>", "dataset of the input")
        .choices(["hotpotqa", "2wikimultihopqa"])
        .default("hotpotqa"),
    )
    .option(
      "--input <file|sample>",
      "questions to distil: a dataset file, or `sample` (the bundled sample's training split)",
      "sample",
    )
    .option(
      "--eval-size <n>",
      "with --input sample: questions held out for evaluation (the bench's split)",
      "20",
    )
    .requiredOption("--out <dir>", "output directory (re-running resumes it)")
    .option("--samples <k>", "teacher samples per question (keeps every correct one)", "1")
    .option("--temperature <t>", "teacher temperature (default 0, or 0.7 with --samples > 1)")
    .addOption(new Option("--filter <metric>", "correctness filter").choices(["em", "f1"]).default("em"))
    .option("--threshold <x>", "keep when the metric is at least this (default 1 for EM)")
    .option("--concurrency <n>", "teacher calls in flight", "4")
    .option("--budget <usd>", "stop before spending more than this")
    .option(
      "--export <formats>",
      "exports to write from kept.jsonl: trl,openai,seq2seq,rl (or none)",
      "trl,openai,seq2seq,rl",
    )
    .option(
      "--cache-dir <dir>",
      "disk cache of teacher calls (a re-run or a retry costs nothing)",
      ".lmcot/cache",
    )
    .option("--no-cache", "do not read or write the disk cache")
    .action(async (flags: DistillFlags) => {
      const formats = flags.export === "none" ? [] : flags.export.split(",");
      for (const f of formats)
        if (!["trl", "openai", "seq2seq", "rl"].includes(f))
          throw new UsageError(`--export: unknown format "${f}"`);
      const examples = await examplesFor(flags);
      const teacher = await defaultResolver({
        ...(flags.cache ? { cacheDir: flags.cacheDir } : {}),
        limits: callPolicyFrom(flags),
      }).large(flags.teacher);
      let last = 0;
      await onInterrupt(async (signal) => {
        const stats = await distill({
          teacher,
          examples,
          outDir: flags.out,
          command: "lmcot distill",
          onLock: lockNotice,
          secrets: apiKeysInEnv(),
          samples: Number(flags.samples),
          ...(flags.temperature ? { temperature: Number(flags.temperature) } : {}),
          filter: {
            metric: flags.filter,
            threshold: flags.threshold ? Number(flags.threshold) : flags.filter === "em" ? 1 : 0.5,
          },
          concurrency: Number(flags.concurrency),
          ...(flags.budget ? { budgetUsd: Number(flags.budget) } : {}),
          signal,
          onProgress: (p) => {
            if (p.done + p.failed - last >= 25 || p.done + p.failed === p.total) {
              last = p.done + p.failed;
              process.stderr.write(
                `teacher: ${p.done}/${p.total} done, ${p.failed} failed, $${p.costUsd.toFixed(4)}${p.lastError ? ` (last error: ${p.lastError})` : ""}\n`,
              );
            }
          },
        });
        const rows = await readKept(join(flags.out, "kept.jsonl"));
        const written: string[] = [];
        for (const format of formats as ExportFormat[]) {
          const path = join(flags.out, `${EXPORT_FILES[format]}.jsonl`);
          writeExport(rows, format, path);
          await validateExport(path, format);
          written.push(path);
        }
        const stopped =
          stats.stoppedBy === "budget" || stats.stoppedBy === "abort"
            ? `, stopped by ${stats.stoppedBy === "abort" ? "Ctrl-C" : "the budget"} — re-run to resume`
            : "";
        process.stdout.write(
          `${stats.teacher}: kept ${stats.kept} of ${stats.calls} rationales (${(100 * stats.keptRatio).toFixed(1)}%), $${stats.costUsd.toFixed(4)}${stopped}\n` +
            `dropped: ${
              Object.entries(stats.dropReasons)
                .map(([k, v]) => `${k} ${v}`)
                .join(", ") || "none"
            }\n` +
            `files: ${[join(flags.out, "kept.jsonl"), join(flags.out, "dropped.jsonl"), join(flags.out, "stats.json"), ...written].join(", ")}\n`,
        );
        reportFailures(stats.failures, examples.length * Number(flags.samples), stats.fatal);
      });
    });
};
