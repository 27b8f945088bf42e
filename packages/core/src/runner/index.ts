export { type BatchOptions, runBatch } from "./batch";
export { IdIndex, type IdLocation } from "./id-index";
export { KeySet } from "./key-set";
export {
  BAD_REQUEST_PROBE,
  type ResumableOptions,
  type ResumableResult,
  type RunProgress,
  runResumable,
} from "./resumable";
