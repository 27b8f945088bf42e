import { existsSync } from "node:fs";
import {
  type BenchConfigInput,
  buildReport,
  defaultConfig,
  estimateBench,
  headlineTable,
  loadConfig,
  ProgressDisplay,
  parseConfig,
  runBench,
} from "@lmcot/bench";
import { priceOf } from "@lmcot/llm";
import type { Command } from "commander";
import { type CallFlags, callOptions, callPolicyFrom } from "../call-flags";
import { lockNotice, reportFailures } from "../failures";
import { onInterrupt } from "../interrupt";
import { UsageError } from "../usage-error";
import type { RegisterCommand } from "./index";

interface BenchFlags extends CallFlags {
  config?: string;
  large?: string[];
  small?: string[];
  datasets?: string[];
  methods?: string[];
  seeds?: string[];
  selfConsistency?: string;
  concurrency?: string;
  budget?: string;
  out?: string;
  cacheDir?: string;
  cache?: boolean;
  dryRun?: boolean;
}

const collect = (value: string, previous: string[] = []) => [
  ...previous,
  ...value.split(",").filter(Boolean),
];

/** Flags override the config file (or the embedded default): `--datasets hotpotqa:20,2wikimultihopqa`. */
export function configFromFlags(flags: BenchFlags) {
  const base: BenchConfigInput = flags.config ? loadConfig(flags.config) : defaultConfig();
  const merged: Record<string, unknown> = { ...base };
  if (flags.large) merged.large = flags.large;
  if (flags.small) {
    merged.small = flags.small.map((s) => {
      const at = s.lastIndexOf("=");
      return at > 0 ? { label: s.slice(0, at), id: s.slice(at + 1) } : { label: s, id: s };
    });
  }
  if (flags.datasets) {
    merged.datasets = flags.datasets.map((d) => {
      const [name, n] = d.split(":");
      const file = n && !/^\d+$/.test(n) ? n : undefined;
      return { name, ...(file ? { file } : {}), ...(n && !file ? { sample: Number(n) } : {}) };
    });
  }
  if (flags.methods) merged.methods = flags.methods;
  if (flags.seeds) merged.seeds = flags.seeds.map(Number);
  if (flags.selfConsistency) merged.selfConsistency = Number(flags.selfConsistency);
  if (flags.concurrency) merged.concurrency = Number(flags.concurrency);
  if (flags.budget) merged.budgetUsd = Number(flags.budget);
  if (flags.out) merged.out = flags.out;
  if (flags.cacheDir) merged.cacheDir = flags.cacheDir;
  if (flags.cache === false) merged.cache = false;
  const limits = callPolicyFrom(flags);
  if (limits.timeoutMs !== undefined) merged.timeoutS = limits.timeoutMs / 1000;
  if (limits.totalTimeoutMs !== undefined) merged.totalTimeoutS = limits.totalTimeoutMs / 1000;
  if (limits.retries !== undefined) merged.retries = limits.retries;
  return parseConfig(merged, flags.config ?? "command line");
}

export const registerBench: RegisterCommand = (program: Command) => {
  const bench = callOptions(program.command("bench"))
    .description("run the paper's grid (standard vs CoT vs LM-guided CoT), resumably, and write reports")
    .option("--config <file>", "YAML or JSON config (flags override it)")
    .option("--large <ids>", "large LM id(s), comma-separated", collect)
    .option(
      "--small <label=id>",
      "small LM(s) for LM-guided CoT, e.g. kd=transformers:./kd,kd+rl=transformers:./rl",
      collect,
    )
    .option("--datasets <list>", "e.g. hotpotqa:20,2wikimultihopqa or hotpotqa:./dev.json", collect)
    .option("--methods <list>", "standard,cot,lm-guided", collect)
    .option("--seeds <list>", "seeds, comma-separated", collect)
    .option("--self-consistency <k>", "rationales sampled per question (majority vote)")
    .option("--concurrency <n>", "items in flight per cell")
    .option("--budget <usd>", "stop before spending more than this")
    .option("--out <dir>", "run directory (default: runs/bench-<config hash>, so re-running resumes)")
    .option("--cache-dir <dir>", "disk cache for provider calls")
    .option("--no-cache", "call providers even when a cached answer exists")
    .option("--dry-run", "print calls, estimated tokens and cost per cell; call nothing")
    .action(async (flags: BenchFlags) => {
      if (flags.config && !existsSync(flags.config))
        throw new UsageError(`--config: no such file: ${flags.config}`);
      const config = configFromFlags(flags);
      if (flags.dryRun) {
        const estimates = await estimateBench(config, (id) => priceOf(id));
        for (const e of estimates) {
          process.stdout.write(
            `${e.cell.id}: ${e.examples} examples, ${e.calls} large-LM calls, ~${e.inputTokens} input + ~${e.outputTokens} output tokens, ${e.costUsd === undefined ? "cost unknown (no price for this model)" : `~$${e.costUsd.toFixed(4)}`}\n`,
          );
        }
        return;
      }
      const display = new ProgressDisplay();
      await onInterrupt(async (signal) => {
        const started = performance.now();
        const result = await runBench(config, {
          signal,
          command: "lmcot bench",
          onLock: lockNotice,
          onProgress: (cell, p) => display.update(cell, p),
        });
        const { data, files } = await buildReport(result.runDir);
        process.stdout.write(`\n${headlineTable(data)}\n\n`);
        if (data.offlineNote) process.stdout.write(`Note: ${data.offlineNote}\n\n`);
        process.stdout.write(
          `${result.stopped === "budget" ? `Stopped at the budget: ${result.budgetError?.message ?? ""}. ` : result.stopped === "abort" ? "Interrupted; re-run the same command to resume. " : ""}Done in ${((performance.now() - started) / 1000).toFixed(1)} s, $${result.costUsd.toFixed(4)}. Reports: ${files.join(", ")}\n`,
        );
        reportFailures(
          result.cells.flatMap((c) => c.errors),
          result.total,
          result.fatal,
        );
        if (result.stopped === "abort") process.exitCode = 130;
      });
    });
  bench
    .command("report <runDir>")
    .description("rebuild report.md / report.json / report.html from a run directory's run.jsonl")
    .action(async (runDir: string) => {
      if (!existsSync(`${runDir}/run.jsonl`)) throw new UsageError(`${runDir} has no run.jsonl`);
      const { data, files } = await buildReport(runDir);
      process.stdout.write(`${headlineTable(data)}\n\nReports: ${files.join(", ")}\n`);
    });
};
