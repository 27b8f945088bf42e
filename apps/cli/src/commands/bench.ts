import { existsSync } from "node:fs";
import {
  type BenchCheck,
  type BenchConfig,
  benchConfigSchema,
  buildReport,
  checkBench,
  estimateBench,
  formatEstimate,
  headlineTable,
  ProgressDisplay,
  type RunBenchResult,
  runBench,
  totalEstimate,
} from "@lmcot/bench";
import { batchPriceOf, priceOf } from "@lmcot/llm";
import type { Command } from "commander";
import { batchInterruptNote, batchOptions, formatBatchEvent } from "../batch-flags";
import { callOptions } from "../call-flags";
import { lockNotice, reportBudgetStop, reportFailures } from "../failures";
import { onInterrupt } from "../interrupt";
import { isQuiet, printResult } from "../log";
import { commandOptions } from "../options";
import { readingInput, UsageError } from "../usage-error";
import type { RegisterCommand } from "./index";

const collect = (value: string, previous: string[] = []) => [
  ...previous,
  ...value.split(",").filter(Boolean),
];

/** `--small kd=transformers:./kd` → `{ label: "kd", id: "transformers:./kd" }`; a bare id is its own label. */
const smallFromFlag = (values: string[]) =>
  values.map((s) => {
    const at = s.lastIndexOf("=");
    return at > 0 ? { label: s.slice(0, at), id: s.slice(at + 1) } : { label: s, id: s };
  });

/**
 * `--datasets hotpotqa:20,2wikimultihopqa:./dev.json,hotpotqa:dev:500` → a sample size, a file, or a
 * split of the full dataset from the cache (`lmcot data get`) with an optional sample size.
 */
const datasetsFromFlag = (values: string[]) =>
  values.map((d) => {
    const [name, first, second] = d.split(":");
    const isSplit = first !== undefined && /^[a-z][\w-]*$/i.test(first) && !existsSync(first);
    const source = second !== undefined || isSplit ? first : undefined;
    const rest = source === undefined ? first : second;
    const file = rest && !/^\d+$/.test(rest) ? rest : undefined;
    return {
      name,
      ...(source ? { source } : {}),
      ...(file ? { file } : {}),
      ...(rest && !file ? { sample: Number(rest) } : {}),
    };
  });

/** The bench config: the embedded defaults, then `--config`'s keys, then the flags (one schema for all). */
export const configFromCommand = (command: Command): BenchConfig =>
  commandOptions(benchConfigSchema, command, { parse: { small: smallFromFlag, datasets: datasetsFromFlag } });

/**
 * Every problem the dry run can find, on stderr; exits 2 when any stops the run. A dry run prints
 * its estimate first when every dataset could be priced (a split not downloaded, from the sample).
 */
async function preflight(config: BenchConfig, dryRun: boolean) {
  const check = await checkBench(config, { dryRun, keepExamples: dryRun });
  for (const w of check.warnings) process.stderr.write(`lmcot: warning: ${w}\n`);
  if (dryRun && check.errors.length && config.datasets.every((d) => check.examples.has(d.name)))
    await printEstimate(config, check);
  if (check.errors.length)
    throw new UsageError(
      `${check.errors.length} problem${check.errors.length === 1 ? "" : "s"} with this run:\n${check.errors.map((e) => `  ${e}`).join("\n")}`,
    );
  return check;
}

