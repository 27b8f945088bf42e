import { open, rm, truncate } from "node:fs/promises";
import { type CallPolicy, callWithPolicy, LmcotError, linkedSignal, retryAfterMs } from "@lmcot/core";
import { fileSize } from "./data-cache";
import { DataFetchError } from "./data-errors";
import { type DownloadLimits, downloadLimits, type LimitOptions, overLimit } from "./download-limits";

export interface DownloadProgress {
  url: string;
  /** Bytes on disk so far, a resumed part included. */
  bytes: number;
  /** From Content-Length / Content-Range, when the server says. */
  total?: number;
  /** Bytes per second over this attempt. */
  rate: number;
  /** Seconds left at this rate, when the total is known. */
  etaSeconds?: number;
  done: boolean;
}

export interface DownloadOptions extends LimitOptions {
  signal?: AbortSignal;
  onProgress?: (progress: DownloadProgress) => void;
  /** A redirect to another host, port or scheme: followed, and said here. */
  onNotice?: (message: string) => void;
  /** Retries of one URL after a 5xx, a reset or a stall (default 5); each resumes where the last stopped. */
  retries?: number;
  /** Backoff and sleep, injectable for tests (see core's `CallPolicy`). */
  policy?: Pick<CallPolicy, "baseDelayMs" | "maxDelayMs" | "sleep" | "random" | "onRetry">;
}

/** What a finished download gave: its size and the URL the bytes really came from (after redirects). */
export interface Downloaded {
  bytes: number;
  url: string;
}

// Codes of a host that cannot be reached at all: offline, not worth retrying.
const UNREACHABLE = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ENETUNREACH", "EHOSTUNREACH"]);

