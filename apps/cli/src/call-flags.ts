import type { CallPolicy } from "@lmcot/core";
import type { Command } from "commander";
import { UsageError } from "./usage-error";

/** The call policy flags every command that calls a model takes. */
export interface CallFlags {
  timeout?: string;
  retries?: string;
  totalTimeout?: string;
}

/** Adds `--timeout`, `--total-timeout` and `--retries` to a command. */
export function callOptions(command: Command): Command {
  return command
    .option("--timeout <s>", "seconds one model call attempt may take (default 60)")
    .option("--total-timeout <s>", "seconds one model call may take over all its attempts (default 300)")
    .option("--retries <n>", "retries of a failed model call: 429, 5xx, timeouts, resets (default 4)");
}

function positive(flag: string, value: string, integer: boolean): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n)))
    throw new UsageError(`${flag} must be a${integer ? " whole" : ""} number ≥ 0, got "${value}"`);
  return n;
}

/** The flags as library options (`createModel`, `getRationaleModel`): only those given. */
export function callPolicyFrom(
  flags: CallFlags,
): Pick<CallPolicy, "timeoutMs" | "retries" | "totalTimeoutMs"> {
  return {
    ...(flags.timeout !== undefined ? { timeoutMs: positive("--timeout", flags.timeout, false) * 1000 } : {}),
    ...(flags.totalTimeout !== undefined
      ? { totalTimeoutMs: positive("--total-timeout", flags.totalTimeout, false) * 1000 }
      : {}),
    ...(flags.retries !== undefined ? { retries: positive("--retries", flags.retries, true) } : {}),
  };
}
