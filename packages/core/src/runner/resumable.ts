import { AbortError, BudgetExceededError, LmcotError } from "../errors";
import { type FailureRecord, failureRecord, isFatalError } from "../failures";
import type { RunStore } from "../run-store";

/** A snapshot of a run, sent after every finished, failed or skipped item. */
export interface RunProgress {
  total: number;
  /** Finished in this session or found in the store. */
  done: number;
  /** Found already in the store (resumed). */
  skipped: number;
  failed: number;
  costUsd: number;
  cacheHits: number;
  elapsedMs: number;
  /** Items finished per second in this session. */
  ratePerSecond: number;
  /** Estimated time to finish the rest, at the current rate. */
  etaMs: number | undefined;
  lastError?: string;
}

export interface ResumableOptions<I, R extends { key: string }> {
  items: readonly I[];
  keyOf: (item: I) => string;
  store: RunStore<R>;
  /** Does one item; the record it returns is appended to the store. */
  run: (item: I, context: { key: string; signal: AbortSignal }) => Promise<R>;
  concurrency?: number;
  signal?: AbortSignal;
  /** Stop before starting an item that could take the spend past this many USD. */
  budgetUsd?: number;
  /** What an item may cost before it runs (for the budget); default 0. */
  estimateCostUsd?: (item: I) => number;
  /** What a finished record cost; default `record.costUsd` when it is a number. */
  costOf?: (record: R) => number;
  /** Whether a finished record was served from cache; default `record.cached === true`. */
  cachedOf?: (record: R) => boolean;
  onProgress?: (progress: RunProgress) => void;
  /** The grid cell or stage written into each failure record. */
  cell?: string;
  /** Strings removed from failure messages (the API keys in use); key-shaped text is removed anyway. */
  secrets?: readonly (string | undefined)[];
  /** Each failure as it happens, awaited before the worker goes on (e.g. to append it to errors.jsonl). */
  onFailure?: (failure: FailureRecord, item: I, error: unknown) => void | Promise<void>;
  /** Errors a re-run cannot fix: the first one stops the run; default `isFatalError`. */
  isFatal?: (error: unknown) => boolean;
  /**
   * Runs each item inside it: a provider batch session's `track`, which needs to know when every
   * item in flight is waiting on a batched call before it submits them.
   */
  scope?: <T>(run: () => Promise<T>) => Promise<T>;
  /**
   * An item whose run throws such an error waits on something not there yet (a provider batch's
   * result): it is neither stored nor failed, only counted in `deferred`, to be run again later.
   */
  isDeferred?: (error: unknown) => boolean;
}

export interface ResumableResult {
  progress: RunProgress;
  /** Why the run ended early, if it did. */
  stopped?: "budget" | "abort" | "fatal";
  budgetError?: BudgetExceededError;
  /** The failure that stopped the run, when `stopped` is `fatal`. */
  fatal?: { error: unknown; failure: FailureRecord };
  /** Every item that failed in this session, in the order they failed. */
  errors: FailureRecord[];
  /** Items put off by `isDeferred`. */
  deferred: number;
}

/**
 * A 400 on each of the first this-many items, with nothing succeeding, is a request every item would
 * get (a wrong setting, not a bad item): the run stops instead of paying for the rest.
 */
export const BAD_REQUEST_PROBE = 3;

/** USD with enough digits to tell small amounts apart: $1.50, $0.0002, $0.000001. */
const usd = (x: number) => `$${x >= 0.01 || x === 0 ? x.toFixed(x >= 1 ? 2 : 4) : x.toPrecision(2)}`;

const numberField = (record: unknown, field: string): number => {
  const v = (record as Record<string, unknown>)[field];
  return typeof v === "number" && Number.isFinite(v) ? v : 0;
};

const isBadRequest = (error: unknown) => LmcotError.isInstance(error) && error.code === "bad_request";

/**
 * The resumable runner behind benchmarks and distillation: skips keys the store already has, runs
 * the rest with a concurrency limit, appends every finished record, and stops before the budget
 * would be exceeded or when the signal fires. A failed item is not written to the store (a re-run
 * tries it again) but becomes a `FailureRecord`, passed to `onFailure` at once. A fatal failure
 * (`isFatal`, or a 400 on each of the first `BAD_REQUEST_PROBE` items when none ever succeeded)
 * stops the run: nothing more is started, items already in flight finish and are kept.
 */
