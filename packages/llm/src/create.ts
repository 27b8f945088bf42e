import type { LanguageModel } from "@lmcot/core";
import { type DiskCacheOptions, diskCache } from "./middleware/cache";
import { type LimitOptions, limit } from "./middleware/limit";
import { type RetryOptions, retry } from "./middleware/retry";
import { timeout } from "./middleware/timeout";
import { type Middleware, wrapModel } from "./middleware/types";
import { UsageMeter, usageMeter } from "./middleware/usage";
import type { Price } from "./prices";
import { getModel, type ProviderOptions } from "./registry";

export interface CreateModelOptions extends ProviderOptions, LimitOptions {
  /** Disk cache folder; omit for no cache. */
  cacheDir?: string;
  cacheMode?: DiskCacheOptions["mode"];
  retry?: RetryOptions | false;
  /** Per-attempt timeout (default 120 s). */
  timeoutMs?: number;
  meter?: UsageMeter;
  prices?: Record<string, Price>;
}

/**
 * A model with the full stack: usage meter ∘ disk cache ∘ retry ∘ timeout ∘ rate limit ∘ adapter.
 * Cache hits skip the network entirely; retries re-enter the limiter; each attempt has its own timeout.
 */
export function createModel(
  id: string,
  options: CreateModelOptions = {},
): LanguageModel & { meter: UsageMeter } {
  const meter = options.meter ?? new UsageMeter();
  const stack: Middleware[] = [usageMeter(meter, options.prices)];
  if (options.cacheDir) stack.push(diskCache({ dir: options.cacheDir, mode: options.cacheMode }));
  if (options.retry !== false) stack.push(retry(options.retry ?? {}));
  stack.push(timeout(options.timeoutMs ?? 120_000));
  if (options.concurrency || options.rpm || options.tpm) stack.push(limit(options));
  const model = wrapModel(getModel(id, options), stack);
  return Object.assign(model, { meter });
}