// A connection that broke or stalled: worth another attempt, resuming where it stopped.
const RESET = new Set([
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);

/** The first `code` down the cause chain, and the innermost message (fetch wraps the real reason). */
function rootCause(error: unknown): { code?: string; message: string } {
  let code: string | undefined;
  let message = error instanceof Error ? error.message : String(error);
  for (
    let e = error as { code?: unknown; cause?: unknown; message?: unknown } | undefined, depth = 0;
    e && depth < 5;
    depth++
  ) {
    if (code === undefined && typeof e.code === "string") code = e.code;
    if (typeof e.message === "string" && e.message) message = e.message;
    e = e.cause as typeof e;
  }
  return { ...(code ? { code } : {}), message };
}

function networkError(url: string, error: unknown): LmcotError {
  if (LmcotError.isInstance(error)) return error;
  const { code, message } = rootCause(error);
  const reason = code ?? message;
  if (code && UNREACHABLE.has(code))
    return new DataFetchError("dataset_offline", `${url}: cannot connect (${reason})`, { cause: error });
  const reset = (code !== undefined && RESET.has(code)) || /terminated|other side closed/i.test(message);
  return new DataFetchError("download_failed", `${url}: the connection failed (${reason})`, {
    cause: error,
    retryable: reset,
  });
}

function httpError(url: string, response: Response): DataFetchError {
  const status = response.status;
  const retryable = status >= 500 || status === 408 || status === 429;
  return new DataFetchError("download_failed", `${url}: HTTP ${status} ${response.statusText}`.trim(), {
    status,
    retryable,
    retryAfterMs: retryAfterMs(response.headers),
  });
}

/** `bytes 100-199/1000` → start 100, total 1000. */
function contentRange(header: string | null): { start?: number; total?: number } {
  const m = /^bytes\s+(?:(\d+)-\d+|\*)\/(\d+|\*)$/i.exec(header?.trim() ?? "");
  if (!m) return {};
  return {
    ...(m[1] === undefined ? {} : { start: Number(m[1]) }),
    ...(m[2] === "*" || m[2] === undefined ? {} : { total: Number(m[2]) }),
  };
}

/** Says once per download when a redirect leaves the host, port or scheme it was asked for. */
function noteRedirect(url: string, response: Response, told: Set<string>, onNotice?: (m: string) => void) {
  if (!response.redirected || !response.url || told.has(response.url)) return;
  const from = new URL(url);
  const to = new URL(response.url);
  const other =
    from.protocol !== to.protocol
      ? "scheme"
      : from.hostname !== to.hostname
        ? "host"
        : from.port !== to.port
          ? "port"
          : "";
  if (!other) return;
  told.add(response.url);
  onNotice?.(
    `${url} redirects to another ${other}: following it to ${response.url} (the manifest records that URL)`,
  );
}

interface AttemptState {
  limits: DownloadLimits;
  told: Set<string>;
  finalUrl?: string;
}

/** One request: continues `part` from its current size with a Range request when it has bytes. */
async function attempt(
  url: string,
  part: string,
  signal: AbortSignal,
  options: DownloadOptions,
  state: AttemptState,
): Promise<number> {
  const have = (await fileSize(part)) ?? 0;
  const stall = new AbortController();
  const stallMs = state.limits.stallTimeoutMs;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(
      () =>
        stall.abort(
          new DataFetchError(
            "download_failed",
            `${url}: nothing received for ${stallMs / 1000} s (the stall timeout: --stall-timeout or LMCOT_DATA_STALL_TIMEOUT)`,
            { retryable: true },
          ),
        ),
      stallMs,
    );
  };
  const { signal: both, release } = linkedSignal([signal, stall.signal]);
  arm();
  try {
    let response: Response;
    try {
      // Ask for the bytes as stored: only those can be resumed with a Range request.
      const headers = { "accept-encoding": "identity", ...(have > 0 ? { range: `bytes=${have}-` } : {}) };
      response = await fetch(url, { signal: both, headers });
    } catch (error) {
      throw networkError(url, stall.signal.aborted ? stall.signal.reason : error);
    }
    noteRedirect(url, response, state.told, options.onNotice);
    const range = contentRange(response.headers.get("content-range"));
    if (response.status === 416 && have > 0) {
      // The part may already be whole; otherwise it is longer than the file: start again.
      if (range.total === have) return have;
      await truncate(part, 0);
      throw new DataFetchError(
        "download_failed",
        `${url}: the partial download no longer fits; starting over`,
        {
          retryable: true,
        },
      );
    }
    if (!response.ok || !response.body) throw httpError(url, response);
    state.finalUrl = response.url || url;
    // fetch decodes gzip / deflate / br itself: the decoded bytes have no known length and no offsets to resume from.
    const encoding = response.headers.get("content-encoding")?.trim().toLowerCase() ?? "";
    const encoded = encoding !== "" && encoding !== "identity";
    const resumed = response.status === 206 && have > 0 && range.start === have && !encoded;
    if (response.status === 206 && !resumed) {
      await rm(part, { force: true });
      throw new DataFetchError(
        "download_failed",
        `${url}: answered with a range it was not asked for; starting over`,
        {
          retryable: true,
        },
      );
    }
    const resumable = !encoded && (resumed || response.headers.get("accept-ranges")?.trim() === "bytes");
    const length = Number(response.headers.get("content-length") ?? Number.NaN);
    const known = Number.isFinite(length);
    const total = encoded ? undefined : (range.total ?? (known ? length + (resumed ? have : 0) : undefined));
    const compressed = encoded && known ? length : undefined;
    const tooBig = (bytes: number) => overLimit(url, bytes, state.limits.maxBytes, compressed);
    const announced = total === undefined ? undefined : tooBig(total);
    if (announced) {
      await rm(part, { force: true });
      throw announced;
    }
    const file = await open(part, resumed ? "a" : "w");
    let bytes = resumed ? have : 0;
    const started = performance.now();
    const report = (done: boolean) => {
      const seconds = (performance.now() - started) / 1000;
      const rate = seconds > 0 ? (bytes - (resumed ? have : 0)) / seconds : 0;
      options.onProgress?.({
        url,
        bytes,
        ...(total === undefined ? {} : { total }),
        rate,
        ...(total !== undefined && rate > 0 ? { etaSeconds: (total - bytes) / rate } : {}),
        done,
      });
    };
    let failure: LmcotError | undefined;
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        arm();
        bytes += chunk.length;
        const over = tooBig(bytes);
        if (over) throw over;
        await file.write(chunk);
        report(false);
      }
      if (total !== undefined && bytes !== total)
        throw new DataFetchError(
          "download_failed",
          `${url}: the connection closed after ${bytes} of ${total} bytes`,
          {
            retryable: true,
          },
        );
    } catch (error) {
      failure = networkError(url, stall.signal.aborted ? stall.signal.reason : error);
      throw failure;
    } finally {
      await file.close();
      // What cannot be resumed (decoded bytes, a server without ranges, a file over its limit) is not kept.
      if (failure && (!resumable || DataFetchError.is(failure, "too_large"))) await rm(part, { force: true });
    }
    report(true);
    return bytes;
  } finally {
    clearTimeout(timer);
    release();
  }
}

