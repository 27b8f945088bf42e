import type { CallPolicy, LanguageModel } from "@lmcot/core";
import { type DiskCacheOptions, diskCache } from "./middleware/cache";
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
  /** Disk cache folder; omit for no cache. */
  cacheDir?: string;
  cacheMode?: DiskCacheOptions["mode"];
  /** Told once per cache folder when a result could not be cached (default: one line on stderr). */
  onCacheWarning?: DiskCacheOptions["onWarning"];
  /** Backoff settings (`retries` above wins over `maxRetries`), or false for no retries. */
  retry?: RetryOptions | false;
  meter?: UsageMeter;
  prices?: Record<string, Price>;
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
  const stack: Middleware[] = [usageMeter(meter, options.prices)];
  if (options.cacheDir)
    stack.push(
      diskCache({
        dir: options.cacheDir,
        ...(options.cacheMode ? { mode: options.cacheMode } : {}),
        ...(options.onCacheWarning ? { onWarning: options.onCacheWarning } : {}),
      }),
    );
  stack.push(
    callPolicy({
      ...backoff,
      ...(retries !== undefined ? { retries } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.totalTimeoutMs !== undefined ? { totalTimeoutMs: options.totalTimeoutMs } : {}),
    }),
  );
  if (options.concurrency || options.rpm || options.tpm) stack.push(limit(options));
  const model = wrapModel(getModel(id, options), stack);
  return Object.assign(model, { meter });
}
