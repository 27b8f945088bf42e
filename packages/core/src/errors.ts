const baseMarker = Symbol.for("lmcot.error");

export interface LmcotErrorOptions {
  cause?: unknown;
  /** HTTP status, when the error came from a provider response. */
  status?: number;
  /** The provider or backend that raised it (`openai`, `anthropic`, `transformers` …). */
  provider?: string;
  /** Whether trying the same call again may succeed. */
  retryable?: boolean;
  /** How long the provider asked us to wait before retrying. */
  retryAfterMs?: number;
  /** Attempts made before the call gave up (set by the call policy). */
  attempts?: number;
  /** Time spent over every attempt, in ms (set by the call policy). */
  elapsedMs?: number;
}

/**
 * Base of every error lmcot throws. Recognise errors with `XError.isInstance(e)`, which works
 * across duplicated package copies, rather than `instanceof`.
 */
export class LmcotError extends Error {
  protected readonly [baseMarker] = true;
  /** Stable machine-readable name, e.g. `rate_limit`. */
  readonly code: string;
  readonly status?: number;
  readonly provider?: string;
  readonly retryable: boolean;
  readonly retryAfterMs?: number;
  /** Attempts made before the call gave up (set by the call policy). */
  attempts?: number;
  /** Time spent over every attempt, in ms (set by the call policy). */
  elapsedMs?: number;

  constructor(code: string, message: string, options: LmcotErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "LmcotError";
    this.code = code;
    this.status = options.status;
    this.provider = options.provider;
    this.retryable = options.retryable ?? false;
    this.retryAfterMs = options.retryAfterMs;
    if (options.attempts !== undefined) this.attempts = options.attempts;
    if (options.elapsedMs !== undefined) this.elapsedMs = options.elapsedMs;
  }

  static isInstance(error: unknown): error is LmcotError {
    return (
      typeof error === "object" && error !== null && (error as Record<symbol, unknown>)[baseMarker] === true
    );
  }
}

type ErrorClass<E extends LmcotError, A extends unknown[]> = {
  new (...args: A): E;
  isInstance(error: unknown): error is E;
};

/** Defines a subclass with its own `Symbol.for` marker and `isInstance`. */
function defineError<A extends unknown[]>(
  name: string,
  code: string,
  retryable: boolean,
  init: (...args: A) => [message: string, options?: LmcotErrorOptions],
): ErrorClass<LmcotError, A> {
  const marker = Symbol.for(`lmcot.error.${name}`);
  const cls = class extends LmcotError {
    constructor(...args: A) {
      const [message, options] = init(...args);
      super(code, message, { retryable, ...options });
      this.name = name;
      (this as unknown as Record<symbol, boolean>)[marker] = true;
    }
    static override isInstance(error: unknown): error is LmcotError {
      return LmcotError.isInstance(error) && (error as unknown as Record<symbol, unknown>)[marker] === true;
    }
  };
  Object.defineProperty(cls, "name", { value: name });
  return cls;
}

const plain = (message: string, options?: LmcotErrorOptions): [string, LmcotErrorOptions?] => [
  message,
  options,
];

/** The key was missing, wrong or revoked. Never retried. */
export const AuthenticationError = defineError("AuthenticationError", "authentication", false, plain);
export type AuthenticationError = InstanceType<typeof AuthenticationError>;

/** 429: too many requests or tokens. Retried after `retryAfterMs` when the provider says. */
export const RateLimitError = defineError("RateLimitError", "rate_limit", true, plain);
export type RateLimitError = InstanceType<typeof RateLimitError>;

/** The provider is overloaded (Anthropic 529, 503). Retried. */
export const OverloadedError = defineError("OverloadedError", "overloaded", true, plain);
export type OverloadedError = InstanceType<typeof OverloadedError>;

/** A 5xx or connection failure that may pass. Retried. */
export const ServerError = defineError("ServerError", "server", true, plain);
export type ServerError = InstanceType<typeof ServerError>;

/** The request itself is wrong (400, 404, 422): retrying cannot help. */
export const BadRequestError = defineError("BadRequestError", "bad_request", false, plain);
export type BadRequestError = InstanceType<typeof BadRequestError>;

