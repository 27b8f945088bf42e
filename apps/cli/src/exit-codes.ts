import { BadRequestError, LmcotError, ModelNotFoundError } from "@lmcot/core";
import { CommanderError } from "commander";
import { UsageError } from "./usage-error";

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
/** lmcot reproduce: a training stage is handed off to an external engine (TRL, OpenRLHF). */
export const EXIT_HANDOFF = 3;
export const EXIT_INTERRUPTED = 130;

/** Shown under `lmcot --help`. */
export const EXIT_CODES_HELP = `
Exit codes:
  0    done
  1    something failed (failed items are listed on stderr and in the run's errors.jsonl)
  2    usage error: a bad flag, command, dataset, method, provider or file; or the output folder is locked
  3    lmcot reproduce handed a training stage to TRL / OpenRLHF: train, put the checkpoint where it says, re-run
  130  interrupted (Ctrl-C); re-run the same command to resume`;

/**
 * Whether an error means the command line was wrong and nothing was done: a commander or usage error,
 * a run directory another process holds, or a model id / folder refused before any call was made
 * (a provider's answer always carries an HTTP status).
 */
export function isUsageError(error: unknown): boolean {
  if (error instanceof UsageError) return true;
  if (error instanceof CommanderError) return true;
  if (!LmcotError.isInstance(error)) return false;
  if (["run_locked", "dataset_unknown", "dataset_missing", "invalid_setting"].includes(error.code))
    return true;
  return (
    (BadRequestError.isInstance(error) || ModelNotFoundError.isInstance(error)) &&
    error.status === undefined &&
    error.attempts === undefined
  );
}
