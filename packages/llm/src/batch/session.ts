import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import { setMaxListeners } from "node:events";
import { mkdirSync } from "node:fs";
import { join, relative } from "node:path";
import {
  AbortError,
  BadRequestError,
  BatchCancelledError,
  BatchExpiredError,
  BudgetExceededError,
  type CallPolicy,
  type CallWarning,
  callWithPolicy,
  DEFAULT_CALL_POLICY,
  errorMessage,
  type GenerateRequest,
  type GenerateResult,
  InvalidResponseError,
  isFatalError,
  type LanguageModel,
  LmcotError,
  settledOrAborted,
  sleep,
  toLmcotError,
} from "@lmcot/core";
import { cacheKey } from "../middleware/cache";
import { withGenerate } from "../middleware/types";
import { batchCostUsd, estimateBatchCostUsd, type Price } from "../prices";
import { type BatchJob, Journal, journalPaths, readJournal, readResults, writeResults } from "./journal";
import {
  BATCH_LIMITS,
  type Batchable,
  type BatchLimits,
  type BatchOutcome,
  type BatchStatus,
  batchTiming,
} from "./types";

/** What a session tells its caller while it works (progress lines, notices). */
export type BatchEvent =
  | { type: "submitted"; batchId: string; model: string; requests: number; estimatedUsd?: number }
  | { type: "attached"; batchId: string; model: string; requests: number }
  | ({ type: "progress"; model: string; elapsedMs: number; etaMs?: number } & BatchStatus)
  | { type: "ended"; batchId: string; model: string; status: string; succeeded: number; failed: number }
  | { type: "follow-up"; model: string; requests: number; reason: string }
  | { type: "notice"; message: string };

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

const usd = (x: number) => `$${x.toFixed(x >= 1 ? 2 : 4)}`;

/** What one request's line in a results file takes, roughly, for the download's time allowance. */
const RESULT_BYTES = 4096;

