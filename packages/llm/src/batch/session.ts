import { AsyncLocalStorage } from "node:async_hooks";

export type { BatchEvent } from "./steps";

import { setMaxListeners } from "node:events";
import { mkdirSync } from "node:fs";
import { join, relative } from "node:path";
import {
  AbortError,
  type CallPolicy,
  type CallWarning,
  callWithPolicy,
  errorMessage,
  type GenerateRequest,
  type GenerateResult,
  isFatalError,
  type LanguageModel,
  LmcotError,
  settledOrAborted,
  toLmcotError,
} from "@lmcot/core";
import { cacheKey } from "../middleware/cache";
import { withGenerate } from "../middleware/types";
import { batchCostUsd, estimateBatchCostUsd, type Price } from "../prices";
import { type BatchJob, Journal, journalPaths, readJournal, readResults, writeResults } from "./journal";
import {
  type BatchEvent,
  budgetRefusal,
  errorOf,
  findOrphan,
  missingOutcome,
  RESULT_BYTES,
  recordOrTell,
  type StepContext,
  submitJob,
  transferPolicy,
  waitForEnd,
} from "./steps";
import { BATCH_LIMITS, type Batchable, type BatchLimits, type BatchOutcome } from "./types";

export interface BatchSessionOptions {
  /** The run directory: `batches.jsonl` and the downloaded results (`batches/<id>.jsonl`) go here. */
  dir: string;
  /** Base name of the journal and results folder (default `batches`). */
  name?: string;
  /** Between two polls of a running batch (default 30 s). */
  pollIntervalMs?: number;
  /** Smaller limits than the providers' (tests; or to get first results sooner). */
  limits?: Partial<BatchLimits>;
  /** Where retryable failures (expired, 5xx, 429) go: a follow-up batch (default) or online calls. */
  fallback?: "batch" | "online";
  /** Batches one request may go through in this session before its failure is final (default 3). */
  maxRounds?: number;
  /** No submission may take the worst-case spend (at batch prices) past this many USD. */
  budgetUsd?: number;
  prices?: Record<string, Price>;
  /**
   * For the submit, poll and download calls (retries, timeouts): `timeoutMs` and `totalTimeoutMs`
   * hold for each, plus one second per MB an upload or download moves.
   */
  policy?: CallPolicy;
  /** Polls of a running batch that may fail in a row (each after its retries) before its calls fail (default 10). */
  maxFailedPolls?: number;
  signal?: AbortSignal;
  onEvent?: (event: BatchEvent) => void;
  /** Calls made outside `track` are submitted after this long without a new one (default 200 ms). */
  idleMs?: number;
  /** Tracked calls are submitted after this long without a new call or a finished item (default 5 s). */
  stallMs?: number;
  /** Strings removed from messages (the API keys in use). */
  secrets?: readonly (string | undefined)[];
}

interface Task {
  waiting: number;
}

interface Call {
  customId: string;
  modelId: string;
  batchable: Batchable;
  online: LanguageModel;
  request: GenerateRequest;
  body: Record<string, unknown>;
  warnings: CallWarning[];
  rounds: number;
  tracked: boolean;
  promise: Promise<GenerateResult>;
  resolve: (result: GenerateResult) => void;
  reject: (error: unknown) => void;
}

interface Running {
  job: BatchJob;
  calls: Map<string, Call>;
  batchable: Batchable;
  /** Submitted by an earlier session (re-attached from the journal). */
  earlier?: boolean;
}

/**
 * Collects large-LM calls and sends them as provider batches (OpenAI Batch API, Anthropic Message
 * Batches) at batch prices. Wrap models with `wrap` (or `createModel(id, { batch })`) and run each
 * item inside `track`: when every tracked item is waiting on a batched call, the waiting calls are
 * submitted, so multi-step methods go in rounds (all rationales, then all answers). Each batch is
 * written to `batches.jsonl` before anyone waits on it, and its results to `batches/<id>.jsonl`
 * before they are handed out: a re-run re-attaches to running batches and never submits a request
 * twice.
 */
