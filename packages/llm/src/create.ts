import { type CallPolicy, type LanguageModel, LmcotError } from "@lmcot/core";
import type { BatchWrapper, MaybeBatchable } from "./batch/types";
import { type DiskCacheOptions, diskCache } from "./middleware/cache";
import { type CacheStore, storeCache } from "./middleware/cache-store";
import { type LimitOptions, limit } from "./middleware/limit";
import { callPolicy } from "./middleware/policy";
import type { RetryOptions } from "./middleware/retry";
import { type Middleware, wrapModel } from "./middleware/types";
import { UsageMeter, usageMeter } from "./middleware/usage";
import type { Price } from "./prices";
import { getModel, type ProviderOptions } from "./registry";

export interface CreateModelOptions
  extends ProviderOptions,
    LimitOptions,
    Pick<CallPolicy, "retries" | "timeoutMs" | "totalTimeoutMs"> {
  /** Disk cache folder (Node); omit for no cache. */
  cacheDir?: string;
  /** A cache on any platform: `memoryStore()`, `indexedDbStore()` in browsers, or your own. */
  cacheStore?: CacheStore;
  cacheMode?: DiskCacheOptions["mode"];
  /** Told once per cache folder when a result could not be cached (default: one line on stderr). */
  onCacheWarning?: DiskCacheOptions["onWarning"];
  /** Backoff settings (`retries` above wins over `maxRetries`), or false for no retries. */
  retry?: RetryOptions | false;
  meter?: UsageMeter;
  prices?: Record<string, Price>;
  /** Send calls through this session's provider batches (OpenAI, Anthropic) at batch prices. */
  batch?: BatchWrapper;
}

/** Why `model` cannot go through a provider batch API, or undefined when it can. */
export function batchUnsupported(model: LanguageModel & MaybeBatchable): string | undefined {
  return model.batchable?.()
    ? undefined
    : `${model.id} has no batch API: --batch works with openai:… and anthropic:… models only (not openai-compatible servers, AI SDK providers or the offline models)`;
}

/**
 * A model with the full stack: usage meter ∘ disk cache ∘ call policy ∘ rate limit ∘ adapter.
 * Cache hits skip the network entirely; the call policy (core's: per-attempt timeout, default 60 s;
 * retries honouring retry-after, default 4; total cap, default 300 s) is one layer, and its retries
 * re-enter the limiter.
 */
export function createModel(
  id: string,
  options: CreateModelOptions = {},
): LanguageModel & { meter: UsageMeter } {
  const meter = options.meter ?? new UsageMeter();
  const { maxRetries, ...backoff } = options.retry || {};
  const retries = options.retries ?? (options.retry === false ? 0 : maxRetries);
  // What every call goes through, batched or not; then what only calls made online go through.
  const outer: Middleware[] = [usageMeter(meter, options.prices)];
  const caching = {
    ...(options.cacheMode ? { mode: options.cacheMode } : {}),
    ...(options.onCacheWarning ? { onWarning: options.onCacheWarning } : {}),
  };
  if (options.cacheDir) outer.push(diskCache({ dir: options.cacheDir, ...caching }));
  if (options.cacheStore) outer.push(storeCache({ store: options.cacheStore, ...caching }));
  const online: Middleware[] = [
    callPolicy({
      ...backoff,
      ...(retries !== undefined ? { retries } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.totalTimeoutMs !== undefined ? { totalTimeoutMs: options.totalTimeoutMs } : {}),
    }),
  ];
  if (options.concurrency || options.rpm || options.tpm) online.push(limit(options));
  const adapter = getModel(id, options) as LanguageModel & MaybeBatchable;
  if (!options.batch) return Object.assign(wrapModel(adapter, [...outer, ...online]), { meter });
  const batchable = adapter.batchable?.();
  if (!batchable) throw new LmcotError("batch_unsupported", batchUnsupported(adapter)!);
  // Usage meter ∘ disk cache ∘ batch; the call policy and limiter serve only the online fallback.
  const batched = options.batch.wrap(adapter, batchable, wrapModel(adapter, online));
  return Object.assign(wrapModel(batched, outer), { meter });
}
