// The steps a batch goes through, shared by BatchSession (calls wait in memory) and BatchRounds
// (calls spilled to disk, items re-driven): create (never twice), find an orphan, wait for the end.
import { randomUUID } from "node:crypto";
import {
  AbortError,
  BadRequestError,
  BatchCancelledError,
  BatchExpiredError,
  BudgetExceededError,
  type CallPolicy,
  callWithPolicy,
  DEFAULT_CALL_POLICY,
  errorMessage,
  InvalidResponseError,
  isFatalError,
  LmcotError,
  sleep,
  toLmcotError,
} from "@lmcot/core";
import type { BatchJob, Journal, JournalEvent } from "./journal";
import { type BatchAPI, type BatchOutcome, type BatchStatus, batchTiming } from "./types";

/** What a session tells its caller while it works (progress lines, notices). */
export type BatchEvent =
  | { type: "submitted"; batchId: string; model: string; requests: number; estimatedUsd?: number }
  | { type: "attached"; batchId: string; model: string; requests: number }
  | ({ type: "progress"; model: string; elapsedMs: number; etaMs?: number } & BatchStatus)
  | { type: "ended"; batchId: string; model: string; status: string; succeeded: number; failed: number }
  | { type: "follow-up"; model: string; requests: number; reason: string }
  | { type: "notice"; message: string };

/** What the steps need from their session: its settings, its events and its journal. */
export interface StepContext {
  policy?: CallPolicy;
  signal?: AbortSignal;
  maxFailedPolls?: number;
  pollIntervalMs?: number;
  secrets?: readonly (string | undefined)[];
  journal: Journal;
  emit(event: BatchEvent): void;
  /** Appends to the journal; false (after a notice) where the write failed. */
  record(event: JournalEvent, consequence: string): boolean;
}

/** A journal write told, not thrown, where the work can go on without it. */
export function recordOrTell(
  journal: Journal,
  emit: (event: BatchEvent) => void,
): (event: JournalEvent, consequence: string) => boolean {
  return (event, consequence) => {
    try {
      journal.append(event);
      return true;
    } catch (error) {
      emit({
        type: "notice",
        message: `could not write ${journal.path} (${errorMessage(error)}): ${consequence}`,
      });
      return false;
    }
  };
}

export const usd = (x: number) => `$${x.toFixed(x >= 1 ? 2 : 4)}`;

/** What one request's line in a results file takes, roughly, for the download's time allowance. */
export const RESULT_BYTES = 4096;

const withSignal = (ctx: StepContext, label: string) => ({
  label,
  ...(ctx.signal ? { signal: ctx.signal } : {}),
});

/**
 * The run's call policy for an upload or download of about `bytes`: its timeouts, plus one second
 * per MB (a slow link moving 200 MB gets 200 s more), so a server that hangs is given up on.
 */
export function transferPolicy(policy: CallPolicy | undefined, bytes: number): CallPolicy {
  const p = policy ?? {};
  const extra = Math.floor(bytes / 1000);
  return {
    ...p,
    timeoutMs: (p.timeoutMs ?? DEFAULT_CALL_POLICY.timeoutMs) + extra,
    totalTimeoutMs: (p.totalTimeoutMs ?? DEFAULT_CALL_POLICY.totalTimeoutMs) + extra,
  };
}

/** The error for a submission that could take the spend past the budget (it is not sent). */
export function budgetRefusal(
  budget: number,
  spent: number,
  reserved: number,
  requests: number,
  model: string,
  estimate: number,
): BudgetExceededError {
  return new BudgetExceededError(
    `budget of ${usd(budget)} reached: spent ${usd(spent)}, ${usd(reserved)} held by running batches, and the next batch of ${requests} requests to ${model} could cost up to ${usd(estimate)} at batch prices; it was not submitted`,
  );
}

/**
 * Creates a batch through `send`; a retry after a lost reply first looks for the batch the lost
 * reply created, so one submission is never two batches. A reply without a batch id is an error.
 */
