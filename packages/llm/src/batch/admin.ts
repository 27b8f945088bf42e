import { BadRequestError, errorMessage, redact } from "@lmcot/core";
import { apiKeysInEnv, getModel } from "../registry";
import { type BatchJob, Journal, journalPaths, readJournal } from "./journal";
import {
  type BatchAPI,
  type BatchProvider,
  type BatchStatus,
  batchTiming,
  type MaybeBatchable,
} from "./types";

export interface BatchAdminOptions {
  /** Base name of the journal (default `batches`: `<dir>/batches.jsonl`). */
  name?: string;
  signal?: AbortSignal;
  /** Where the providers' keys and base URLs are read (default `process.env`). */
  env?: NodeJS.ProcessEnv;
}

/** A batch as the journal records it. */
export interface BatchListing {
  /** The provider's batch id, or lmcot's submission id when no batch was (known to be) created. */
  id: string;
  batchId?: string;
  submission: string;
  provider: BatchProvider;
  model: string;
  requests: number;
  submittedAt: number;
  state: BatchJob["state"];
  /** The last status the journal knows (once ended). */
  status?: string;
  total?: number;
  failed?: number;
  succeeded?: number;
  cancelRequested: boolean;
  /** Why it was not submitted. */
  reason?: string;
}

/** A batch with what its provider says now (`live`), or the journal's word when it was not asked. */
export interface BatchLiveStatus extends BatchListing {
  live?: BatchStatus;
  elapsedMs?: number;
  /** From the rate so far, while some but not all requests are done. */
  etaMs?: number;
  /** Why the provider could not be asked (redacted). */
  error?: string;
}

export interface BatchCancelResult extends BatchListing {
  /** `cancelling`: the provider accepted; `ended`: it had ended already; `skipped`: not running; `failed`: see `error`. */
  outcome: "cancelling" | "ended" | "skipped" | "failed";
  live?: BatchStatus;
  error?: string;
}

const listing = (job: BatchJob): BatchListing => ({
  id: job.batchId ?? job.submission,
  ...(job.batchId ? { batchId: job.batchId } : {}),
  submission: job.submission,
  provider: job.provider,
  model: job.model,
  requests: job.customIds.length,
  submittedAt: job.submittedAt,
  state: job.state,
  ...(job.status !== undefined ? { status: job.status } : {}),
  ...(job.total !== undefined ? { total: job.total } : {}),
  ...(job.failed !== undefined ? { failed: job.failed } : {}),
  ...(job.succeeded !== undefined ? { succeeded: job.succeeded } : {}),
  cancelRequested: job.cancelRequested === true,
  ...(job.reason !== undefined ? { reason: job.reason } : {}),
});

/** The jobs of a run directory's batch journal, oldest first (no network). */
export function listBatches(dir: string, options: Pick<BatchAdminOptions, "name"> = {}): BatchListing[] {
  return readJournal(journalPaths(dir, options.name).journal).map(listing);
}

/** The batch API of a journal's model id, through the registry (its key and base URL from `env`). */
function apiOf(model: string, env: NodeJS.ProcessEnv): BatchAPI {
  const adapter = getModel(model, { env }) as MaybeBatchable;
  const api = adapter.batchable?.()?.api;
  if (!api) throw new BadRequestError(`${model} has no batch API (only openai: and anthropic: models do)`);
  return api;
}

/** Runs `work` per job; an error becomes that job's redacted message. */
async function perJob<T>(
  jobs: BatchJob[],
  env: NodeJS.ProcessEnv,
  work: (job: BatchJob, api: () => BatchAPI) => Promise<T>,
  failed: (job: BatchJob, error: string) => T,
): Promise<T[]> {
  const secrets = apiKeysInEnv(env);
  const apis = new Map<string, BatchAPI>();
  const api = (job: BatchJob) => () => {
    let found = apis.get(job.model);
    if (!found) {
      found = apiOf(job.model, env);
      apis.set(job.model, found);
    }
    return found;
  };
  return Promise.all(
    jobs.map((job) =>
      work(job, api(job)).catch((error) => failed(job, redact(errorMessage(error), secrets))),
    ),
  );
}

/**
 * Every job with its provider's status now; collected jobs (and those never created) from the
 * journal. A job the provider could not be asked about carries `error`; nothing is thrown for it.
 */
export async function batchStatuses(
  dir: string,
  options: BatchAdminOptions = {},
): Promise<BatchLiveStatus[]> {
  const jobs = readJournal(journalPaths(dir, options.name).journal);
  return perJob<BatchLiveStatus>(
    jobs,
    options.env ?? process.env,
    async (job, api) => {
      if (job.state === "collected" || !job.batchId) return listing(job);
      const live = await api().retrieve(job.batchId, options.signal);
      return { ...listing(job), live, ...batchTiming(live, job.submittedAt) };
    },
    (job, error) => ({ ...listing(job), error }),
  );
}

/**
 * Cancels every job the journal has running and records a `cancel-requested` event for each the
 * provider accepted. Requests of a cancelled batch are submitted again when the run is repeated.
 */
export async function cancelBatches(
  dir: string,
  options: BatchAdminOptions = {},
): Promise<BatchCancelResult[]> {
  const paths = journalPaths(dir, options.name);
  const journal = new Journal(paths.journal);
  const jobs = readJournal(paths.journal);
  return perJob<BatchCancelResult>(
    jobs,
    options.env ?? process.env,
    async (job, api) => {
      if (job.state !== "running" || !job.batchId) return { ...listing(job), outcome: "skipped" };
      let live: BatchStatus;
      try {
        live = await api().cancel(job.batchId, options.signal);
      } catch (error) {
        // Ended since the journal last heard of it: nothing left to cancel.
        const now = await api()
          .retrieve(job.batchId, options.signal)
          .catch(() => undefined);
        if (now?.state === "ended") return { ...listing(job), outcome: "ended", live: now };
        throw error;
      }
      if (!job.cancelRequested)
        journal.append({ event: "cancel-requested", batchId: job.batchId, at: Date.now() });
      const outcome = live.state === "ended" ? "ended" : "cancelling";
      return { ...listing(job), cancelRequested: true, outcome, live };
    },
    (job, error) => ({ ...listing(job), outcome: "failed", error }),
  );
}
