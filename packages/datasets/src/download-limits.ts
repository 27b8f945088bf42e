import { DataFetchError } from "./data-errors";

const MB = 1024 * 1024;

/** Default largest file a download or an unpacked archive member may become: 4 GiB. */
export const DEFAULT_MAX_DATA_MB = 4096;
/** Compressed data expanding more than this is refused, whatever the limit: a bomb, not a dataset (JSON text deflates 3–10×). */
export const MAX_EXPANSION = 100;
/** Below this size the expansion ratio is not judged. */
export const EXPANSION_FLOOR = MB;
export const DEFAULT_STALL_TIMEOUT_S = 30;
export const DEFAULT_TOTAL_TIMEOUT_S = 3600;

/** How long a download may stall and last, and how large it may grow (all bounded). */
export interface DownloadLimits {
  /** An attempt receiving nothing for this long is dropped and retried. */
  stallTimeoutMs: number;
  /** Every attempt and URL of one dataset together, waits included. */
  totalTimeoutMs: number;
  /** The largest file a download (decoded) or an unpacked member may become. */
  maxBytes: number;
}

export interface LimitOptions {
  /** Default `$LMCOT_DATA_STALL_TIMEOUT` seconds, else 30 s. */
  stallTimeoutMs?: number;
  /** Default `$LMCOT_DATA_TOTAL_TIMEOUT` seconds, else 1 hour. */
  totalTimeoutMs?: number;
  /** Default `$LMCOT_DATA_MAX_MB` megabytes, else 4 GiB. */
  maxBytes?: number;
}

function fromEnv(name: string, fallback: number, unit: string): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const n = Number(raw);
  if (!(n > 0) || !Number.isFinite(n))
    throw new DataFetchError("invalid_setting", `${name} must be a positive number of ${unit}, got "${raw}"`);
  return n;
}

function positive(name: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!(value > 0) || !Number.isFinite(value))
    throw new DataFetchError("invalid_setting", `${name} must be a positive number, got ${value}`);
  return value;
}

/** The options, else the source's registry entry, else the environment, else the defaults. */
export function downloadLimits(options: LimitOptions, source: LimitOptions = {}): DownloadLimits {
  const stall = positive("stallTimeoutMs", options.stallTimeoutMs) ?? source.stallTimeoutMs;
  const total = positive("totalTimeoutMs", options.totalTimeoutMs) ?? source.totalTimeoutMs;
  const max = positive("maxBytes", options.maxBytes) ?? source.maxBytes;
  return {
    stallTimeoutMs: stall ?? fromEnv("LMCOT_DATA_STALL_TIMEOUT", DEFAULT_STALL_TIMEOUT_S, "seconds") * 1000,
    totalTimeoutMs: total ?? fromEnv("LMCOT_DATA_TOTAL_TIMEOUT", DEFAULT_TOTAL_TIMEOUT_S, "seconds") * 1000,
    maxBytes: max ?? Math.floor(fromEnv("LMCOT_DATA_MAX_MB", DEFAULT_MAX_DATA_MB, "megabytes") * MB),
  };
}

export const megabytes = (bytes: number) =>
  bytes < MB / 10 ? `${bytes} bytes` : `${Number((bytes / MB).toFixed(1))} MB`;

/** `too_large`: a download or member over its limit, or expanding like a bomb; nothing of it is kept. */
function tooLarge(what: string, problem: string, hint = ""): DataFetchError {
  return new DataFetchError(
    "too_large",
    `${what} ${problem}; it was discarded and nothing was cached${hint}`,
  );
}

const RAISE =
  " (if the data really is this large, raise the limit with --max-mb, LMCOT_DATA_MAX_MB or the registry entry's maxBytes)";

/** The error for `bytes` over `limit`, or expanding `compressed` more than `MAX_EXPANSION`×; undefined when fine. */
export function overLimit(
  what: string,
  bytes: number,
  limit: number,
  compressed?: number,
): DataFetchError | undefined {
  if (bytes > limit)
    return tooLarge(
      what,
      `is larger than its ${megabytes(limit)} limit (it reached ${megabytes(bytes)})`,
      RAISE,
    );
  if (compressed !== undefined && bytes > EXPANSION_FLOOR && bytes > MAX_EXPANSION * compressed)
    return tooLarge(
      what,
      `expands ${megabytes(compressed)} of compressed data past ${megabytes(bytes)}, more than ${MAX_EXPANSION}× (a decompression bomb?)`,
    );
  return undefined;
}
