export { type CallPolicy, DEFAULT_CALL_POLICY, redact, retryAfterMs, toLmcotError } from "@lmcot/core";
export {
  type BatchAdminOptions,
  type BatchCancelResult,
  type BatchListing,
  type BatchLiveStatus,
  batchStatuses,
  cancelBatches,
  listBatches,
} from "./batch/admin";
export { AnthropicBatchAPI } from "./batch/anthropic";
export { type BatchJob, journalPaths, readJournal } from "./batch/journal";
export { OpenAIBatchAPI } from "./batch/openai";
export { type BatchEvent, BatchSession, type BatchSessionOptions } from "./batch/session";
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
export { cacheKey, checkCacheDir, type DiskCacheOptions, diskCache } from "./middleware/cache";
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
export { REASONING_BUDGET } from "./providers/reasoning";
export {
  apiKeysInEnv,
  getModel,
  listProviders,
  type ProviderFactory,
  type ProviderInfo,
  type ProviderOptions,
  registerProvider,
} from "./registry";
