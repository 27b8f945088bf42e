import {
  AbortError,
  AuthenticationError,
  BadRequestError,
  InvalidResponseError,
  LmcotError,
  ModelNotFoundError,
  OverloadedError,
  RateLimitError,
  ServerError,
  TimeoutError,
} from "./errors";
import { redact } from "./redact";

interface SdkErrorShape {
  status?: number;
  headers?: Headers | Record<string, string>;
  message?: string;
  name?: string;
  error?: unknown;
}

function header(headers: SdkErrorShape["headers"], name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name) ?? undefined;
  return (headers as Record<string, string>)[name];
}

/** `retry-after-ms`, else `retry-after` (seconds or an HTTP date), in milliseconds. */
export function retryAfterMs(headers: SdkErrorShape["headers"], now = Date.now()): number | undefined {
  const ms = Number(header(headers, "retry-after-ms"));
  if (Number.isFinite(ms) && ms >= 0 && header(headers, "retry-after-ms") !== undefined) return ms;
  const after = header(headers, "retry-after");
  if (after === undefined) return undefined;
  const seconds = Number(after);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(after);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Maps an error from the `openai` or `@anthropic-ai/sdk` client (or from fetch) to lmcot's typed
 * errors, with keys redacted from the message. It reads the clients' error shapes (name, status,
 * headers) without importing them, so every package that calls a model shares it.
 */
export function toLmcotError(
  error: unknown,
  provider: string,
  secrets: readonly (string | undefined)[] = [],
): LmcotError {
  if (LmcotError.isInstance(error)) return error;
  const e = (error ?? {}) as SdkErrorShape;
  const kind = (error as object | undefined)?.constructor?.name ?? e.name ?? "";
  const message = redact(`${provider}: ${e.message ?? String(error)}`, secrets);
  const options = { provider, cause: undefined, status: e.status };
  if (kind === "APIUserAbortError" || e.name === "AbortError") return new AbortError(message);
  if (kind === "APIConnectionTimeoutError") return new TimeoutError(message, options);
  if (kind === "APIConnectionError") return new ServerError(`${message} (connection failed)`, options);
  if (error instanceof SyntaxError)
    return new InvalidResponseError(
      `${provider}: invalid response body (${redact(error.message, secrets)})`,
      options,
    );
  const status = e.status;
  if (status === undefined) return new InvalidResponseError(message, options);
  const retryAfter = retryAfterMs(e.headers);
  const withRetry = { ...options, ...(retryAfter !== undefined ? { retryAfterMs: retryAfter } : {}) };
  if (status === 401 || status === 403) return new AuthenticationError(message, options);
  if (status === 404) return new ModelNotFoundError(message, options);
  if (status === 429) return new RateLimitError(message, withRetry);
  if (status === 529 || status === 503) return new OverloadedError(message, withRetry);
  if (status === 408) return new TimeoutError(message, withRetry);
  if (status === 409 || status >= 500) return new ServerError(message, withRetry);
  return new BadRequestError(message, options);
}
