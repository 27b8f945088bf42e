export { attachAliases, readAliases } from "./aliases";
export { dataDir, type FileRecord, hashFile, type Manifest, readManifest } from "./data-cache";
export { DataFetchError } from "./data-errors";
export { type DatasetStatus, listDatasets, type VerifiedDataset, verifyDataset } from "./data-status";
export { type DatasetSpec, loadDatasetSpec, parseDatasetSpec, reservoirSample } from "./dataset-spec";
export { type Downloaded, type DownloadOptions, type DownloadProgress, downloadFile } from "./download";
export {
  DEFAULT_MAX_DATA_MB,
  DEFAULT_STALL_TIMEOUT_S,
  DEFAULT_TOTAL_TIMEOUT_S,
  type DownloadLimits,
  downloadLimits,
  type LimitOptions,
  MAX_EXPANSION,
} from "./download-limits";
export {
  type FailureLog,
  openFailureLog,
  openFailures,
  pruneFailures,
  readFailures,
} from "./failure-log";
export * from "./files";
export { type GetDatasetOptions, getDataset, type LocalDataset, missingError } from "./get-dataset";
export { type ParseAs, type ParseResult, parseCheck } from "./parse-check";
export { formatProgress, stderrProgress } from "./progress";
export { type ReadOptions, readAll, readDataset } from "./read";
export {
  detectFormat,
  exampleRecord,
  hotpotRecord,
  type RecordFormat,
  twoWikiRecord,
} from "./records";
export { BUILTIN_SOURCES, canonicalId, type DataDownload, type DataSource } from "./registry";
export { lockRunDir, type RunLock, RunLockedError, type RunLockHolder } from "./run-lock";
export { type JsonlRunStore, openRunStore, type RunStoreInfo } from "./run-store";
export { type ExampleFilter, filterExamples, sample, seededRandom, trainEvalSplit } from "./sample";
export { loadSample, type SampleName, samplePath, samplesDir } from "./samples";
export { findSource, listSources, type RegistryOptions, type UserDataEntry } from "./user-registry";
export { parseJsonLine, readValidatedJsonl } from "./validated-jsonl";