export class BatchSession {
  private readonly paths: ReturnType<typeof journalPaths>;
  private readonly journal: Journal;
  private readonly record: StepContext["record"];
  private readonly ctx: StepContext;
  private readonly tasks = new AsyncLocalStorage<Task>();
  private active = 0;
  private blocked = 0;
  private queue: Call[] = [];
  /** Queued calls made outside `track` (they wait for `idleMs` of quiet instead). */
  private untracked = 0;
  private readonly calls = new Map<string, Call>();
  private readonly running = new Map<string, Running>();
  /** Jobs of earlier sessions, by custom id (the latest job holding it). */
  private readonly known = new Map<string, BatchJob>();
  private loaded?: Promise<void>;
  private flushScheduled = false;
  private idleTimer?: NodeJS.Timeout;
  private submitting: Promise<void> = Promise.resolve();
  private reservedUsd = 0;
  /** The first error a re-run cannot fix: nothing is submitted after it. */
  private fatal?: unknown;
  /** What batch results handed out in this session cost (batch prices). */
  spentUsd = 0;
  readonly stats = { submitted: 0, attached: 0, requests: 0, fromFile: 0, followUps: 0, online: 0 };

  constructor(readonly options: BatchSessionOptions) {
    this.paths = journalPaths(options.dir, options.name);
    mkdirSync(options.dir, { recursive: true });
    this.journal = new Journal(this.paths.journal);
    this.record = recordOrTell(this.journal, (e) => this.emit(e));
    this.ctx = { ...options, journal: this.journal, emit: (e) => this.emit(e), record: this.record };
    options.signal?.addEventListener("abort", () => this.abortAll(), { once: true });
  }

  /** Runs one item of work; its batched calls are submitted once every tracked item is waiting. */
  track = <T>(run: () => Promise<T>): Promise<T> => {
    this.active++;
    return this.tasks.run({ waiting: 0 }, run).finally(() => {
      this.active--;
      this.check();
    });
  };

  /** `model`'s calls, sent through this session's batches; `online` answers when falling back. */
  wrap(model: LanguageModel, batchable: Batchable, online: LanguageModel = model): LanguageModel {
    this.apis.set(model.id, batchable.api);
    return withGenerate(model, (request) => this.generate(model.id, batchable, online, request));
  }

  /** Batches still running at the provider (for the message on Ctrl-C). */
  runningBatches(): { batchId: string; model: string; requests: number }[] {
    return readJournal(this.paths.journal)
      .filter((j) => j.state === "running" && j.batchId)
      .map((j) => ({ batchId: j.batchId!, model: j.model, requests: j.customIds.length }));
  }

  /** Submits what is queued now. */
  flush(): void {
    const calls = this.queue.splice(0);
    if (!calls.length) return;
    const byModel = new Map<string, Call[]>();
    this.untracked = 0;
    for (const c of calls) {
      const group = byModel.get(c.modelId);
      if (group) group.push(c);
      else byModel.set(c.modelId, [c]);
    }
    for (const group of byModel.values())
      for (const chunk of this.chunks(group))
        this.submitting = this.submitting.then(() =>
          this.submit(chunk).catch((error) => {
            for (const c of chunk) if (this.calls.get(c.customId) === c) this.fail(c, error);
          }),
        );
  }

  private emit(event: BatchEvent): void {
    this.options.onEvent?.(event);
  }

