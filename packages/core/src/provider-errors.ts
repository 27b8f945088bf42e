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

/** Where a call went and what it expected back, for errors that tell a wrong endpoint. */
export interface WireContext {
  /** The base URL the client was pointed at. */
  baseURL?: string;
  /** The wire format expected, e.g. `an OpenAI chat completion`. */
  expected?: string;
}

/** What a server answered instead of the provider's wire format. */
export interface ReplySeen extends WireContext {
  provider: string;
  status?: number;
  contentType?: string | null;
  /** The body as read: its text, or the parsed JSON. */
  body: unknown;
}

/** How much of an unexpected reply goes into the message. */
const FIRST_CHARS = 160;

/** The first characters of a body, whitespace collapsed, keys redacted. */
export function firstBytes(body: unknown, secrets: readonly (string | undefined)[] = []): string {
  const text = typeof body === "string" ? body : (JSON.stringify(body) ?? String(body));
  const flat = text.replace(/\s+/g, " ").trim();
  const cut = flat.length > FIRST_CHARS ? `${flat.slice(0, FIRST_CHARS)}…` : flat;
  return redact(cut, secrets);
}

/**
 * The fatal error for a reply that is not the provider's wire format: it names the base URL, the
 * status, the content type and the first bytes, and says to check the base URL.
 */
export function notWireFormat(
  seen: ReplySeen,
  secrets: readonly (string | undefined)[] = [],
): InvalidResponseError {
  const where = seen.baseURL ? redact(seen.baseURL, secrets) : "the server";
  const status = seen.status !== undefined ? `HTTP ${seen.status}` : "a reply";
  const type = seen.contentType || "no content type";
  const expected = seen.expected ?? `the ${seen.provider} API's format`;
  const body = firstBytes(seen.body, secrets);
  return new InvalidResponseError(
    `${seen.provider}: ${where} answered ${status} (${type}), which is not ${expected}: ${body ? `"${body}"` : "an empty body"}; check the base URL`,
    { provider: seen.provider, ...(seen.status !== undefined ? { status: seen.status } : {}) },
  );
}

const isJSON = (contentType: string | undefined) => /[/+]json\b/i.test(contentType ?? "");

/** Statuses a proxy or load balancer sends with its own HTML page while the API behind it recovers. */
const TRANSIENT = new Set([408, 429, 500, 502, 503, 504, 529]);

/**
 * Maps an error from the `openai` or `@anthropic-ai/sdk` client (or from fetch) to lmcot's typed
 * errors, with keys redacted from the message. It reads the clients' error shapes (name, status,
 * headers) without importing them, so every package that calls a model shares it. An error status
 * whose body is not JSON (an HTML page) is a wrong endpoint, unless the status is one a proxy sends
 * while the API recovers (429, 5xx but 501).
 */
export function toLmcotError(
  error: unknown,
  provider: string,
  secrets: readonly (string | undefined)[] = [],
  wire: WireContext = {},
): LmcotError {
  if (LmcotError.isInstance(error)) return error;
  const e = (error ?? {}) as SdkErrorShape;
  const kind = (error as object | undefined)?.constructor?.name ?? e.name ?? "";
  const message = redact(`${provider}: ${e.message ?? String(error)}`, secrets);
  const options = { provider, cause: undefined, status: e.status };
  if (kind === "APIUserAbortError" || e.name === "AbortError") return new AbortError(message);
  if (kind === "APIConnectionTimeoutError") return new TimeoutError(message, options);
  if (kind === "APIConnectionError") return new ServerError(`${message} (connection failed)`, options);
  // A body sent as JSON that does not parse: most often cut short on the way, so worth another try.
  if (error instanceof SyntaxError)
    return new ServerError(
      `${provider}: the reply's JSON body is cut short or malformed (${redact(error.message, secrets)})`,
      options,
    );
  const status = e.status;
  // No status: an error event inside a stream, or a failure below the client.
  if (status === undefined) return new ServerError(message, options);
  const contentType = e.headers ? header(e.headers, "content-type") : undefined;
  // The clients put a JSON body's `error` field in `error`: a server that sent one speaks some API.
  if (e.headers && !isJSON(contentType) && e.error === undefined) {
    const body = (e.message ?? "").replace(new RegExp(`^${status}\\s*`), "");
    if (!TRANSIENT.has(status))
      return notWireFormat({ provider, ...wire, status, contentType: contentType ?? null, body }, secrets);
    return new ServerError(
      `${provider}: HTTP ${status} (${contentType || "no content type"}): "${firstBytes(body, secrets)}"`,
      withRetryAfter(options, e.headers),
    );
  }
  const withRetry = withRetryAfter(options, e.headers);
  if (status === 401 || status === 403) return new AuthenticationError(message, options);
  if (status === 404) return new ModelNotFoundError(message, options);
  if (status === 429) return new RateLimitError(message, withRetry);
  if (status === 529 || status === 503) return new OverloadedError(message, withRetry);
  if (status === 408) return new TimeoutError(message, withRetry);
  if (status === 409 || status >= 500) return new ServerError(message, withRetry);
  return new BadRequestError(message, options);
}

function withRetryAfter<O extends object>(options: O, headers: SdkErrorShape["headers"]) {
  const retryAfter = retryAfterMs(headers);
  return { ...options, ...(retryAfter !== undefined ? { retryAfterMs: retryAfter } : {}) };
}