/** The typed error with a new message (its class, status and retryability kept). */
function withMessage(error: unknown, message: string): unknown {
  if (LmcotError.isInstance(error)) {
    error.message = message;
    return error;
  }
  return new Error(message, { cause: error });
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

  /** Appends to the journal; a failed write (full disk) is told, not thrown, where the work can go on. */
  private record(event: Parameters<Journal["append"]>[0], consequence: string): boolean {
    try {
      this.journal.append(event);
      return true;
    } catch (error) {
      this.emit({
        type: "notice",
        message: `could not write ${this.paths.journal} (${errorMessage(error)}): ${consequence}`,
      });
      return false;
    }
  }

  /**
   * The run's call policy for an upload or download of about `bytes`: its timeouts, plus one second
   * per MB (a slow link moving 200 MB gets 200 s more), so a server that hangs is given up on.
   */
  private transferPolicy(bytes: number): CallPolicy {
    const p = this.options.policy ?? {};
    const extra = Math.floor(bytes / 1000);
    return {
      ...p,
      timeoutMs: (p.timeoutMs ?? DEFAULT_CALL_POLICY.timeoutMs) + extra,
      totalTimeoutMs: (p.totalTimeoutMs ?? DEFAULT_CALL_POLICY.totalTimeoutMs) + extra,
    };
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
      if (job.state === "submitting") await this.findOrphan(job, ids);
      if (job.state === "not-submitted" || job.state === "failed") continue;
      for (const id of job.customIds) this.known.set(id, job);
    }
  }

  private async findOrphan(job: BatchJob, known: Set<string>): Promise<void> {
    const api = this.apis.get(job.model);
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
          this.options.policy,
          {
            label: `${job.model} batch lookup`,
            ...(this.options.signal ? { signal: this.options.signal } : {}),
          },
        );
    } catch (error) {
      this.emit({
        type: "notice",
        message: `could not look for batch ${job.submission}: ${errorMessage(error)}`,
      });
    }
    if (found) {
      this.record(
        { event: "submitted", submission: job.submission, batchId: found, adopted: true, at: Date.now() },
        `batch ${found} is waited for all the same, and found again next time`,
      );
      Object.assign(job, { state: "running", batchId: found });
      known.add(found);
      this.emit({ type: "notice", message: `found batch ${found}, created before the last run stopped` });
    } else {
      const reason = "not found at the provider: the last run stopped before creating it";
      this.record(
        { event: "not-submitted", submission: job.submission, reason, at: Date.now() },
        "it is looked for again next time",
      );
      this.emit({
        type: "notice",
        message: `submission ${job.submission} (${job.customIds.length} requests to ${job.model}), left unfinished by the last run, is not at the provider${job.provider === "anthropic" ? " (or no single batch of that size and time matched)" : ""}: its requests are submitted again`,
      });
      job.state = "not-submitted";
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
      const error = new BudgetExceededError(
        `budget of ${usd(budget)} reached: spent ${usd(this.spentUsd)}, ${usd(this.reservedUsd)} held by running batches, and the next batch of ${live.length} requests to ${modelId} could cost up to ${usd(estimate)} at batch prices; it was not submitted`,
      );
      for (const c of live) this.fail(c, error);
      return;
    }
    const submission = `lmcot-${randomUUID()}`;
    const customIds = live.map((c) => c.customId);
    const job: BatchJob = {
      submission,
      provider: api.provider,
      model: modelId,
      customIds,
      estimatedUsd: estimate,
      submittedAt: Date.now(),
      state: "submitting",
    };
    try {
      this.journal.append({
        event: "submitting",
        submission,
        provider: api.provider,
        model: modelId,
        customIds,
        estimatedUsd: estimate,
        at: job.submittedAt,
      });
    } catch (error) {
      // Unrecorded, a batch could be paid for twice: it is not sent.
      throw new LmcotError(
        "journal_unwritable",
        `could not write ${this.paths.journal} (${errorMessage(error)}), so the batch of ${live.length} requests to ${modelId} was not submitted`,
      );
    }
    let created: { id: string; inputFileId?: string };
    try {
      const requests = live.map((c) => ({ customId: c.customId, body: c.body }));
      const bytes = requests.reduce((sum, r) => sum + api.size(r), 0);
      const known = new Set([...this.running.keys()]);
      let attempts = 0;
      created = await callWithPolicy(
        async (signal) => {
          // A retry after a lost reply must not create a second batch: look for the first one.
          if (attempts++ > 0) {
            const found = await api.find({
              id: submission,
              at: job.submittedAt,
              requests: requests.length,
              known,
              signal,
            });
            if (found) return { id: found };
          }
          return api.submit(requests, { model: batchable.model, submission, signal });
        },
        this.transferPolicy(bytes),
        {
          label: `${modelId} batch submission`,
          ...(this.options.signal ? { signal: this.options.signal } : {}),
        },
      );
      // Whatever the API object, a batch without an id is never recorded as submitted.
      if (typeof created?.id !== "string" || created.id === "" || created.id === "undefined")
        throw new InvalidResponseError(
          `${api.provider}: the batch submission's reply has no batch id; check the base URL`,
          { provider: api.provider },
        );
    } catch (error) {
      const typed = toLmcotError(error, api.provider, this.options.secrets);
      this.record(
        { event: "not-submitted", submission, reason: typed.message, at: Date.now() },
        "a re-run looks for this submission at the provider first",
      );
      for (const c of live) this.fail(c, typed);
      return;
    }
    this.record(
      {
        event: "submitted",
        submission,
        batchId: created.id,
        ...(created.inputFileId ? { inputFileId: created.inputFileId } : {}),
        at: Date.now(),
      },
      `batch ${created.id} is waited for all the same, and a re-run finds it at the provider by its submission`,
    );
    Object.assign(job, { state: "running", batchId: created.id });
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
      let status: BatchStatus;
      const maxFailed = this.options.maxFailedPolls ?? 10;
      let failedPolls = 0;
      for (let first = true; ; first = false) {
        if (!first) await sleep(this.options.pollIntervalMs ?? 30_000, signal);
        try {
          status = await callWithPolicy((s) => api.retrieve(id, s), this.options.policy, label);
          failedPolls = 0;
        } catch (error) {
          if (isFatalError(error) || AbortError.isInstance(error)) throw error;
          if (++failedPolls >= maxFailed)
            throw withMessage(
              error,
              `${id}: gave up after ${failedPolls} failed looks at its status in a row (the batch may still run at the provider; a re-run attaches to it again), the last: ${errorMessage(error)}`,
            );
          this.emit({
            type: "notice",
            message: `${id}: could not read its status (${errorMessage(error)}); still waiting (${failedPolls} of ${maxFailed} failed looks in a row)`,
          });
          continue;
        }
        this.emit({ type: "progress", model: job.model, ...batchTiming(status, job.submittedAt), ...status });
        if (status.state === "ended") break;
      }
      this.record(
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
      const outcomes = status.error
        ? []
        : await callWithPolicy(
            (s) => api.results(id, s),
            this.transferPolicy(job.customIds.length * RESULT_BYTES),
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
        const outcome: BatchOutcome = byId.get(call.customId) ?? {
          customId: call.customId,
          ok: false,
          kind: "error",
          ...(status.error ? { status: 400 } : {}),
          message: status.error ? `the batch failed: ${status.error}` : "missing from the batch's results",
        };
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

/** The typed error for a request that did not succeed in a batch. */
function errorOf(
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