async function createBatch(
  ctx: StepContext,
  api: BatchAPI,
  job: Pick<BatchJob, "submission" | "submittedAt" | "model">,
  requests: number,
  bytes: number,
  known: ReadonlySet<string>,
  send: (signal: AbortSignal | undefined) => Promise<{ id: string; inputFileId?: string }>,
): Promise<{ id: string; inputFileId?: string }> {
  let attempts = 0;
  const created = await callWithPolicy(
    async (signal) => {
      if (attempts++ > 0) {
        const found = await api.find({ id: job.submission, at: job.submittedAt, requests, known, signal });
        if (found) return { id: found };
      }
      return send(signal);
    },
    transferPolicy(ctx.policy, bytes),
    withSignal(ctx, `${job.model} batch submission`),
  );
  // Whatever the API object, a batch without an id is never recorded as submitted.
  if (typeof created?.id !== "string" || created.id === "" || created.id === "undefined")
    throw new InvalidResponseError(
      `${api.provider}: the batch submission's reply has no batch id; check the base URL`,
      { provider: api.provider },
    );
  return created;
}

/** A batch about to be created: what the journal records before anything is sent. */
export interface Submission {
  model: string;
  customIds: string[];
  estimatedUsd: number;
  bytes: number;
  /** Batch ids this session knows (not the one a lost reply created). */
  known: ReadonlySet<string>;
  send: (
    submission: string,
    signal: AbortSignal | undefined,
  ) => Promise<{ id: string; inputFileId?: string }>;
}

/**
 * Journals a submission (synced) before sending it, then its batch id: a batch is never created
 * unrecorded, so a re-run finds it instead of paying twice. Throws the typed error when the journal
 * cannot be written (nothing sent) or the submission failed (journalled as not submitted).
 */
export async function submitJob(ctx: StepContext, api: BatchAPI, s: Submission): Promise<BatchJob> {
  const job: BatchJob = {
    submission: `lmcot-${randomUUID()}`,
    provider: api.provider,
    model: s.model,
    customIds: s.customIds,
    estimatedUsd: s.estimatedUsd,
    submittedAt: Date.now(),
    state: "submitting",
  };
  try {
    ctx.journal.append({
      event: "submitting",
      submission: job.submission,
      provider: api.provider,
      model: s.model,
      customIds: s.customIds,
      estimatedUsd: s.estimatedUsd,
      at: job.submittedAt,
    });
  } catch (error) {
    throw new LmcotError(
      "journal_unwritable",
      `could not write ${ctx.journal.path} (${errorMessage(error)}), so the batch of ${s.customIds.length} requests to ${s.model} was not submitted`,
    );
  }
  let created: { id: string; inputFileId?: string };
  try {
    created = await createBatch(ctx, api, job, s.customIds.length, s.bytes, s.known, (signal) =>
      s.send(job.submission, signal),
    );
  } catch (error) {
    const typed = toLmcotError(error, api.provider, ctx.secrets);
    ctx.record(
      { event: "not-submitted", submission: job.submission, reason: typed.message, at: Date.now() },
      "a re-run looks for this submission at the provider first",
    );
    throw typed;
  }
  ctx.record(
    {
      event: "submitted",
      submission: job.submission,
      batchId: created.id,
      ...(created.inputFileId ? { inputFileId: created.inputFileId } : {}),
      at: Date.now(),
    },
    `batch ${created.id} is waited for all the same, and a re-run finds it at the provider by its submission`,
  );
  Object.assign(job, { state: "running", batchId: created.id });
  return job;
}

/**
 * A job a killed process left `submitting`: the batch it may have created is looked for at the
 * provider and adopted (`running`), or the job is marked `not-submitted` so its requests go again.
 */
