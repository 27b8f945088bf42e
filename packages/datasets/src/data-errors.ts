import { LmcotError, type LmcotErrorOptions } from "@lmcot/core";

/**
 * Why a dataset could not be had, by `code`: `dataset_unknown` (a usage error), `dataset_missing`
 * (not in the cache), `dataset_offline` (no URL reachable), `checksum_mismatch`, `archive_corrupt`,
 * `download_failed` (an HTTP or network failure; `retryable` says whether trying again may help).
 */
export class DataFetchError extends LmcotError {
  constructor(code: string, message: string, options: LmcotErrorOptions = {}) {
    super(code, message, options);
    this.name = "DataFetchError";
  }

  /** A `DataFetchError` (of `code`, when given), across duplicated package copies. */
  static is(error: unknown, code?: string): error is DataFetchError {
    return (
      LmcotError.isInstance(error) &&
      error.name === "DataFetchError" &&
      (code === undefined || error.code === code)
    );
  }
}
