// The Node entry: the browser entry's API plus what needs a disk (the disk cache, batch journals and
// sessions in run directories).
export {
  type BatchAdminOptions,
  type BatchCancelResult,
  type BatchListing,
  type BatchLiveStatus,
  batchStatuses,
  cancelBatches,
  listBatches,
} from "./batch/admin";
export { type BatchJob, journalPaths, readJournal } from "./batch/journal";
export { BatchRounds, isBatchDeferred } from "./batch/rounds";
export { type BatchEvent, BatchSession, type BatchSessionOptions } from "./batch/session";
export type { BatchWrapper } from "./batch/types";
export * from "./browser";
export { cacheKey, checkCacheDir, type DiskCacheOptions, diskCache } from "./middleware/cache";
