export { type BatchOptions, runBatch } from "./batch";
export { type ResumableOptions, type ResumableResult, type RunProgress, runResumable } from "./resumable";
