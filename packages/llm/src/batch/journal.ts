import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import type { BatchOutcome, BatchProvider } from "./types";

/** One line of `batches.jsonl`: what happened to a batch, written before anything waits on it. */
export type JournalEvent =
  | {
      event: "submitting";
      submission: string;
      provider: BatchProvider;
      model: string;
      customIds: string[];
      estimatedUsd?: number;
      at: number;
    }
  | {
      event: "submitted";
      submission: string;
      batchId: string;
      inputFileId?: string;
      adopted?: boolean;
      at: number;
    }
  | { event: "not-submitted"; submission: string; reason: string; at: number }
  | { event: "ended"; batchId: string; status: string; total: number; failed: number; at: number }
  | { event: "collected"; batchId: string; file: string; succeeded: number; failed: number; at: number }
  | { event: "cancel-requested"; batchId: string; at: number };

/** A batch as the journal knows it. */
export interface BatchJob {
  submission: string;
  provider: BatchProvider;
  model: string;
  customIds: string[];
  estimatedUsd?: number;
  submittedAt: number;
  batchId?: string;
  /**
   * `submitting`: created, maybe, by a process killed before it wrote the id. `failed`: recorded as
   * submitted without a batch id (an older lmcot, pointed at a server that was not the provider's API).
   */
  state: "submitting" | "not-submitted" | "failed" | "running" | "ended" | "collected";
  status?: string;
  total?: number;
  failed?: number;
  succeeded?: number;
  /** The results file (relative to the journal's folder), once collected. */
  file?: string;
  cancelRequested?: boolean;
  reason?: string;
}

/** The journal's path and its results folder for a run directory (`name` default `batches`). */
export function journalPaths(dir: string, name = "batches") {
  return { journal: join(dir, `${name}.jsonl`), results: join(dir, name), dir };
}

const NO_ID =
  "recorded as submitted without a batch id: the server's reply had none, so it was not the provider's batch API (check the base URL); nothing can be collected, and a re-run submits these requests again";

/** A provider's batch id, not the `undefined` an older lmcot wrote for a reply without one. */
export const isBatchId = (id: unknown): id is string =>
  typeof id === "string" && id !== "" && id !== "undefined" && id !== "null";

/** The jobs a journal records, oldest first; a torn last line (a kill mid-write) is ignored. */
export function readJournal(path: string): BatchJob[] {
  if (!existsSync(path)) return [];
  const fold = new JournalFold();
  for (const line of readFileSync(path, "utf8").split("\n")) fold.add(line);
  return [...fold.jobs.values()];
}

/**
 * Journal lines folded into jobs one at a time, for a reader that streams the file. With `keepIds`
 * false a job's `customIds` stay empty: its caller indexes them from the `submitting` event instead.
 */
export class JournalFold {
  /** By submission id, oldest first. */
  readonly jobs = new Map<string, BatchJob>();
  private readonly byBatch = new Map<string, BatchJob>();

  constructor(private readonly keepIds = true) {}

  /** The line's event and its job; undefined for a blank or torn line, or an event of no known job. */
  add(line: string): { event: JournalEvent; job: BatchJob } | undefined {
    if (!line.trim()) return undefined;
    let e: JournalEvent;
    try {
      e = JSON.parse(line);
    } catch {
      return undefined;
    }
    if (e.event === "submitting") {
      const job: BatchJob = {
        submission: e.submission,
        provider: e.provider,
        model: e.model,
        customIds: this.keepIds ? e.customIds : [],
        ...(e.estimatedUsd !== undefined ? { estimatedUsd: e.estimatedUsd } : {}),
        submittedAt: e.at,
        state: "submitting",
      };
      this.jobs.set(e.submission, job);
      return { event: e, job };
    }
    if (e.event === "submitted" || e.event === "not-submitted") {
      const job = this.jobs.get(e.submission);
      if (!job) return undefined;
      if (e.event === "not-submitted") Object.assign(job, { state: "not-submitted", reason: e.reason });
      else if (!isBatchId(e.batchId)) Object.assign(job, { state: "failed", reason: NO_ID });
      else {
        Object.assign(job, { state: "running", batchId: e.batchId });
        this.byBatch.set(e.batchId, job);
      }
      return { event: e, job };
    }
    const job = this.byBatch.get(e.batchId);
    if (!job) return undefined;
    if (e.event === "ended")
      Object.assign(job, { state: "ended", status: e.status, total: e.total, failed: e.failed });
    if (e.event === "collected")
      Object.assign(job, { state: "collected", file: e.file, succeeded: e.succeeded, failed: e.failed });
    if (e.event === "cancel-requested") job.cancelRequested = true;
    return { event: e, job };
  }
}

/** Appends events durably (written and synced before the call returns). */
export class Journal {
  constructor(readonly path: string) {}

  append(event: JournalEvent): void {
    const fd = openSync(this.path, "a");
    try {
      writeSync(fd, `${JSON.stringify(event)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}

/** Writes a batch's outcomes to `<results>/<batchId>.jsonl` (whole, or not at all) and returns its path. */
export function writeResults(results: string, batchId: string, outcomes: readonly BatchOutcome[]): string {
  mkdirSync(results, { recursive: true });
  const file = join(results, `${batchId}.jsonl`);
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, "w");
  try {
    for (let i = 0; i < outcomes.length; i += 1000)
      writeSync(
        fd,
        outcomes
          .slice(i, i + 1000)
          .map((o) => `${JSON.stringify(o)}\n`)
          .join(""),
      );
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  return file;
}

/** The outcomes a results file holds, by custom id. */
export function readResults(file: string): Map<string, BatchOutcome> {
  const map = new Map<string, BatchOutcome>();
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (!line.trim()) continue;
    const outcome = JSON.parse(line) as BatchOutcome;
    map.set(outcome.customId, outcome);
  }
  return map;
}
