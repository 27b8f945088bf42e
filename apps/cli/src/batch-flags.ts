import { type BatchEvent, BatchSession, type BatchSessionOptions } from "@lmcot/llm";
import { type Command, Option } from "commander";
import { note } from "./log";
import { UsageError } from "./usage-error";

/** The batch flags of bench, distill and rewards score. */
export interface BatchFlags {
  batch?: boolean;
  batchFallback?: "batch" | "online";
  batchPoll?: string;
}

/** Adds `--batch`, `--batch-fallback` and `--batch-poll` to a command. */
export function batchOptions(command: Command): Command {
  return command
    .option(
      "--batch",
      "send large-LM calls as provider batches (OpenAI Batch API, Anthropic Message Batches): 50 % of the price, results within 24 h; re-running re-attaches",
    )
    .addOption(
      new Option(
        "--batch-fallback <where>",
        "where expired or failed-but-retryable batch requests go: a follow-up batch, or online calls",
      ).choices(["batch", "online"]),
    )
    .option("--batch-poll <s>", "seconds between two looks at a running batch (default 30)");
}

/** `42 s`, `12 min`, `3.5 h`; `-` for a time not known. */
export const duration = (ms: number | undefined) =>
  ms === undefined
    ? "-"
    : ms < 60_000
      ? `${Math.round(ms / 1000)} s`
      : ms < 3_600_000
        ? `${Math.round(ms / 60_000)} min`
        : `${(ms / 3_600_000).toFixed(1)} h`;

/** One stderr line per batch event: submitted, progress (status, done / failed, elapsed, ETA), ended. */
export function formatBatchEvent(e: BatchEvent): string {
  switch (e.type) {
    case "submitted":
      return `batch ${e.batchId}: submitted ${e.requests} requests to ${e.model}${e.estimatedUsd !== undefined ? ` (at most $${e.estimatedUsd.toFixed(4)} at batch prices)` : ""}`;
    case "attached":
      return `batch ${e.batchId}: re-attached (${e.requests} requests to ${e.model}, submitted by an earlier run)`;
    case "progress":
      return `batch ${e.id} ${e.model}: ${e.status}, ${e.done}/${e.total} done, ${e.failed} failed, ${duration(e.elapsedMs)} elapsed${e.etaMs !== undefined ? `, ETA ${duration(e.etaMs)}` : ""}`;
    case "ended":
      return `batch ${e.batchId}: ${e.status}, ${e.succeeded} succeeded, ${e.failed} failed`;
    case "follow-up":
      return `batch: ${e.requests} request(s) to ${e.model} go into a follow-up batch (${e.reason})`;
    case "notice":
      return `batch: ${e.message}`;
  }
}

/**
 * The session for a command run with `--batch`, writing its journal in `dir`, or undefined without
 * `--batch`. Progress goes to stderr (unless --quiet).
 */
export function batchSessionFrom(
  flags: BatchFlags,
  options: Omit<BatchSessionOptions, "onEvent" | "pollIntervalMs" | "fallback">,
): BatchSession | undefined {
  if (!flags.batch) {
    if (flags.batchFallback || flags.batchPoll)
      throw new UsageError("--batch-fallback and --batch-poll need --batch");
    return undefined;
  }
  const poll = flags.batchPoll === undefined ? undefined : Number(flags.batchPoll);
  if (poll !== undefined && !(Number.isFinite(poll) && poll > 0))
    throw new UsageError(`--batch-poll must be a number of seconds > 0, got "${flags.batchPoll}"`);
  return new BatchSession({
    ...options,
    ...(poll !== undefined ? { pollIntervalMs: poll * 1000 } : {}),
    ...(flags.batchFallback ? { fallback: flags.batchFallback } : {}),
    onEvent: (e) => note(`${formatBatchEvent(e)}\n`),
  });
}

/** After Ctrl-C: the batches still running, and how to collect them. */
export function batchInterruptNote(
  running: ReturnType<BatchSession["runningBatches"]> | undefined,
  dir: string,
  command: string,
): void {
  if (!running?.length) return;
  process.stderr.write(
    `lmcot: ${running.length} batch${running.length === 1 ? "" : "es"} keep running at the provider (${running.map((b) => b.batchId).join(", ")}).\n` +
      `  Re-run the same command (${command} … --batch) to collect the results; nothing is submitted twice.\n` +
      `  lmcot batch status ${dir} shows their progress; lmcot batch cancel ${dir} stops them.\n`,
  );
}