  private async generate(
    modelId: string,
    batchable: Batchable,
    online: LanguageModel,
    request: GenerateRequest,
  ): Promise<GenerateResult> {
    const task = this.tasks.getStore();
    if (task && task.waiting++ === 0) this.blocked++;
    try {
      this.loaded ??= this.load();
      await this.loaded;
      const customId = cacheKey(modelId, request);
      let call = this.calls.get(customId);
      if (!call) {
        const { body, warnings } = batchable.body(request);
        let resolve!: Call["resolve"];
        let reject!: Call["reject"];
        const promise = new Promise<GenerateResult>((a, b) => {
          resolve = a;
          reject = b;
        });
        promise.catch(() => undefined);
        call = {
          customId,
          modelId,
          batchable,
          online,
          request,
          body,
          warnings,
          rounds: 0,
          tracked: task !== undefined,
          promise,
          resolve,
          reject,
        };
        this.calls.set(customId, call);
        this.route(call);
      }
      const signal = request.signal;
      if (!signal) return await call.promise;
      // Every item of a run waits at once on the run's one signal: that many listeners is no leak.
      setMaxListeners(0, signal);
      return await settledOrAborted(call.promise, signal, () => new AbortError());
    } finally {
      if (task && --task.waiting === 0) this.blocked--;
      this.check();
    }
  }

  /** Reads the journal once; batches a killed process created but never recorded are looked for. */
  private async load(): Promise<void> {
    let jobs: BatchJob[];
    try {
      jobs = readJournal(this.paths.journal);
    } catch (error) {
      throw new LmcotError(
        "journal_unreadable",
        `could not read ${this.paths.journal} (${errorMessage(error)}): without it, batches could be submitted twice, so nothing is`,
      );
    }
    const ids = new Set(jobs.flatMap((j) => (j.batchId ? [j.batchId] : [])));
    for (const job of jobs) {
      if (job.state === "submitting") await findOrphan(this.ctx, this.apis.get(job.model), job, ids);
      if (job.state === "not-submitted" || job.state === "failed") continue;
      for (const id of job.customIds) this.known.set(id, job);
    }
  }

  /** Batch APIs of wrapped models, by model id (for jobs found in the journal before any call). */
  private readonly apis = new Map<string, Batchable["api"]>();

  /** A new call: answered from an earlier session's results, attached to its running batch, or queued. */
  private route(call: Call): void {
    const job = this.known.get(call.customId);
    if (job?.state === "collected" && job.file) {
      const outcome = this.fileOutcomes(job).get(call.customId);
      if (outcome?.ok) {
        this.stats.fromFile++;
        this.settle(call, outcome, job.batchId!);
        return;
      }
    } else if ((job?.state === "running" || job?.state === "ended") && job.batchId) {
      this.attach(job, call);
      return;
    }
    this.enqueue(call);
  }

  private readonly fileCache = new Map<string, Map<string, BatchOutcome>>();

  private fileOutcomes(job: BatchJob): Map<string, BatchOutcome> {
    let outcomes = this.fileCache.get(job.file!);
    if (!outcomes) {
      outcomes = readResults(join(this.paths.dir, job.file!));
      this.fileCache.set(job.file!, outcomes);
    }
    return outcomes;
  }

  private enqueue(call: Call): void {
    this.queue.push(call);
    if (!call.tracked) this.untracked++;
    this.check();
  }

