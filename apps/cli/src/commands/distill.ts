import { existsSync } from "node:fs";
import { join } from "node:path";
import { defaultResolver } from "@lmcot/bench";
import type { Example } from "@lmcot/core";
import { loadSample, readAll, trainEvalSplit } from "@lmcot/datasets";
import { apiKeysInEnv, batchUnsupported, getModel } from "@lmcot/llm";
import { distill, type ExportFormat, readKept, validateExport, writeExport } from "@lmcot/train";
import { type Command, Option } from "commander";
import { batchInterruptNote, batchOptions, batchSessionFrom } from "../batch-flags";
import { callOptions, callPolicyFrom } from "../call-flags";
import { lockNotice, reportBudgetStop, reportFailures } from "../failures";
import { onInterrupt } from "../interrupt";
import { note, printResult } from "../log";
import { commandOptions } from "../options";
import { UsageError } from "../usage-error";
import { type DistillOptions, distillOptionsSchema } from "./distill-options";
import type { RegisterCommand } from "./index";

/** Export file names in the output folder (docs/training.md uses them). */
const EXPORT_FILES: Record<ExportFormat, string> = {
  trl: "sft-trl",
  openai: "finetune-openai",
  seq2seq: "seq2seq",
  rl: "rl-prompts",
};

/**
 * `--input sample` uses the training side of the bundled sample's seeded train / eval split;
 * `--input hotpotqa:train:2000` a seeded sample of a full split from the cache.
 */
async function examplesFor(flags: DistillOptions): Promise<Example[]> {
  const { datasetExamples, isDatasetId } = await import("../dataset-arg");
  if (isDatasetId(flags.input)) return datasetExamples(flags.input, { download: flags.download });
  if (flags.input !== "sample") {
    if (!existsSync(flags.input)) throw new UsageError(`--input: no such file: ${flags.input}`);
    return readAll(flags.input, { dataset: flags.dataset });
  }
  return trainEvalSplit(await loadSample(flags.dataset), flags.evalSize, 0).train;
}

export const registerDistill: RegisterCommand = (program: Command) => {
  batchOptions(callOptions(program.command("distill")))
    .description(
      "rationale distillation (step 1): the teacher writes rationales; correct ones become training data",
    )
    .option(
      "--config <file>",
      "YAML or JSON: any flag below as a key (--eval-size ↔ evalSize); flags override it",
    )
    .option("--teacher <id>", "the teacher (large LM) id, e.g. openai:gpt-4o-mini or extractive:reader")
    .addOption(
      new Option("--dataset <name>", "dataset of the input")
        .choices(["hotpotqa", "2wikimultihopqa"])
        .default("hotpotqa"),
    )
    .option(
      "--input <file|sample|id>",
      "questions to distil: a dataset file, `sample` (the bundled sample's training split), or hotpotqa:train:2000 (the cache)",
      "sample",
    )
    .option("--download", "with --input <id>: download the dataset if it is not in the cache")
    .option(
      "--eval-size <n>",
      "with --input sample: questions held out for evaluation (the bench's split)",
      "20",
    )
    .option("--out <dir>", "output directory (re-running resumes it)")
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
    .option("--json", "print the summary (kept, dropped, cost, files) as JSON")
    .action(async (_flags: unknown, command: Command) => {
      const flags = commandOptions(distillOptionsSchema, command);
      const formats = flags.export;
      const examples = await examplesFor(flags);
      const why = flags.batch ? batchUnsupported(getModel(flags.teacher)) : undefined;
      if (why) throw new UsageError(why);
      const resolver = defaultResolver({
        ...(flags.cache ? { cacheDir: flags.cacheDir } : {}),
        limits: callPolicyFrom(flags),
      });
      const secrets = apiKeysInEnv();
      let last = 0;
      await onInterrupt(async (signal) => {
        // --batch: every question (and sample) in flight at once, so all go into one batch.
        const session = batchSessionFrom(flags, {
          dir: flags.out,
          secrets,
          signal,
          ...(flags.budget !== undefined ? { budgetUsd: flags.budget } : {}),
        });
        const teacher = await resolver.large(flags.teacher, session ? { batch: session } : {});
        const stats = await distill({
          teacher,
          examples,
          outDir: flags.out,
          command: "lmcot distill",
          onLock: lockNotice,
          secrets,
          samples: flags.samples,
          ...(flags.temperature !== undefined ? { temperature: flags.temperature } : {}),
          filter: {
            metric: flags.filter,
            threshold: flags.threshold ?? (flags.filter === "em" ? 1 : 0.5),
          },
          concurrency: session ? Math.max(1, examples.length * flags.samples) : flags.concurrency,
          ...(session ? { scope: session.track } : {}),
          ...(flags.budget !== undefined && !session ? { budgetUsd: flags.budget } : {}),
          signal,
          onProgress: (p) => {
            const finished = p.done + p.failed;
            // The runner reports its end twice (last item, then the run): print it once.
            if (finished !== last && (finished - last >= 25 || finished === p.total)) {
              last = finished;
              note(
                `teacher: ${p.done}/${p.total} done, ${p.failed} failed, $${p.costUsd.toFixed(4)}${p.lastError ? ` (last error: ${p.lastError})` : ""}\n`,
              );
            }
          },
        });
        if (stats.stoppedBy === "abort")
          batchInterruptNote(session?.runningBatches(), flags.out, "lmcot distill");
        const rows = await readKept(join(flags.out, "kept.jsonl"));
        const written: string[] = [];
        for (const format of formats) {
          const path = join(flags.out, `${EXPORT_FILES[format]}.jsonl`);
          writeExport(rows, format, path);
          await validateExport(path, format);
          written.push(path);
        }
        const stopped = stats.stoppedBy === "abort" ? ", stopped by Ctrl-C — re-run to resume" : "";
        const files = [
          join(flags.out, "kept.jsonl"),
          join(flags.out, "dropped.jsonl"),
          join(flags.out, "stats.json"),
          ...written,
        ];
        const { teacher: teacherId, kept, calls, keptRatio, costUsd, dropReasons, stoppedBy } = stats;
        const summary = {
          teacher: teacherId,
          kept,
          calls,
          keptRatio,
          costUsd,
          dropReasons,
          stoppedBy,
          failed: stats.failures.length,
          files,
        };
        printResult(
          (command.opts() as { json?: boolean }).json,
          summary,
          () =>
            `${stats.teacher}: kept ${stats.kept} of ${stats.calls} rationales (${(100 * stats.keptRatio).toFixed(1)}%), $${stats.costUsd.toFixed(4)}${stopped}\n` +
            `dropped: ${
              Object.entries(stats.dropReasons)
                .map(([k, v]) => `${k} ${v}`)
                .join(", ") || "none"
            }\n` +
            `files: ${files.join(", ")}\n`,
        );
        reportFailures(stats.failures, examples.length * flags.samples, stats.fatal);
        if (stats.stoppedBy === "budget") reportBudgetStop(undefined);
      });
    });
};
