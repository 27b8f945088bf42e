import { type FailureRecord, formatFailureSummary, redact } from "@lmcot/core";
import type { RunLock } from "@lmcot/datasets";
import { apiKeysInEnv } from "@lmcot/llm";
import { EXIT_FAILURE } from "./exit-codes";
import { note } from "./log";

export { EXIT_FAILURE, EXIT_USAGE } from "./exit-codes";

/** Text fit to print: API keys in the environment, and anything shaped like a key, removed. */
export const redacted = (text: string) => redact(text, apiKeysInEnv());

/** Says on stderr when a run directory's stale lock (its process gone) was taken over. */
export function lockNotice(lock: RunLock): void {
  const was = lock.tookOver;
  if (was)
    note(
      `lmcot: took over ${lock.path} from ${was.command} (pid ${was.pid} on ${was.host}, since ${was.startedAt}), which is no longer running\n`,
    );
}

/**
 * The end of a command that ran many items, on stderr: the failures by class with the first message
 * and the fix for each, why the run stopped when a re-run cannot fix it; exit code 1 when anything failed.
 */
export function reportFailures(
  failures: readonly FailureRecord[],
  total: number,
  fatal?: { failure: FailureRecord },
): void {
  if (failures.length) process.stderr.write(redacted(formatFailureSummary(failures, total)));
  if (fatal) {
    const f = fatal.failure;
    process.stderr.write(
      `lmcot: stopped after ${f.errorClass}${f.status !== undefined ? ` (HTTP ${f.status})` : ""}: a re-run cannot fix it, so nothing more was started\n`,
    );
  }
  if (failures.length || fatal) process.exitCode = EXIT_FAILURE;
}

/** A run that stopped at its budget: finished items are kept, but the same command would stop again. */
export function reportBudgetStop(reason: string | undefined): void {
  process.stderr.write(
    `lmcot: stopped at the budget${reason ? `: ${reason}` : ""}; finished items are kept — raise --budget and run the same command to continue\n`,
  );
  process.exitCode = EXIT_FAILURE;
}