/** Calls, tokens and cost per cell and in total; with `--batch` at batch prices, the online total beside. */
async function printEstimate(config: BenchConfig, check: BenchCheck) {
  const price = config.batch ? (id: string) => batchPriceOf(id) : (id: string) => priceOf(id);
  const estimates = await estimateBench(config, price, check.examples, check.scale);
  const lines = estimates.map((e) => formatEstimate(e.cell.id, e));
  lines.push(formatEstimate(config.batch ? "TOTAL at batch prices" : "TOTAL", totalEstimate(estimates)));
  if (config.batch) {
    const online = totalEstimate(
      await estimateBench(config, (id) => priceOf(id), check.examples, check.scale),
    );
    lines.push(`(online, the same grid: ~$${(online.costUsd ?? 0).toFixed(4)})`);
    // Waiting calls are spilled to the run directory, not held: a round's submissions take ~4 bytes a token.
    const gb = (online.inputTokens * 4) / 1e9;
    if (gb >= 1)
      lines.push(
        `(--batch writes each round's submissions to the run directory before it sends them: ~${gb.toFixed(1)} GB of disk for these ${online.calls} calls)`,
      );
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}

type Report = Awaited<ReturnType<typeof buildReport>>;

/** What `--json` prints when the run ends: a program reads this instead of the table. */
function benchSummary(result: RunBenchResult, data: Report["data"], files: string[], seconds: number) {
  return {
    runDir: result.runDir,
    reports: files,
    seconds,
    costUsd: result.costUsd,
    total: result.total,
    failed: result.cells.reduce((n, c) => n + c.errors.length, 0),
    ...(result.stopped ? { stopped: result.stopped } : {}),
    ...(result.batch ? { batch: result.batch } : {}),
    ...(data.offlineNote ? { offlineNote: data.offlineNote } : {}),
    cells: data.cells,
    comparisons: data.comparisons,
  };
}

function summaryText(result: RunBenchResult, data: Report["data"], files: string[], seconds: number) {
  const stopped =
    result.stopped === "abort" && !result.batch?.running.length
      ? "Interrupted; re-run the same command to resume. "
      : "";
  return `\n${headlineTable(data)}\n\n${data.offlineNote ? `Note: ${data.offlineNote}\n\n` : ""}${stopped}Done in ${seconds.toFixed(1)} s, $${result.costUsd.toFixed(4)}. Reports: ${files.join(", ")}\n`;
}

export const registerBench: RegisterCommand = (program: Command) => {
  const bench = batchOptions(callOptions(program.command("bench")))
    .description("run the paper's grid (standard vs CoT vs LM-guided CoT), resumably, and write reports")
    .option("--config <file>", "YAML or JSON config (flags override it)")
    .option("--large <ids>", "large LM id(s), comma-separated", collect)
    .option(
      "--small <label=id>",
      "small LM(s) for LM-guided CoT, e.g. kd=transformers:./kd,kd+rl=transformers:./rl",
      collect,
    )
    .option(
      "--datasets <list>",
      "e.g. hotpotqa:20,2wikimultihopqa (bundled samples), hotpotqa:./dev.json, or hotpotqa:dev:500 (the cache)",
      collect,
    )
    .option("--download", "download a cache dataset (hotpotqa:dev …) that is missing, instead of stopping")
    .option("--min-claim-n <n>", "fewest questions a comparison needs for the report to judge a claim (100)")
    .option("--methods <list>", "standard,cot,lm-guided", collect)
    .option("--seeds <list>", "seeds, comma-separated", collect)
    .option("--self-consistency <k>", "rationales sampled per question (majority vote)")
    .option("--concurrency <n>", "items in flight per cell")
    .option("--budget <usd>", "stop before spending more than this (USD)")
    .option(
      "--allow-smaller",
      "run a dataset smaller than its requested sample on all it has (with a warning)",
    )
    .option("--out <dir>", "run directory (default: runs/bench-<config hash>, so re-running resumes)")
    .option("--cache-dir <dir>", "disk cache for provider calls")
    .option("--no-cache", "call providers even when a cached answer exists")
    .option(
      "--dry-run",
      "check models, keys, model folders and datasets, print calls, tokens and cost per cell and in total; call nothing",
    )
    .option("--json", "print the final summary (per-cell metrics, cost, report files) as JSON")
    .action(async (flags: { dryRun?: boolean; json?: boolean }, command: Command) => {
      const config = configFromCommand(command);
      const check = await preflight(config, flags.dryRun === true);
      if (flags.dryRun) return printEstimate(config, check);
      const display = isQuiet() ? undefined : new ProgressDisplay();
      await onInterrupt(async (signal) => {
        const started = performance.now();
        const result = await runBench(config, {
          signal,
          command: "lmcot bench",
          onLock: lockNotice,
          onProgress: (cell, p) => display?.update(cell, p),
          onBatchEvent: (e) => {
            if (isQuiet()) return;
            const line = formatBatchEvent(e);
            const key = "batchId" in e ? e.batchId : "id" in e ? e.id : undefined;
            if (display && key) display.note(key, line);
            else process.stderr.write(`${line}\n`);
          },
        });
        display?.finish();
        const { data, files } = await buildReport(result.runDir, { minClaimN: config.minClaimN });
        const seconds = (performance.now() - started) / 1000;
        printResult(flags.json, benchSummary(result, data, files, seconds), () =>
          summaryText(result, data, files, seconds),
        );
        reportFailures(
          result.cells.flatMap((c) => c.errors),
          result.total,
          result.fatal,
        );
        if (result.stopped === "budget") reportBudgetStop(result.budgetError?.message);
        if (result.stopped === "abort") {
          process.exitCode = 130;
          batchInterruptNote(result.batch?.running, result.runDir, "lmcot bench");
        }
      });
    });
  bench
    .command("report <runDir>")
    .description("rebuild report.md / report.json / report.html from a run directory's run.jsonl")
    .action(async (runDir: string) => {
      if (!existsSync(`${runDir}/run.jsonl`)) throw new UsageError(`${runDir} has no run.jsonl`);
      const { data, files } = await readingInput(() => buildReport(runDir));
      process.stdout.write(`${headlineTable(data)}\n\nReports: ${files.join(", ")}\n`);
    });
};
