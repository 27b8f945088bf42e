import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  type BudgetExceededError,
  type Example,
  type FailureRecord,
  formatContext,
  type LanguageModel,
  type LmGuidedOptions,
  methodPromptVersion,
  methods,
  type Prediction,
  type RationaleModel,
  type ResumableResult,
  type RunProgress,
  runResumable,
} from "@lmcot/core";
import { lockRunDir, openRunStore, type RunLock } from "@lmcot/datasets";
import { apiKeysInEnv, type BatchEvent, type BatchLimits, type BatchRounds } from "@lmcot/llm";
import { scoreAnswer } from "@lmcot/metrics";
import { type BenchConfig, defaultRunDir } from "./config";
import { compactPrompts, openContexts } from "./contexts";
import { type ExampleSource, exampleCursor, openExamples } from "./data";
import { type BenchRecord, type Cell, cells, itemKey } from "./grid";
import { openGridErrors } from "./grid-errors";
import { parseLarge } from "./large";
import { callLimitsOf, defaultResolver, type ModelResolver } from "./models";
import { writePlan } from "./plan";
import { runBatchGrid } from "./run-batch";
import { writeRunInfo } from "./run-info";

export interface RunBenchOptions {
  signal?: AbortSignal;
  resolver?: ModelResolver;
  /** Called on every progress event of every cell. */
  onProgress?: (cell: Cell, progress: RunProgress) => void;
  onCellStart?: (cell: Cell, total: number) => void;
  /** Who holds the run directory's lock, as another process is told (default `runBench`). */
  command?: string;
  /** Called with the directory's lock once taken (`tookOver` says whose stale lock it replaced). */
  onLock?: (lock: RunLock) => void;
  /** Strings to redact from failure messages; default the API keys set in the environment. */
  secrets?: readonly string[];
  /** Told when a dataset has fewer examples than its `sample` asks for (with `allowSmaller`). */
  onWarning?: (message: string) => void;
  /** With `batch: true`: each provider batch submitted, polled, ended (progress while waiting). */
  onBatchEvent?: (event: BatchEvent) => void;
  /** With `batch: true`: limits smaller than the providers' (tests). */
  batchLimits?: Partial<BatchLimits>;
}

export interface RunBenchResult {
  runDir: string;
  cells: {
    cell: Cell;
    progress: RunProgress;
    stopped?: "budget" | "abort" | "fatal";
    /** The items of this cell that failed in this session (also appended to errors.jsonl). */
    errors: FailureRecord[];
  }[];
  stopped?: "budget" | "abort" | "fatal";
  budgetError?: BudgetExceededError;
  /** The failure a re-run cannot fix that stopped the run, when `stopped` is `fatal`. */
  fatal?: { error: unknown; failure: FailureRecord };
  /** Items in the whole grid. */
  total: number;
  costUsd: number;
  /** With `batch: true`: what the batch session did, and the batches still running at the provider. */
  batch?: {
    stats: BatchRounds["stats"];
    running: ReturnType<BatchRounds["runningBatches"]>;
  };
}

/**
 * Runs the grid: every cell over its examples through `runResumable`, appending to
 * `<runDir>/run.jsonl`, and each failed item to `<runDir>/errors.jsonl` as it fails. Finished items
 * are skipped on a re-run; a kill loses at most the items in flight. The run stops before the budget
 * would be exceeded, and at once on a failure a re-run cannot fix. One process at a time: the run
 * directory is locked (`RunLockedError` names the holder).
 */
export async function runBench(config: BenchConfig, options: RunBenchOptions = {}): Promise<RunBenchResult> {
  const runDir = config.out ?? defaultRunDir(config);
  const lock = lockRunDir(runDir, options.command ?? "runBench");
  options.onLock?.(lock);
  try {
    return await runLocked(config, runDir, options);
  } finally {
    lock.release();
  }
}

