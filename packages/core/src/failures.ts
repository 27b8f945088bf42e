import { errorMessage, LmcotError } from "./errors";
import { redact } from "./redact";

/** One failed item, as written to a run directory's `errors.jsonl`. */
export interface FailureRecord {
  /** The run key of the item that failed. */
  key: string;
  /** The grid cell (bench) or stage (distill) it belonged to. */
  cell?: string;
  /** The typed error's code (`authentication`, `rate_limit`, `server`, …), or `error` for anything untyped. */
  errorClass: string;
  /** HTTP status of the provider's answer, when there was one. */
  status?: number;
  provider?: string;
  /** The provider's message, keys redacted. */
  message: string;
  attempts?: number;
  elapsedMs?: number;
  /** ISO time of the failure. */
  at: string;
}

/** Codes of errors that a re-run cannot fix: the run stops at the first one. */
export const FATAL_ERROR_CLASSES: readonly string[] = [
  "authentication",
  "model_not_found",
  "budget_exceeded",
  "invalid_response",
];

/** What to do about each class of failure, shown once per class at the end of a run. */
const FIXES: Record<string, string> = {
  authentication:
    "check the API key variable (lmcot models shows which are set) and that it is valid for this model",
  model_not_found: "check the model id and the base URL (lmcot models lists the providers)",
  budget_exceeded: "raise --budget, or run fewer items",
  bad_request:
    "the provider rejected the request itself; check the model's settings (max tokens, temperature) and the prompt size",
  rate_limit: "lower --concurrency, or raise --retries; finished items are kept, re-run to continue",
  overloaded: "the provider is overloaded; re-run later to retry the failed items",
  server: "a provider-side error; re-run to retry the failed items",
  timeout: "raise --timeout, or check that the server is reachable; re-run to retry the failed items",
  invalid_response:
    "the server's reply is not the provider's API format; check the base URL (it should end in /v1 for OpenAI-compatible servers) and that the server there is the model's API",
  unreadable_reply: "the model's reply could not be read; check the prompt or try another model",
  invalid_data: "fix the input named in the message",
  empty_reply:
    "the model spent its reply budget before answering; raise maxTokens or lower the reasoning effort",
  batch_expired:
    "the provider's batch window ran out first; re-run to send these in a new batch, or add --batch-fallback online",
  batch_cancelled: "the batch was cancelled; re-run to send these requests again",
  error: "see the message; set LMCOT_DEBUG=1 for a stack trace",
};

/** Whether a re-run could fix this failure (retryable classes) — never true for the fatal ones. */
export function isFatalError(error: unknown): boolean {
  return LmcotError.isInstance(error) && FATAL_ERROR_CLASSES.includes(error.code);
}

/** The advice for one error class. */
export function fixFor(errorClass: string): string {
  return FIXES[errorClass] ?? FIXES.error!;
}

/** Turns a thrown value into the record a run keeps of it, with keys redacted. */
export function failureRecord(
  key: string,
  error: unknown,
  extra: { cell?: string; secrets?: readonly (string | undefined)[] } = {},
): FailureRecord {
  const typed = LmcotError.isInstance(error) ? error : undefined;
  return {
    key,
    ...(extra.cell !== undefined ? { cell: extra.cell } : {}),
    errorClass: typed?.code ?? "error",
    ...(typed?.status !== undefined ? { status: typed.status } : {}),
    ...(typed?.provider !== undefined ? { provider: typed.provider } : {}),
    message: redact(errorMessage(error), extra.secrets),
    ...(typed?.attempts !== undefined ? { attempts: typed.attempts } : {}),
    ...(typed?.elapsedMs !== undefined ? { elapsedMs: typed.elapsedMs } : {}),
    at: new Date().toISOString(),
  };
}

/** Failures counted by error class, with the first message of each and what to do. */
export interface FailureClassSummary {
  errorClass: string;
  count: number;
  status?: number;
  firstMessage: string;
  fix: string;
}

export function summarizeFailures(records: readonly FailureRecord[]): FailureClassSummary[] {
  const byClass = new Map<string, FailureClassSummary>();
  for (const r of records) {
    const s = byClass.get(r.errorClass);
    if (s) s.count++;
    else
      byClass.set(r.errorClass, {
        errorClass: r.errorClass,
        count: 1,
        ...(r.status !== undefined ? { status: r.status } : {}),
        firstMessage: r.message,
        fix: fixFor(r.errorClass),
      });
  }
  return [...byClass.values()].sort((a, b) => b.count - a.count);
}

/** The lines a command prints on stderr at the end of a run that had failures. */
export function formatFailureSummary(records: readonly FailureRecord[], total?: number): string {
  if (records.length === 0) return "";
  const lines = [
    `${records.length}${total !== undefined ? ` of ${total}` : ""} item${records.length === 1 ? "" : "s"} failed:`,
  ];
  for (const s of summarizeFailures(records)) {
    lines.push(
      `  ${s.count} × ${s.errorClass}${s.status !== undefined ? ` (HTTP ${s.status})` : ""}: ${s.firstMessage}`,
    );
    lines.push(`    → ${s.fix}`);
  }
  return `${lines.join("\n")}\n`;
}
