import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  type FailureRecord,
  formatContext,
  type LanguageModel,
  LmcotError,
  type LmGuidedOptions,
  methodPromptVersion,
  methods,
  type RationaleModel,
  type RunProgress,
  type RunStore,
  runResumable,
} from "@lmcot/core";
import { type openFailureLog, openRunStore, readDataset } from "@lmcot/datasets";
import { apiKeysInEnv, BatchRounds, isBatchDeferred } from "@lmcot/llm";
import type { BenchConfig } from "./config";
import { openContexts } from "./contexts";
import { loadExamples } from "./data";
import { ExampleSpool } from "./example-spool";
import { type BenchRecord, type Cell, cells, itemKey } from "./grid";
import { openGridErrors } from "./grid-errors";
import { parseLarge } from "./large";
import { callLimitsOf, defaultResolver } from "./models";
import { writePlan } from "./plan";
import { RationaleMemo } from "./rationale-memo";
import { benchRecord, type RunBenchOptions, type RunBenchResult } from "./run";
import { writeRunInfo } from "./run-info";

/** A cell across rounds: its last round's progress plus what failed in earlier rounds. */
interface CellState {
  cell: Cell;
  examples: ExampleSpool;
  failed: Set<string>;
  errors: FailureRecord[];
  progress?: RunProgress;
}

/**
 * The grid as provider batches, in rounds: each round runs every unfinished item of every cell,
 * `concurrency` at a time; an item whose large-LM call has no result yet is put off (its call spilled
 * to a submission file), the round's calls go out as batches, and the next round runs the put-off
 * items again, answered from the saved results. Memory is set by the items in flight, not the grid.
 */
export async function runBatchGrid(
  config: BenchConfig,
  runDir: string,
  options: RunBenchOptions,
): Promise<RunBenchResult> {
  writeFileSync(join(runDir, "config.json"), `${JSON.stringify(config, null, 2)}\n`);
  writeRunInfo(runDir, config);
  const spools = new Map<string, ExampleSpool>();
  // A whole file is streamed to the spool; a sample is drawn in memory first, one dataset at a time.
  for (const d of config.datasets) {
    const whole = d.file && d.sample === undefined && d.split === "all" && !d.aliases && !d.source;
    const examples = whole
      ? readDataset(d.file!, { dataset: d.name })
      : await loadExamples(d, {
          allowSmaller: config.allowSmaller,
          download: config.download,
          onWarning: options.onWarning,
        });
    spools.set(d.name, await ExampleSpool.create(join(runDir, "spool", `${spools.size}.jsonl`), examples));
  }
  const grid = cells(config).map((cell) => ({ cell, examples: spools.get(cell.dataset)! }));
  writePlan(runDir, { cells: grid.map(({ cell, examples }) => ({ ...cell, expected: examples.size })) });
  const store = await openRunStore<BenchRecord>(join(runDir, "run.jsonl"));
  const { log: errorLog, total } = await openGridErrors(
    runDir,
    grid.map(({ cell, examples }) => ({ cell, ids: examples.ids })),
    store,
  );
  const input: RoundInput = {
    config,
    options,
    store,
    errorLog,
    contexts: await openContexts(runDir),
    secrets: options.secrets ?? apiKeysInEnv(),
  };
  const { secrets } = input;
  const limits = callLimitsOf(config);
  const rounds = new BatchRounds({
    dir: runDir,
    ...(config.budget !== undefined ? { budgetUsd: config.budget } : {}),
    ...(config.batchPoll !== undefined ? { pollIntervalMs: config.batchPoll * 1000 } : {}),
    ...(config.batchFallback ? { fallback: config.batchFallback } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onBatchEvent ? { onEvent: options.onBatchEvent } : {}),
    ...(options.batchLimits ? { limits: options.batchLimits } : {}),
    policy: limits,
    secrets,
  });
  const resolver =
    options.resolver ?? defaultResolver({ ...(config.cache ? { cacheDir: config.cacheDir } : {}), limits });
  const large = new Map<string, LanguageModel>();
  const memo = new RationaleMemo(join(runDir, "spool", "rationales.jsonl"));
  const small = new Map<string, RationaleModel>();
  const result: RunBenchResult = { runDir, cells: [], total, costUsd: 0 };
  const states: CellState[] = grid.map(({ cell, examples }) => ({
    cell,
    examples,
    failed: new Set(),
    errors: [],
  }));
  try {
    for (const { cell } of grid) {
      const largeId = parseLarge(cell.large).id;
      if (!large.has(largeId)) large.set(largeId, await resolver.large(largeId, { batch: rounds }));
      if (cell.small && !small.has(cell.small.id))
        small.set(cell.small.id, memo.wrap(await resolver.small(cell.small.id)));
    }
    await rounds.open();
    for (const s of states) options.onCellStart?.(s.cell, s.examples.size);
    for (let round = 1; ; round++) {
      let deferred = 0;
      for (const state of states) {
        const outcome = await runRound(input, state, { large, small });
        deferred += outcome.deferred;
        if (!outcome.stopped) continue;
        result.stopped ??= outcome.stopped;
        if (outcome.budgetError) result.budgetError ??= outcome.budgetError;
        if (outcome.fatal) result.fatal ??= outcome.fatal;
        break;
      }
      if (result.stopped || deferred === 0) break;
      const handled = await rounds.collect();
      if (options.signal?.aborted) {
        result.stopped = "abort";
        break;
      }
      if (handled === 0)
        throw new LmcotError(
          "batch_stuck",
          `round ${round}: ${deferred} items wait on provider batches, but none was submitted or running`,
        );
    }
    for (const s of states) {
      const progress = s.progress!;
      result.cells.push({ cell: s.cell, progress, errors: s.errors });
      result.costUsd += progress.costUsd;
    }
  } finally {
    result.batch = { stats: { ...rounds.stats }, running: rounds.runningBatches() };
    await store.close();
    await errorLog.close();
    for (const m of small.values()) await m.dispose?.();
    for (const spool of spools.values()) spool.remove();
    memo.remove();
    rmSync(join(runDir, "spool"), { recursive: true, force: true });
  }
  return result;
}