/** The call took longer than its timeout. Retried. */
export const TimeoutError = defineError("TimeoutError", "timeout", true, plain);
export type TimeoutError = InstanceType<typeof TimeoutError>;

/**
 * The server answered in something other than the provider's wire format (an HTML page, a JSON body
 * without the expected fields, a batch without an id): the base URL points at the wrong server, so
 * every call would get the same. Never retried; it stops a run.
 */
export const InvalidResponseError = defineError("InvalidResponseError", "invalid_response", false, plain);
export type InvalidResponseError = InstanceType<typeof InvalidResponseError>;

/**
 * The reply came in the right format, but the model's text cannot be read (a judge reply with no
 * score). The next item may read fine: it does not stop a run.
 */
export const UnreadableReplyError = defineError("UnreadableReplyError", "unreadable_reply", false, plain);
export type UnreadableReplyError = InstanceType<typeof UnreadableReplyError>;

/** The caller aborted (`AbortSignal`, Ctrl-C). Never retried. */
export const AbortError = defineError(
  "AbortError",
  "aborted",
  false,
  (message: string = "The operation was aborted.") => plain(message),
);
export type AbortError = InstanceType<typeof AbortError>;

/** A model id or a model folder that cannot be found or loaded. */
export const ModelNotFoundError = defineError("ModelNotFoundError", "model_not_found", false, plain);
export type ModelNotFoundError = InstanceType<typeof ModelNotFoundError>;

/** A run would go over its USD budget; raised before the call that would exceed it. */
export const BudgetExceededError = defineError("BudgetExceededError", "budget_exceeded", false, plain);
export type BudgetExceededError = InstanceType<typeof BudgetExceededError>;

/**
 * The model hit its reply limit before writing any answer (a reasoning model that spent the budget
 * thinking). Retrying the same call cannot help: raise the reply budget or lower the reasoning effort.
 */
export const EmptyReplyError = defineError("EmptyReplyError", "empty_reply", false, plain);
export type EmptyReplyError = InstanceType<typeof EmptyReplyError>;

/** A provider batch ended (its 24 h window ran out) before running this request; a follow-up batch can. */
export const BatchExpiredError = defineError("BatchExpiredError", "batch_expired", true, plain);
export type BatchExpiredError = InstanceType<typeof BatchExpiredError>;

/** The provider batch holding this request was cancelled (`lmcot batch cancel`, or at the provider). */
export const BatchCancelledError = defineError("BatchCancelledError", "batch_cancelled", false, plain);
export type BatchCancelledError = InstanceType<typeof BatchCancelledError>;

/** Where in an outside input (a file, a request body, a config) something was wrong. */
export interface DataLocation {
  file?: string;
  /** 0-based record index in the file. */
  record?: number;
  /** 1-based line number, where known. */
  line?: number;
  /** Path of the offending field, e.g. `context[2][1]`. */
  field?: string;
}

/** Formats a location as `dev.json: line 18: record 17: context[2][1]`. */
export function formatLocation(at: DataLocation): string {
  const parts: string[] = [];
  if (at.file !== undefined) parts.push(at.file);
  if (at.line !== undefined) parts.push(`line ${at.line}`);
  if (at.record !== undefined) parts.push(`record ${at.record}`);
  if (at.field !== undefined && at.field !== "") parts.push(at.field);
  return parts.join(": ");
}

/**
 * Bad outside input: a dataset record, a config file, an HTTP body. The message names the file,
 * record, line and field: `dev.json: record 17: context[2][1] must be an array of strings`.
 */
export const DataValidationError = defineError(
  "DataValidationError",
  "invalid_data",
  false,
  (problem: string, at: DataLocation = {}, options?: LmcotErrorOptions) => {
    const where = formatLocation(at);
    return [where ? `${where} ${problem}` : problem, options];
  },
);
export type DataValidationError = InstanceType<typeof DataValidationError>;

/** Turns any thrown value into a one-line message fit for a user (no stack). */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** Throws `AbortError` if the signal has fired. */
export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new AbortError();
}