export async function findOrphan(
  ctx: StepContext,
  api: BatchAPI | undefined,
  job: BatchJob,
  known: Set<string>,
  requests = job.customIds.length,
): Promise<void> {
  let found: string | undefined;
  try {
    if (api)
      found = await callWithPolicy(
        (signal) =>
          api.find({
            id: job.submission,
            at: job.submittedAt,
            requests: job.customIds.length,
            known,
            signal,
          }),
        ctx.policy,
        withSignal(ctx, `${job.model} batch lookup`),
      );
  } catch (error) {
    ctx.emit({
      type: "notice",
      message: `could not look for batch ${job.submission}: ${errorMessage(error)}`,
    });
  }
  if (found) {
    ctx.record(
      { event: "submitted", submission: job.submission, batchId: found, adopted: true, at: Date.now() },
      `batch ${found} is waited for all the same, and found again next time`,
    );
    Object.assign(job, { state: "running", batchId: found });
    known.add(found);
    ctx.emit({ type: "notice", message: `found batch ${found}, created before the last run stopped` });
    return;
  }
  const reason = "not found at the provider: the last run stopped before creating it";
  ctx.record(
    { event: "not-submitted", submission: job.submission, reason, at: Date.now() },
    "it is looked for again next time",
  );
  ctx.emit({
    type: "notice",
    message: `submission ${job.submission} (${requests} requests to ${job.model}), left unfinished by the last run, is not at the provider${job.provider === "anthropic" ? " (or no single batch of that size and time matched)" : ""}: its requests are submitted again`,
  });
  job.state = "not-submitted";
}

/** The typed error with a new message (its class, status and retryability kept). */
function withMessage(error: unknown, message: string): unknown {
  if (LmcotError.isInstance(error)) {
    error.message = message;
    return error;
  }
  return new Error(message, { cause: error });
}

/** Polls a batch until it has ended (progress events on the way) and journals its end. */
export async function waitForEnd(
  ctx: StepContext,
  api: BatchAPI,
  job: Pick<BatchJob, "batchId" | "model" | "submittedAt">,
): Promise<BatchStatus> {
  const id = job.batchId!;
  const label = withSignal(ctx, `${job.model} batch ${id}`);
  const maxFailed = ctx.maxFailedPolls ?? 10;
  let failedPolls = 0;
  let status: BatchStatus;
  for (let first = true; ; first = false) {
    if (!first) await sleep(ctx.pollIntervalMs ?? 30_000, ctx.signal);
    try {
      status = await callWithPolicy((s) => api.retrieve(id, s), ctx.policy, label);
      failedPolls = 0;
    } catch (error) {
      if (isFatalError(error) || AbortError.isInstance(error)) throw error;
      if (++failedPolls >= maxFailed)
        throw withMessage(
          error,
          `${id}: gave up after ${failedPolls} failed looks at its status in a row (the batch may still run at the provider; a re-run attaches to it again), the last: ${errorMessage(error)}`,
        );
      ctx.emit({
        type: "notice",
        message: `${id}: could not read its status (${errorMessage(error)}); still waiting (${failedPolls} of ${maxFailed} failed looks in a row)`,
      });
      continue;
    }
    ctx.emit({ type: "progress", model: job.model, ...batchTiming(status, job.submittedAt), ...status });
    if (status.state === "ended") break;
  }
  ctx.record(
    {
      event: "ended",
      batchId: id,
      status: status.status,
      total: status.total,
      failed: status.failed,
      at: Date.now(),
    },
    "its results are collected all the same",
  );
  return status;
}

/** The outcome of a request a batch's results lack (or every request of a batch that failed). */
export function missingOutcome(customId: string, status: BatchStatus): BatchOutcome {
  return {
    customId,
    ok: false,
    kind: "error",
    ...(status.error ? { status: 400 } : {}),
    message: status.error ? `the batch failed: ${status.error}` : "missing from the batch's results",
  };
}

/** The typed error for a request that did not succeed in a batch. */
export function errorOf(
  outcome: Extract<BatchOutcome, { ok: false }>,
  provider: string,
  batchId: string,
): LmcotError {
  const where = `${provider} batch ${batchId}`;
  if (outcome.kind === "expired")
    return new BatchExpiredError(`${where} expired before this request ran`, { provider });
  if (outcome.kind === "cancelled")
    return new BatchCancelledError(`${where} was cancelled before this request ran`, { provider });
  if (outcome.status === undefined) return new BadRequestError(`${where}: ${outcome.message}`, { provider });
  return toLmcotError({ status: outcome.status, message: `batch ${batchId}: ${outcome.message}` }, provider);
}