/** One round of one cell: its unfinished items, failed ones left out, through `runResumable`. */
interface RoundInput {
  config: BenchConfig;
  options: RunBenchOptions;
  store: RunStore<BenchRecord>;
  errorLog: Awaited<ReturnType<typeof openFailureLog>>;
  contexts: Awaited<ReturnType<typeof openContexts>>;
  secrets: readonly string[];
}

async function runRound(
  input: RoundInput,
  state: CellState,
  models: { large: Map<string, LanguageModel>; small: Map<string, RationaleModel> },
) {
  const { config, options, store, errorLog, contexts, secrets } = input;
  const { cell } = state;
  const version = methodPromptVersion(cell.method);
  const { examples } = state;
  const keyOf = (i: number) => itemKey(cell, examples.ids[i]!, version);
  const methodOptions: LmGuidedOptions = {
    seed: cell.seed,
    context: config.context,
    selfConsistency: config.selfConsistency,
    ...(cell.effort ? { reasoning: { effort: cell.effort } } : {}),
  };
  const failedBefore = state.failed.size;
  const costBefore = state.progress?.costUsd ?? 0;
  const cacheHitsBefore = state.progress?.cacheHits ?? 0;
  // Totals over the rounds: an item failed in an earlier round is not run again.
  const merged = (p: RunProgress): RunProgress => ({
    ...p,
    total: p.total + failedBefore,
    failed: p.failed + failedBefore,
    costUsd: p.costUsd + costBefore,
    cacheHits: p.cacheHits + cacheHitsBefore,
  });
  const all = Array.from({ length: examples.size }, (_, i) => i);
  const outcome = await runResumable<number, BenchRecord>({
    items: failedBefore ? all.filter((i) => !state.failed.has(keyOf(i))) : all,
    keyOf,
    store,
    concurrency: config.concurrency,
    signal: options.signal,
    onProgress: (p) => options.onProgress?.(cell, merged(p)),
    cell: cell.id,
    secrets,
    isDeferred: isBatchDeferred,
    onFailure: (failure) => {
      state.failed.add(failure.key);
      return errorLog.append(failure);
    },
    run: async (index, { key, signal }) => {
      const example = examples.read(index);
      const pair = {
        large: models.large.get(parseLarge(cell.large).id)!,
        ...(cell.small ? { small: models.small.get(cell.small.id)! } : {}),
      };
      const prediction = await methods[cell.method](example, pair, { ...methodOptions, signal });
      const contextText = formatContext(example, config.context);
      contexts.add(example, contextText);
      return benchRecord(key, cell, example, prediction, contextText);
    },
  });
  state.errors.push(...outcome.errors);
  state.progress = merged(outcome.progress);
  return outcome;
}
