import { existsSync } from "node:fs";
import { basename } from "node:path";
import { DataValidationError } from "@lmcot/core";
import { bootstrapCIs, type OfficialGold, officialEval, pythonRound } from "@lmcot/metrics";
import { type Command, Option } from "commander";
import { selectCells } from "../eval/cells";
import { type EvalDataset, readGold } from "../eval/gold";
import { type PredictionSet, readPredictions } from "../eval/predictions";
import { UsageError } from "../usage-error";
import type { RegisterCommand } from "./index";

export interface EvalReport {
  /** The run cell scored (method, models, dataset, seed); absent for an official prediction file. */
  cell?: string;
  dataset: EvalDataset;
  n: number;
  missing: number;
  /** Fractions in [0, 1], as `hotpot_evaluate_v1.py` prints them. */
  metrics: Record<string, number>;
  ci95: { em: [number, number]; f1: [number, number] };
  /** 2WikiMultiHopQA only: what its script prints (percentages rounded to 2 decimals). */
  scriptPrinted?: Record<string, number>;
}

export interface EvalOptions {
  dataset: EvalDataset;
  gold: string;
  pred: string;
  aliases?: string;
  seed?: number;
  /** Bootstrap 95% CIs of EM and F1 (default true; the official script has none). */
  ci?: boolean;
  /** Score gold questions without a prediction 0, as the official script does, instead of failing. */
  allowMissing?: boolean;
  /** Score only this cell of a run file (its id, or a part of one id). */
  cell?: string;
  onWarning?: (message: string) => void;
}

/** Fails on gold questions that have no prediction unless they are allowed, then they are a warning. */
function checkMissing(gold: readonly OfficialGold[], set: PredictionSet, options: EvalOptions): void {
  const answers = set.prediction.answer ?? {};
  const missing = gold.filter((g) => !Object.hasOwn(answers, g._id)).map((g) => g._id);
  if (missing.length === 0) return;
  const file = basename(options.pred);
  const where = set.cell ? ` in cell "${set.cell}"` : "";
  const counted = `${missing.length} of the ${gold.length} gold questions${where}`;
  if (options.allowMissing) {
    options.onWarning?.(`${file}: no prediction for ${counted}; scored 0, as the official script does`);
    return;
  }
  const ids = new Set(gold.map((g) => g._id));
  const strays = Object.keys(answers).filter((id) => !ids.has(id)).length;
  const examples = missing.slice(0, 3).join(", ") + (missing.length > 3 ? ", …" : "");
  throw new DataValidationError(
    `has no prediction for ${counted} (${examples})${strays ? `, and ${strays} prediction(s) for ids not in ${basename(options.gold)}` : ""}; pass --allow-missing to score them 0 as the official script does`,
    { file },
  );
}

function score(
  gold: readonly OfficialGold[],
  set: PredictionSet,
  aliases: ReadonlyMap<string, string[]>,
  options: EvalOptions,
): EvalReport {
  checkMissing(gold, set, options);
  const result = officialEval(options.dataset, gold, set.prediction, aliases);
  const none = { low: Number.NaN, high: Number.NaN };
  const [emCI, f1CI] =
    options.ci === false
      ? [none, none]
      : bootstrapCIs([result.items.map((i) => i.em), result.items.map((i) => i.f1)], {
          seed: options.seed ?? 0,
        });
  const metrics = result.metrics as unknown as Record<string, number>;
  return {
    ...(set.cell ? { cell: set.cell } : {}),
    dataset: options.dataset,
    n: result.n,
    missing: result.missing.filter((m) => m.startsWith("missing answer")).length,
    metrics,
    ci95: { em: [emCI.low, emCI.high], f1: [f1CI.low, f1CI.high] },
    ...(options.dataset === "2wikimultihopqa"
      ? {
          scriptPrinted: Object.fromEntries(
            Object.entries(metrics).map(([k, v]) => [k, pythonRound(v * 100, 2)]),
          ),
        }
      : {}),
  };
}

/**
 * Scores a prediction file against a gold file exactly as the official script does, with CIs: one
 * report per cell of a run file (a method with its models, dataset and seed), or one for an official file.
 */
