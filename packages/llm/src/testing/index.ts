export {
  type BatchAnswer,
  type BatchFate,
  type BatchRequestInfo,
  type BatchServer,
  type BatchServerOptions,
  batchServer,
} from "./batch-server";
export { type ConformanceSubject, languageModelConformance } from "./conformance";
export {
  type Fault,
  type FaultRequest,
  type FaultServer,
  type FaultServerOptions,
  faultServer,
  itemShare,
  type WireApi,
  type WrongEndpoint,
  wrongEndpoint,
} from "./fault-server";
export { FlakyLanguageModel, type FlakyStep } from "./flaky";
export { geminiErrorBody, geminiResponse } from "./gemini";
export { type RationaleConformanceSubject, rationaleModelConformance } from "./rationale-conformance";
export {
  anthropicError,
  anthropicMessage,
  delayed,
  type Handler,
  json,
  type LoopbackOptions,
  loopback,
  openaiCompletion,
  openaiError,
  type Seen,
  sse,
} from "./server";
export { CONFORMANCE_KEY, type ConformanceHarness } from "./suite";
export { anthropicErrorBody, completionsBody, openaiErrorBody } from "./wire";