/**
 * Downloads `url` into `part`, resuming with HTTP Range from what `part` already holds (a previous
 * run's or a failed attempt's bytes) and retrying 5xx, resets and stalls with backoff. A run of
 * retries that made progress starts a new run, so a long download over a flaky line goes on, until
 * the total timeout. The decoded body may not outgrow `maxBytes`, nor expand a compressed one like a bomb.
 */
export async function downloadFile(
  url: string,
  part: string,
  options: DownloadOptions = {},
): Promise<Downloaded> {
  const state: AttemptState = { limits: downloadLimits(options), told: new Set() };
  const totalMs = state.limits.totalTimeoutMs;
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), totalMs);
  const linked = options.signal ? linkedSignal([options.signal, deadline.signal]) : undefined;
  const signal = linked?.signal ?? deadline.signal;
  // callWithPolicy gives up on an aborted attempt at once; its clean-up of the part is awaited here.
  let running: Promise<unknown> = Promise.resolve();
  const settled = () =>
    running.then(
      () => undefined,
      () => undefined,
    );
  try {
    for (;;) {
      const before = (await fileSize(part)) ?? 0;
      try {
        const bytes = await callWithPolicy(
          (attemptSignal) => {
            const one = attempt(url, part, attemptSignal, options, state);
            running = one;
            return one;
          },
          {
            retries: options.retries ?? 5,
            timeoutMs: Number.POSITIVE_INFINITY,
            totalTimeoutMs: Number.POSITIVE_INFINITY,
            ...options.policy,
          },
          { signal, label: url },
        );
        return { bytes, url: state.finalUrl ?? url };
      } catch (error) {
        await settled();
        const after = (await fileSize(part)) ?? 0;
        const retryable = LmcotError.isInstance(error) && error.retryable;
        if (!retryable || after <= before || signal.aborted) throw error;
      }
    }
  } catch (error) {
    if (!deadline.signal.aborted || options.signal?.aborted) throw error;
    const kept = (await fileSize(part)) ?? 0;
    throw new DataFetchError(
      "download_timeout",
      `${url}: not downloaded within the ${Number((totalMs / 1000).toFixed(1))} s total timeout (raise it with --total-timeout or LMCOT_DATA_TOTAL_TIMEOUT)${kept > 0 ? `; the ${kept} bytes received are kept and a re-run resumes from them` : ""}`,
      { cause: error },
    );
  } finally {
    clearTimeout(timer);
    linked?.release();
  }
}

/** Removes a partial download and its `.url` note (after a checksum mismatch, it must not be resumed). */
export async function discardPart(part: string): Promise<void> {
  await rm(part, { force: true });
  await rm(`${part}.url`, { force: true });
}