export async function runResumable<I, R extends { key: string }>(
  options: ResumableOptions<I, R>,
): Promise<ResumableResult> {
  const started = performance.now();
  const costOf = options.costOf ?? ((r: R) => numberField(r, "costUsd"));
  const cachedOf = options.cachedOf ?? ((r: R) => (r as unknown as { cached?: unknown }).cached === true);
  const estimate = options.estimateCostUsd ?? (() => 0);
  const isFatal = options.isFatal ?? isFatalError;
  const pending = options.items.filter((item) => !options.store.has(options.keyOf(item)));
  const progress: RunProgress = {
    total: options.items.length,
    done: options.items.length - pending.length,
    skipped: options.items.length - pending.length,
    failed: 0,
    costUsd: 0,
    cacheHits: 0,
    elapsedMs: 0,
    ratePerSecond: 0,
    etaMs: undefined,
  };
  const errors: FailureRecord[] = [];
  const report = () => {
    progress.elapsedMs = performance.now() - started;
    const finishedHere = progress.done - progress.skipped;
    progress.ratePerSecond = progress.elapsedMs > 0 ? (finishedHere * 1000) / progress.elapsedMs : 0;
    const left = progress.total - progress.done - progress.failed;
    progress.etaMs = progress.ratePerSecond > 0 ? (left / progress.ratePerSecond) * 1000 : undefined;
    options.onProgress?.({ ...progress });
  };
  report();

  const controller = new AbortController();
  const onAbort = () => controller.abort(options.signal?.reason);
  if (options.signal?.aborted) controller.abort();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  let reserved = 0;
  let stopped: ResumableResult["stopped"];
  let budgetError: BudgetExceededError | undefined;
  let fatal: ResumableResult["fatal"];
  let next = 0;
  const seen = new Set<string>();
  // Items of this run known to work (resumed ones included); while there are none, count the 400s.
  let succeeded = progress.skipped;
  let badRequests = 0;
  let deferred = 0;

  const fail = async (item: I, key: string, error: unknown) => {
    const failure = failureRecord(key, error, {
      ...(options.cell !== undefined ? { cell: options.cell } : {}),
      ...(options.secrets ? { secrets: options.secrets } : {}),
    });
    progress.failed++;
    progress.lastError = failure.message;
    errors.push(failure);
    if (succeeded === 0 && isBadRequest(error)) badRequests++;
    const everyItem = succeeded === 0 && badRequests >= BAD_REQUEST_PROBE;
    if (!fatal && (isFatal(error) || everyItem)) {
      stopped = "fatal";
      fatal = { error, failure };
    }
    await options.onFailure?.(failure, item, error);
  };

  const worker = async () => {
    while (!stopped && next < pending.length) {
      if (controller.signal.aborted) {
        stopped = "abort";
        return;
      }
      const item = pending[next]!;
      const key = options.keyOf(item);
      const cost = estimate(item);
      if (options.budgetUsd !== undefined && progress.costUsd + reserved + cost > options.budgetUsd + 1e-12) {
        stopped = "budget";
        budgetError = new BudgetExceededError(
          `budget of ${usd(options.budgetUsd)} reached: spent ${usd(progress.costUsd)}, next item estimated at ${usd(cost)}; ${pending.length - next} items not run`,
        );
        return;
      }
      next++;
      if (seen.has(key)) continue;
      seen.add(key);
      reserved += cost;
      let failed: { error: unknown } | undefined;
      try {
        const run = () => options.run(item, { key, signal: controller.signal });
        const record = await (options.scope ? options.scope(run) : run());
        if (record.key !== key)
          throw new TypeError(`run() returned a record keyed "${record.key}" for item "${key}"`);
        await options.store.append(record);
        progress.done++;
        succeeded++;
        progress.costUsd += costOf(record);
        if (cachedOf(record)) progress.cacheHits++;
      } catch (error) {
        if (controller.signal.aborted || AbortError.isInstance(error)) {
          stopped ??= "abort";
          return;
        }
        if (options.isDeferred?.(error)) {
          deferred++;
          continue;
        }
        if (BudgetExceededError.isInstance(error) && !fatal) {
          // A spend cap below this runner (a metered model) said no before calling: not a failure.
          stopped = "budget";
          budgetError = error;
          return;
        }
        failed = { error };
      } finally {
        reserved -= cost;
      }
      if (failed) await fail(item, key, failed.error);
      report();
    }
  };
  try {
    const width = Math.max(1, Math.min(options.concurrency ?? 4, pending.length || 1));
    await Promise.all(Array.from({ length: width }, worker));
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
  }
  if (!stopped && options.signal?.aborted) stopped = "abort";
  report();
  return { progress: { ...progress }, stopped, budgetError, ...(fatal ? { fatal } : {}), errors, deferred };
}