  /** Submits when every tracked item waits on a batched call; untracked calls after `idleMs` quiet. */
  private check(): void {
    if (!this.queue.length) return;
    // Calls made outside `track` go after `idleMs` of quiet. Tracked ones go once every item waits, or
    // after `stallMs` of quiet should an item never be seen waiting (its call made where the tracking
    // context was lost): the session never waits forever, and the timer keeps the process alive.
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(
      () => this.flush(),
      this.untracked > 0 ? (this.options.idleMs ?? 200) : (this.options.stallMs ?? 5000),
    );
    if (this.flushScheduled || this.active === 0 || this.blocked < this.active) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      if (this.blocked >= this.active) this.flush();
    });
  }

  private limitsFor(batchable: Batchable): BatchLimits {
    return { ...BATCH_LIMITS[batchable.api.provider], ...this.options.limits };
  }

  /** Calls split so no batch passes its provider's request count or size. */
  private *chunks(calls: Call[]): Generator<Call[]> {
    const limits = this.limitsFor(calls[0]!.batchable);
    let chunk: Call[] = [];
    let bytes = 0;
    for (const call of calls) {
      const size = call.batchable.api.size({ customId: call.customId, body: call.body });
      if (chunk.length && (chunk.length >= limits.maxRequests || bytes + size > limits.maxBytes)) {
        yield chunk;
        chunk = [];
        bytes = 0;
      }
      chunk.push(call);
      bytes += size;
    }
    if (chunk.length) yield chunk;
  }

  private async submit(calls: Call[]): Promise<void> {
    const live = calls.filter((c) => this.calls.get(c.customId) === c);
    if (!live.length || this.options.signal?.aborted) return;
    if (this.fatal !== undefined) {
      for (const c of live) this.fail(c, this.fatal);
      return;
    }
    const { batchable, modelId } = live[0]!;
    const api = batchable.api;
    const estimate = live.reduce(
      (sum, c) => sum + (estimateBatchCostUsd(modelId, c.body, this.options.prices) ?? 0),
      0,
    );
    const budget = this.options.budgetUsd;
    if (budget !== undefined && this.spentUsd + this.reservedUsd + estimate > budget + 1e-12) {
      const error = budgetRefusal(budget, this.spentUsd, this.reservedUsd, live.length, modelId, estimate);
      for (const c of live) this.fail(c, error);
      return;
    }
    let job: BatchJob;
    try {
      const requests = live.map((c) => ({ customId: c.customId, body: c.body }));
      job = await submitJob(this.ctx, api, {
        model: modelId,
        customIds: live.map((c) => c.customId),
        estimatedUsd: estimate,
        bytes: requests.reduce((sum, r) => sum + api.size(r), 0),
        known: new Set([...this.running.keys()]),
        send: (submission, signal) => api.submit(requests, { model: batchable.model, submission, signal }),
      });
    } catch (error) {
      if (LmcotError.isInstance(error) && error.code === "journal_unwritable") throw error;
      for (const c of live) this.fail(c, error);
      return;
    }
    const created = { id: job.batchId! };
    this.stats.submitted++;
    this.stats.requests += live.length;
    this.reservedUsd += estimate;
    this.emit({
      type: "submitted",
      batchId: created.id,
      model: modelId,
      requests: live.length,
      estimatedUsd: estimate,
    });
    const running: Running = { job, calls: new Map(live.map((c) => [c.customId, c])), batchable };
    this.running.set(created.id, running);
    void this.poll(running);
  }

  /** A call whose request is in a batch an earlier session submitted: wait for that batch. */
  private attach(job: BatchJob, call: Call): void {
    let running = this.running.get(job.batchId!);
    if (!running) {
      running = { job, calls: new Map(), batchable: call.batchable, earlier: true };
      this.running.set(job.batchId!, running);
      this.stats.attached++;
      this.emit({
        type: "attached",
        batchId: job.batchId!,
        model: job.model,
        requests: job.customIds.length,
      });
      const started = running;
      // Attach every call routed this tick before the first poll.
      setImmediate(() => void this.poll(started));
    }
    running.calls.set(call.customId, call);
  }

  private async poll(running: Running): Promise<void> {
    const { job, batchable } = running;
    const id = job.batchId!;
    const api = batchable.api;
    const signal = this.options.signal;
    const label = { label: `${job.model} batch ${id}`, ...(signal ? { signal } : {}) };
    try {
      const status = await waitForEnd(this.ctx, api, job);
      const outcomes = status.error
        ? []
        : await callWithPolicy(
            (s) => api.results(id, s),
            transferPolicy(this.options.policy, job.customIds.length * RESULT_BYTES),
            label,
          );
      const succeeded = outcomes.filter((o) => o.ok).length;
      this.saveResults(job, id, outcomes, succeeded);
      this.reservedUsd -= job.estimatedUsd ?? 0;
      this.running.delete(id);
      this.emit({
        type: "ended",
        batchId: id,
        model: job.model,
        status: status.status,
        succeeded,
        failed: job.customIds.length - succeeded,
      });
      const byId = new Map(outcomes.map((o) => [o.customId, o]));
      for (const call of running.calls.values()) {
        const outcome = byId.get(call.customId) ?? missingOutcome(call.customId, status);
        this.settle(call, outcome, id, running.earlier);
      }
    } catch (error) {
      this.running.delete(id);
      const typed = AbortError.isInstance(error)
        ? error
        : toLmcotError(error, api.provider, this.options.secrets);
      for (const call of running.calls.values()) this.fail(call, typed);
    }
  }

  /**
   * Keeps a batch's results in the run directory before they are handed out. Where they cannot be
   * written (a full disk) they are handed out from memory, and a re-run downloads them again.
   */
  private saveResults(job: BatchJob, id: string, outcomes: BatchOutcome[], succeeded: number): void {
    let file: string;
    try {
      file = relative(this.paths.dir, writeResults(this.paths.results, id, outcomes));
    } catch (error) {
      this.emit({
        type: "notice",
        message: `could not save the results of batch ${id} in ${this.paths.results} (${errorMessage(error)}); they are used from memory, and a re-run downloads them again from the provider`,
      });
      return;
    }
    const recorded = this.record(
      {
        event: "collected",
        batchId: id,
        file,
        succeeded,
        failed: outcomes.length - succeeded,
        at: Date.now(),
      },
      "a re-run downloads the results again from the provider",
    );
    if (recorded) Object.assign(job, { state: "collected", file });
  }

  /** Hands a result to its callers, or decides what a failed request becomes. */
  private settle(call: Call, outcome: BatchOutcome, batchId: string, earlier = false): void {
    if (outcome.ok) {
      try {
        const result = call.batchable.parse(outcome.response, call.body, call.warnings);
        const cost = batchCostUsd(call.modelId, result.usage, this.options.prices);
        this.spentUsd += cost ?? 0;
        this.calls.delete(call.customId);
        call.resolve(cost === undefined ? result : { ...result, costUsd: cost });
      } catch (error) {
        this.fail(call, toLmcotError(error, call.batchable.api.provider, this.options.secrets));
      }
      return;
    }
    if (this.fatal !== undefined) {
      this.fail(call, this.fatal);
      return;
    }
    const error = errorOf(outcome, call.batchable.api.provider, batchId);
    const rounds = this.options.maxRounds ?? 3;
    // A batch cancelled while no run waited on it (`lmcot batch cancel`): this re-run sends it again.
    const resend = earlier && outcome.kind === "cancelled";
    if ((!error.retryable && !resend) || this.options.signal?.aborted) {
      this.fail(call, error);
      return;
    }
    if (this.options.fallback === "online") {
      this.stats.online++;
      call.online.generate(call.request).then(
        (result) => {
          this.calls.delete(call.customId);
          call.resolve(result);
        },
        (e) => this.fail(call, e),
      );
      return;
    }
    if (++call.rounds >= rounds) {
      this.fail(call, error);
      return;
    }
    this.stats.followUps++;
    this.emit({ type: "follow-up", model: call.modelId, requests: 1, reason: error.message });
    this.enqueue(call);
  }

  private fail(call: Call, error: unknown): void {
    if (isFatalError(error)) this.fatal ??= error;
    if (this.calls.get(call.customId) === call) this.calls.delete(call.customId);
    call.reject(error);
  }

  private abortAll(): void {
    clearTimeout(this.idleTimer);
    const error = new AbortError("stopped while waiting for provider batches; they keep running");
    for (const call of [...this.calls.values()]) this.fail(call, error);
    this.queue = [];
    this.untracked = 0;
  }
}
