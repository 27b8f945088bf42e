import { type DataLocation, DataValidationError } from "@lmcot/core";

export const DEFAULT_MAX_RECORD_MB = 64;
const MB = 1024 * 1024;

/**
 * The largest record (an array element, a JSONL line, a whole JSON file) a reader buffers, in bytes:
 * the `maxRecordBytes` option, else `LMCOT_MAX_RECORD_MB`, else 64 MB.
 */
export function maxRecordBytes(option?: number): number {
  if (option !== undefined) return option;
  const env = globalThis.process?.env.LMCOT_MAX_RECORD_MB; // browsers have no process
  if (env === undefined || env === "") return DEFAULT_MAX_RECORD_MB * MB;
  const mb = Number(env);
  if (!(mb > 0)) throw new Error(`LMCOT_MAX_RECORD_MB must be a positive number of megabytes, got "${env}"`);
  return Math.floor(mb * MB);
}

const megabytes = (bytes: number) => `${Number((bytes / MB).toFixed(2))} MB`;

/** The error for a record over the limit, raised while it is still being read. */
export function recordTooLarge(limit: number, at: DataLocation): DataValidationError {
  return new DataValidationError(
    `is larger than the ${megabytes(limit)} record size limit (raise it with LMCOT_MAX_RECORD_MB or the maxRecordBytes option)`,
    at,
  );
}
