export {
  type CallPolicy,
  callWithPolicy,
  DEFAULT_CALL_POLICY,
  linkedSignal,
  settledOrAborted,
  sleep,
  withAttempts,
} from "./call-policy";
export {
  AbortError,
  AuthenticationError,
  BadRequestError,
  BatchCancelledError,
  BatchExpiredError,
  BudgetExceededError,
  type DataLocation,
  DataValidationError,
  EmptyReplyError,
  errorMessage,
  formatLocation,
  InvalidResponseError,
  LmcotError,
  type LmcotErrorOptions,
  ModelNotFoundError,
  OverloadedError,
  RateLimitError,
  ServerError,
  TimeoutError,
  throwIfAborted,
  UnreadableReplyError,
} from "./errors";
export type { DatasetName, EvidenceTriple, Example, Paragraph, SupportingFact } from "./example";
export {
  FATAL_ERROR_CLASSES,
  type FailureClassSummary,
  type FailureRecord,
  failureRecord,
  fixFor,
  formatFailureSummary,
  isFatalError,
  summarizeFailures,
} from "./failures";
export {
  addUsage,
  type CallWarning,
  emptyUsage,
  type FinishReason,
  type GenerateRequest,
  type GenerateResult,
  type LanguageModel,
  type Message,
  type ReasoningEffort,
  type ReasoningOptions,
  type TokenLogprob,
  type Usage,
} from "./language-model";
export * from "./lexical/index";
export { Limiter, mapLimited } from "./limiter";
export * from "./methods/index";
export { type ParsedModelId, parseModelId } from "./model-id";
export type { MethodName, Prediction, PromptRecord } from "./prediction";
export * from "./prompts/index";
export {
  firstBytes,
  notWireFormat,
  type ReplySeen,
  retryAfterMs,
  toLmcotError,
  type WireContext,
} from "./provider-errors";
export { seededRandom } from "./random";
export type {
  RationaleGenerateOptions,
  RationaleModel,
  RationaleOutput,
  ScoredSequence,
  ScoreRequest,
} from "./rationale-model";
export { redact } from "./redact";
export { type RunKeyParts, type RunStore, runKey } from "./run-store";
export * from "./runner/index";
export { closest, didYouMean, editDistance } from "./suggest";
export {
  ensureMemory,
  instantiateKernel,
  kernelFactory,
  op as wasmOp,
  type WasmKernel,
  wasmModule,
  wasmType,
} from "./wasm";
