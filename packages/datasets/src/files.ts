// The file readers without the record schemas: importing this entry does not load zod, so a command
// that only reads files (`lmcot eval`) starts fast.
export { type RawRecord, type ScanOptions, scanJsonArray, scanJsonArrayBatches } from "./json-scan";
export { type JsonlLine, type LineOptions, readLines, scanJsonl } from "./jsonl";
export { DEFAULT_MAX_RECORD_MB, maxRecordBytes } from "./limits";
export { readRaw, readRawBatches } from "./raw";
export { datasetOf } from "./shape";
export { endsEarly, jsonError, readJson, readText } from "./text";
export { describeIssue, fieldPath, validate } from "./validate";
