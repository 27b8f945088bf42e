export { type CallPolicy, DEFAULT_CALL_POLICY, redact, retryAfterMs, toLmcotError } from "@lmcot/core";
export { type CreateModelOptions, createModel } from "./create";
export { cacheKey, checkCacheDir, type DiskCacheOptions, diskCache } from "./middleware/cache";
export { type LimitOptions, limit } from "./middleware/limit";
export { callPolicy } from "./middleware/policy";
export { type RetryOptions, retry } from "./middleware/retry";
export { timeout } from "./middleware/timeout";
export { type Middleware, wrapModel } from "./middleware/types";
export { UsageMeter, usageMeter } from "./middleware/usage";
export { costUsd, DEFAULT_PRICES, DEFAULT_PRICES_DATE, type Price, priceOf, setPrices } from "./prices";
export { AnthropicModel, type AnthropicOptions } from "./providers/anthropic";
export { choiceOptions, ExtractiveReader, extractiveAnswer } from "./providers/extractive";
export { OpenAIChatModel, type OpenAIChatOptions } from "./providers/openai";
export {
  apiKeysInEnv,
  getModel,
  listProviders,
  type ProviderFactory,
  type ProviderInfo,
  type ProviderOptions,
  registerProvider,
} from "./registry";
