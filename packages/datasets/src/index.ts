export { attachAliases, readAliases } from "./aliases";
export {
  type FailureLog,
  openFailureLog,
  openFailures,
  pruneFailures,
  readFailures,
} from "./failure-log";
export { type RawRecord, type ScanOptions, scanJsonArray } from "./json-scan";
export { type JsonlLine, type LineOptions, readLines, scanJsonl } from "./jsonl";
export { DEFAULT_MAX_RECORD_MB, maxRecordBytes } from "./limits";
export { type ReadOptions, readAll, readDataset, readRaw } from "./read";
export {
  datasetOf,
  detectFormat,
  exampleRecord,
  hotpotRecord,
  type RecordFormat,
  twoWikiRecord,
} from "./records";
export { lockRunDir, type RunLock, RunLockedError, type RunLockHolder } from "./run-lock";
export { type JsonlRunStore, openRunStore, type RunStoreInfo } from "./run-store";
export { type ExampleFilter, filterExamples, sample, seededRandom, trainEvalSplit } from "./sample";
export { loadSample, type SampleName, samplePath, samplesDir } from "./samples";
export { endsEarly, jsonError, readJson, readText } from "./text";
export { fieldPath, validate } from "./validate";