async function runLocked(
  config: BenchConfig,
  runDir: string,
  options: RunBenchOptions,
): Promise<RunBenchResult> {
  if (config.batch) return runBatchGrid(config, runDir, options);
  writeFileSync(join(runDir, "config.json"), `${JSON.stringify(config, null, 2)}\n`);
  writeRunInfo(runDir, config);
  const contexts = await openContexts(runDir);
  // Examples are read from their files when their cell runs; the run holds their ids only.
  const sources = new Map<string, ExampleSource>();
  for (const d of config.datasets)
    sources.set(
      d.name,
      await openExamples(d, {
        allowSmaller: config.allowSmaller,
        download: config.download,
        onWarning: options.onWarning,
      }),
    );
  const grid = cells(config);
  const sourceOf = (cell: Cell) => sources.get(cell.dataset)!;
  writePlan(runDir, { cells: grid.map((cell) => ({ ...cell, expected: sourceOf(cell).ids.length })) });
  const store = await openRunStore<BenchRecord>(join(runDir, "run.jsonl"));
  const { log: errorLog, total } = await openGridErrors(
    runDir,
    grid.map((cell) => ({ cell, ids: sourceOf(cell).ids })),
    store,
  );
  const secrets = options.secrets ?? apiKeysInEnv();
  const limits = callLimitsOf(config);
  const resolver =
    options.resolver ?? defaultResolver({ ...(config.cache ? { cacheDir: config.cacheDir } : {}), limits });
  const large = new Map<string, LanguageModel>();
  const small = new Map<string, RationaleModel>();
  const result: RunBenchResult = { runDir, cells: [], total, costUsd: 0 };
  // The budget check needs a cost per item before it runs: the mean of what items cost so far.
  const spent = { usd: 0, items: 0 };

  const runCell = async (cell: Cell): Promise<{ cell: Cell; outcome: ResumableResult }> => {
    const largeId = parseLarge(cell.large).id;
    const version = methodPromptVersion(cell.method);
    const items = sourceOf(cell).ids;
    const examples = exampleCursor(sourceOf(cell));
    options.onCellStart?.(cell, items.length);
    const methodOptions: LmGuidedOptions = {
      seed: cell.seed,
      context: config.context,
      selfConsistency: config.selfConsistency,
      ...(cell.effort ? { reasoning: { effort: cell.effort } } : {}),
    };
    const outcome = await runResumable<string, BenchRecord>({
      items,
      keyOf: (id) => itemKey(cell, id, version),
      store,
      concurrency: config.concurrency,
      signal: options.signal,
      budgetUsd: config.budget === undefined ? undefined : config.budget - result.costUsd,
      estimateCostUsd: () => (spent.items ? spent.usd / spent.items : 0),
      onProgress: (p) => options.onProgress?.(cell, p),
      cell: cell.id,
      secrets,
      onFailure: (failure) => errorLog.append(failure),
      run: async (id, { key, signal }) => {
        const example = await examples.take(id);
        const models = {
          large: large.get(largeId)!,
          ...(cell.small ? { small: small.get(cell.small.id)! } : {}),
        };
        const prediction = await methods[cell.method](example, models, { ...methodOptions, signal });
        spent.usd += prediction.costUsd;
        spent.items++;
        const contextText = formatContext(example, config.context);
        contexts.add(example, contextText);
        return benchRecord(key, cell, example, prediction, contextText);
      },
    }).finally(examples.close);
    result.costUsd += outcome.progress.costUsd;
    return { cell, outcome };
  };

  try {
    for (const cell of grid) {
      const largeId = parseLarge(cell.large).id;
      if (!large.has(largeId)) large.set(largeId, await resolver.large(largeId));
      if (cell.small && !small.has(cell.small.id))
        small.set(cell.small.id, await resolver.small(cell.small.id));
    }
    const outcomes: Awaited<ReturnType<typeof runCell>>[] = [];
    for (const cell of grid) {
      const done = await runCell(cell);
      outcomes.push(done);
      if (done.outcome.stopped) break;
    }
    for (const { cell, outcome } of outcomes) {
      const { progress, stopped, errors } = outcome;
      result.cells.push({ cell, progress, stopped, errors });
      if (outcome.stopped && !result.stopped) {
        result.stopped = outcome.stopped;
        if (outcome.budgetError) result.budgetError = outcome.budgetError;
        if (outcome.fatal) result.fatal = outcome.fatal;
      }
    }
  } finally {
    await store.close();
    await errorLog.close();
    for (const m of small.values()) await m.dispose?.();
  }
  return result;
}

/** The run.jsonl record of one finished item. */
export function benchRecord(
  key: string,
  cell: Cell,
  example: Example,
  prediction: Prediction,
  contextText: string,
): BenchRecord {
  const gold = example.answerAliases?.length ? example.answerAliases : [example.answer];
  const score = scoreAnswer(prediction.answer, gold);
  return {
    key,
    cell,
    exampleId: example.id,
    ...(example.type ? { type: example.type } : {}),
    question: example.question,
    gold,
    contextChars: contextText.length,
    answer: prediction.answer,
    ...(prediction.rationale !== undefined ? { rationale: prediction.rationale } : {}),
    em: score.em,
    f1: score.f1,
    costUsd: prediction.costUsd,
    latencyMs: Math.round(prediction.latencyMs * 100) / 100,
    cached: prediction.cached === true,
    usage: {
      ...prediction.usage.large,
      ...(prediction.usage.small
        ? {
            smallInputTokens: prediction.usage.small.inputTokens,
            smallOutputTokens: prediction.usage.small.outputTokens,
          }
        : {}),
    },
    promptVersion: prediction.promptVersion,
    prompts: compactPrompts(prediction.prompts, contextText),
    ...(prediction.samples ? { samples: prediction.samples } : {}),
  };
}
