// The browser and worker entry: everything but the Node-only parts (disk cache, batch journals and
// sessions, which live in run directories). The Node entry (index.ts) adds those.
export { type CallPolicy, DEFAULT_CALL_POLICY, redact, retryAfterMs, toLmcotError } from "@lmcot/core";
export { AnthropicBatchAPI } from "./batch/anthropic";
export { OpenAIBatchAPI } from "./batch/openai";
export {
  BATCH_LIMITS,
  type BatchAPI,
  type Batchable,
  type BatchLimits,
  type BatchOutcome,
  type BatchProvider,
  type BatchRequest,
  type BatchStatus,
  type MaybeBatchable,
} from "./batch/types";
export { batchUnsupported, type CreateModelOptions, createModel } from "./create";
export {
  type CacheEntry,
  type CacheStore,
  memoryStore,
  type StoreCacheOptions,
  storeCache,
  storeCacheKey,
} from "./middleware/cache-store";
export { indexedDbStore } from "./middleware/idb-store";
export { type LimitOptions, limit } from "./middleware/limit";
export { callPolicy } from "./middleware/policy";
export { type RetryOptions, retry } from "./middleware/retry";
export { timeout } from "./middleware/timeout";
export { type Middleware, wrapModel } from "./middleware/types";
export { UsageMeter, usageMeter } from "./middleware/usage";
export {
  BATCH_DISCOUNT,
  batchCostUsd,
  batchPriceOf,
  costUsd,
  DEFAULT_PRICES,
  DEFAULT_PRICES_DATE,
  estimateBatchCostUsd,
  type Price,
  priceOf,
  setPrices,
} from "./prices";
export { AISDKModel, type FromAISDKOptions, fromAISDK } from "./providers/ai-sdk/bridge";
export { AISDK_PACKAGES, type AISDKPackage } from "./providers/ai-sdk/packages";
export type { AISDKLanguageModel } from "./providers/ai-sdk/spec";
export { AnthropicModel, type AnthropicOptions } from "./providers/anthropic";
export { choiceOptions, ExtractiveReader, extractiveAnswer } from "./providers/extractive";
export { LexicalJudge, lexicalAspectScores } from "./providers/lexical-judge";
export { OpenAIChatModel, type OpenAIChatOptions } from "./providers/openai";
export { expectedReasoningTokens, REASONING_BUDGET, REASONING_SHARE } from "./providers/reasoning";
export {
  apiKeysInEnv,
  getModel,
  listProviders,
  type ProviderFactory,
  type ProviderInfo,
  type ProviderOptions,
  registerProvider,
} from "./registry";
