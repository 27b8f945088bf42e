import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  approximateTokens,
  type Example,
  formatContext,
  type LanguageModel,
  type LmGuidedOptions,
  methodPromptVersion,
  methods,
  type RationaleModel,
  type RunProgress,
  runResumable,
} from "@lmcot/core";
import { openRunStore } from "@lmcot/datasets";
import { scoreAnswer } from "@lmcot/metrics";
import { type BenchConfig, defaultRunDir } from "./config";
import { loadExamples } from "./data";
import { type BenchRecord, type Cell, cells, itemKey } from "./grid";
import { defaultResolver, type ModelResolver } from "./models";

export interface RunBenchOptions {
  signal?: AbortSignal;
  resolver?: ModelResolver;
  /** Called on every progress event of every cell. */
  onProgress?: (cell: Cell, progress: RunProgress) => void;
  onCellStart?: (cell: Cell, total: number) => void;
}

export interface RunBenchResult {
  runDir: string;
  cells: {
    cell: Cell;
    progress: RunProgress;
    stopped?: "budget" | "abort";
    errors: { key: string; error: string }[];
  }[];
  stopped?: "budget" | "abort";
  costUsd: number;
}

/**
 * Runs the grid: every cell over its examples through `runResumable`, appending to
 * `<runDir>/run.jsonl`. Finished items are skipped on a re-run; a kill loses at most the items in
 * flight. The run stops before the budget would be exceeded.
 */
export async function runBench(config: BenchConfig, options: RunBenchOptions = {}): Promise<RunBenchResult> {
  const runDir = config.out ?? defaultRunDir(config);
  mkdirSync(runDir, { recursive: true });
  writeFileSync(join(runDir, "config.json"), `${JSON.stringify(config, null, 2)}\n`);
  const store = await openRunStore<BenchRecord>(join(runDir, "run.jsonl"));
  const resolver = options.resolver ?? defaultResolver(config.cache ? { cacheDir: config.cacheDir } : {});
  const large = new Map<string, LanguageModel>();
  const small = new Map<string, RationaleModel>();
  const examples = new Map<string, Example[]>();
  for (const d of config.datasets) examples.set(d.name, await loadExamples(d));
  const result: RunBenchResult = { runDir, cells: [], costUsd: 0 };
  // The budget check needs a cost per item before it runs: the mean of what items cost so far.
  const spent = { usd: 0, items: 0 };
  try {
    for (const cell of cells(config)) {
      if (!large.has(cell.large)) large.set(cell.large, await resolver.large(cell.large));
      if (cell.small && !small.has(cell.small.id))
        small.set(cell.small.id, await resolver.small(cell.small.id));
      const items = examples.get(cell.dataset) ?? [];
      const version = methodPromptVersion(cell.method);
      options.onCellStart?.(cell, items.length);
      const methodOptions: LmGuidedOptions = {
        seed: cell.seed,
        context: config.context,
        selfConsistency: config.selfConsistency,
      };
      const outcome = await runResumable<Example, BenchRecord>({
        items,
        keyOf: (e) => itemKey(cell, e, version),
        store,
        concurrency: config.concurrency,
        signal: options.signal,
        budgetUsd: config.budgetUsd === undefined ? undefined : config.budgetUsd - result.costUsd,
        estimateCostUsd: () => (spent.items ? spent.usd / spent.items : 0),
        onProgress: (p) => options.onProgress?.(cell, p),
        run: async (example, { key, signal }) => {
          const models = {
            large: large.get(cell.large)!,
            ...(cell.small ? { small: small.get(cell.small.id)! } : {}),
          };
          const prediction = await methods[cell.method](example, models, { ...methodOptions, signal });
          const gold = example.answerAliases?.length ? example.answerAliases : [example.answer];
          const score = scoreAnswer(prediction.answer, gold);
          spent.usd += prediction.costUsd;
          spent.items++;
          return {
            key,
            cell,
            exampleId: example.id,
            ...(example.type ? { type: example.type } : {}),
            question: example.question,
            gold,
            contextChars: formatContext(example, config.context).length,
            answer: prediction.answer,
            ...(prediction.rationale !== undefined ? { rationale: prediction.rationale } : {}),
            em: score.em,
            f1: score.f1,
            costUsd: prediction.costUsd,
            latencyMs: Math.round(prediction.latencyMs * 100) / 100,
            cached: prediction.cached === true,
            usage: {
              ...prediction.usage.large,
              ...(prediction.usage.small ? { smallOutputTokens: prediction.usage.small.outputTokens } : {}),
            },
            promptVersion: prediction.promptVersion,
          };
        },
      });
      result.costUsd += outcome.progress.costUsd;
      result.cells.push({
        cell,
        progress: outcome.progress,
        stopped: outcome.stopped,
        errors: outcome.errors,
      });
      if (outcome.stopped) {
        result.stopped = outcome.stopped;
        break;
      }
    }
  } finally {
    await store.close();
    for (const m of small.values()) await m.dispose?.();
  }
  return result;
}

/** What one cell would cost, without calling anything. */
export interface CellEstimate {
  cell: Cell;
  examples: number;
  calls: number;
  inputTokens: number;
  outputTokens: number;
  /** USD, or undefined when the model's price is unknown. */
  costUsd: number | undefined;
}

/** Typical reply lengths (tokens) used for estimates. */
const REPLY_TOKENS = { answer: 8, cot: 120, rationale: 80 };

/**
 * `--dry-run`: counts calls and estimates tokens (≈ 4 characters a token) and cost per cell from
 * the rendered prompts, calling nothing. `priceOf` gives USD per million input/output tokens.
 */
export async function estimateBench(
  config: BenchConfig,
  priceOf: (modelId: string) => { input: number; output: number } | undefined,
): Promise<CellEstimate[]> {
  const out: CellEstimate[] = [];
  const examples = new Map<string, Example[]>();
  for (const d of config.datasets) examples.set(d.name, await loadExamples(d));
  for (const cell of cells(config)) {
    const items = examples.get(cell.dataset) ?? [];
    const k = cell.method === "lm-guided" ? config.selfConsistency : 1;
    let inputTokens = 0;
    for (const e of items)
      inputTokens +=
        (approximateTokens(formatContext(e, config.context)) +
          80 +
          (cell.method === "lm-guided" ? REPLY_TOKENS.rationale : 0)) *
        k;
    const outputTokens = items.length * k * (cell.method === "cot" ? REPLY_TOKENS.cot : REPLY_TOKENS.answer);
    const price = cell.large.startsWith("extractive:") ? { input: 0, output: 0 } : priceOf(cell.large);
    out.push({
      cell,
      examples: items.length,
      calls: items.length * k,
      inputTokens,
      outputTokens,
      costUsd: price ? (inputTokens * price.input + outputTokens * price.output) / 1e6 : undefined,
    });
  }
  return out;
}
