export { FlakyLanguageModel, type FlakyStep } from "./flaky";
export {
  anthropicError,
  anthropicMessage,
  delayed,
  type Handler,
  json,
  loopback,
  openaiCompletion,
  openaiError,
  type Seen,
  sse,
} from "./server";