export async function evaluateFiles(options: EvalOptions): Promise<EvalReport[]> {
  const warn = options.onWarning ?? (() => {});
  const [gold, sets, aliases] = await Promise.all([
    readGold(options.gold, options.dataset),
    readPredictions(options.pred, warn),
    // The aliases reader validates with zod: loaded only for 2WikiMultiHopQA runs that need it.
    options.aliases
      ? import("@lmcot/datasets").then(({ readAliases }) => readAliases(options.aliases!))
      : Promise.resolve(new Map<string, string[]>()),
  ]);
  return selectCells(sets, options, warn).map((set) => score(gold, set, aliases, options));
}

function table(report: EvalReport): string {
  const fmt = (x: number) => x.toFixed(4);
  const rows = Object.entries(report.metrics).map(([k, v]) => {
    const ci = k === "em" || k === "f1" ? `[${fmt(report.ci95[k][0])}, ${fmt(report.ci95[k][1])}]` : "";
    return `${k.padEnd(13)} ${fmt(v)}  ${ci}`;
  });
  return [
    ...(report.cell ? [`cell: ${report.cell}`] : []),
    `${report.dataset}: ${report.n} gold records, ${report.missing} without a predicted answer (scored 0)`,
    `${"metric".padEnd(13)} ${"value".padEnd(6)}  95% bootstrap CI`,
    ...rows,
    "values are fractions in [0, 1], computed as the official script does",
  ].join("\n");
}

type EvalFlags = Omit<EvalOptions, "seed"> & { seed: string; json?: boolean; download?: boolean };

/** `--gold hotpotqa:dev`: the cached file, its dataset, and for 2Wiki the id_aliases.json unpacked beside it. */
async function goldFromCache(opts: EvalFlags): Promise<void> {
  const { datasetFile, isDatasetId } = await import("../dataset-arg");
  if (!isDatasetId(opts.gold)) return;
  const gold = await datasetFile(opts.gold, opts.download);
  opts.gold = gold.path;
  opts.dataset ??= gold.name as EvalDataset;
  const aliases = `${gold.dir}/id_aliases.json`;
  if (gold.name === "2wikimultihopqa" && !opts.aliases && existsSync(aliases)) opts.aliases = aliases;
}

export const registerEval: RegisterCommand = (program: Command) => {
  program
    .command("eval")
    .description("score predictions with the official HotpotQA / 2WikiMultiHopQA metrics (and 95% CIs)")
    .addOption(
      new Option("--dataset <name>", "which official script (default: the --gold dataset's)").choices([
        "hotpotqa",
        "2wikimultihopqa",
      ]),
    )
    .requiredOption("--gold <file|id>", "the gold file (official JSON array or JSONL), or hotpotqa:dev …")
    .option("--download", "with --gold <id>: download the dataset if it is not in the cache")
    .requiredOption(
      "--pred <file>",
      'predictions: official {"answer": {...}, "sp": {...}} JSON, or an lmcot run JSONL (one table per cell)',
    )
    .option("--aliases <file>", "2WikiMultiHopQA id_aliases.json (answer and evidence aliases)")
    .option("--cell <id>", "score only this cell of a run file (its id, or a part of one id)")
    .option(
      "--allow-missing",
      "score gold questions without a prediction 0 (with a warning) instead of failing",
    )
    .option("--seed <n>", "bootstrap seed", "0")
    .option("--json", "print JSON: one object per line, one line per cell")
    .action(async (opts: EvalFlags) => {
      await goldFromCache(opts);
      for (const [flag, path] of [
        ["--gold", opts.gold],
        ["--pred", opts.pred],
        ["--aliases", opts.aliases],
      ] as const) {
        if (path !== undefined && !existsSync(path)) throw new UsageError(`${flag}: no such file: ${path}`);
      }
      if (!opts.dataset) throw new UsageError("--dataset is required when --gold is a file");
      const reports = await evaluateFiles({
        ...opts,
        seed: Number(opts.seed),
        onWarning: (message) => process.stderr.write(`lmcot: warning: ${message}\n`),
      });
      const out = opts.json ? reports.map((r) => JSON.stringify(r)) : reports.map(table);
      process.stdout.write(`${out.join(opts.json ? "\n" : "\n\n")}\n`);
    });
};
