import { createReadStream, existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import {
  AbortError,
  type GenerateRequest,
  type GenerateResult,
  IdIndex,
  isFatalError,
  type LanguageModel,
  Limiter,
  LmcotError,
  toLmcotError,
} from "@lmcot/core";
import { cacheKey } from "../middleware/cache";
import { withGenerate } from "../middleware/types";
import { batchCostUsd, estimateBatchCostUsd } from "../prices";
import { type BatchJob, Journal, JournalFold, journalPaths } from "./journal";
import { type BatchFile, downloadResults, readLine, SpillFile, scanResults } from "./round-files";
import type { BatchSessionOptions } from "./session";
import {
  budgetRefusal,
  errorOf,
  findOrphan,
  missingOutcome,
  recordOrTell,
  type StepContext,
  submitJob,
  waitForEnd,
} from "./steps";
import {
  BATCH_LIMITS,
  type Batchable,
  type BatchLimits,
  type BatchOutcome,
  type BatchStatus,
  type BatchWrapper,
} from "./types";

const DEFERRED = "batch_deferred";

/** True for the error a `BatchRounds` model throws for a call whose batch has not answered yet. */
export const isBatchDeferred = (error: unknown): boolean =>
  LmcotError.isInstance(error) && error.code === DEFERRED;

/**
 * The most one batch of the rounds takes unless `limits` say otherwise: more batches at the same
 * price, so a submission never holds hundreds of MB. Anthropic takes its requests inline in one
 * JSON body, read back into memory to be sent; the OpenAI client's fetch holds about twice the
 * file it uploads (measured on Node 20: a 150 MB upload, 300 MB of buffers). At 32 MB / 16 MB the
 * 20k × 18 grid through both providers peaked at 516 MB.
 */
const ROUND_BYTES = { openai: 16 * 1024 * 1024, anthropic: 8 * 1024 * 1024 };

/** A spilled chunk of this round's calls, or a batch of the journal; its index is its slot. */
interface Source {
  job?: BatchJob & { requests: number };
  spill?: SpillFile;
  /** Submitted by an earlier process. */
  earlier: boolean;
  /** Its results were downloaded by this process (failed outcomes count; earlier ones are resubmitted). */
  collectedHere: boolean;
  results?: BatchFile;
  /** How its batch ended, once it has. */
  status?: BatchStatus;
  /** Why its calls cannot be answered in this session (submission refused or failed, waiting gave up). */
  error?: unknown;
  indexing?: Promise<void>;
}

interface ModelEntry {
  batchable: Batchable;
  online: LanguageModel;
  /** This round's open chunk. */
  spill?: number;
  followUps: number;
  followUpReason?: string;
}

/**
 * Provider batches for a run that re-drives its items in rounds, in memory bounded by the items in
 * flight. A wrapped model answers a call from the batches' results on disk; a call with no result
 * yet is appended to a submission file in the run directory and the call throws a deferral
 * (`isBatchDeferred`): the item is dropped, to be run again in the next round. `collect()` submits
 * what the round spilled (split at the providers' limits, the budget checked before each, the
 * journal synced before anything is sent), waits for those batches and for earlier runs' batches the
 * round's calls wait on, and streams their results to `batches/<id>.jsonl`, indexed by custom id.
 * Multi-step methods and self-consistency are more rounds; nothing waits in memory.
 */
export class BatchRounds implements BatchWrapper {
  private readonly paths: ReturnType<typeof journalPaths>;
  private readonly spool: string;
  private readonly journal: Journal;
  private readonly ctx: StepContext;
  private readonly index = new IdIndex();
  private readonly sources: Source[] = [];
  private readonly models = new Map<string, ModelEntry>();
  /** Failed outcomes per custom id in this session's batches (a request's rounds). */
  private readonly failures = new Map<string, number>();
  /** Earlier runs' batches a call of this round waits on. */
  private readonly wanted = new Set<number>();
  private opened?: Promise<void>;
  private readonly downloads = new Limiter(4);
  private fatal?: unknown;
  private reservedUsd = 0;
  spentUsd = 0;
  readonly stats = { submitted: 0, attached: 0, requests: 0, fromFile: 0, followUps: 0, online: 0 };

  constructor(readonly options: BatchSessionOptions) {
    this.paths = journalPaths(options.dir, options.name);
    this.spool = join(this.paths.results, "spool");
    mkdirSync(this.paths.results, { recursive: true });
    this.journal = new Journal(this.paths.journal);
    const emit = (e: Parameters<StepContext["emit"]>[0]) => options.onEvent?.(e);
    this.ctx = { ...options, journal: this.journal, emit, record: recordOrTell(this.journal, emit) };
  }

  wrap(model: LanguageModel, batchable: Batchable, online: LanguageModel = model): LanguageModel {
    this.models.set(model.id, { batchable, online, followUps: 0 });
    return withGenerate(model, (request) => this.generate(model.id, request));
  }

  /** Batches still running at the provider (for the message on Ctrl-C). */
  runningBatches(): { batchId: string; model: string; requests: number }[] {
    return this.sources.flatMap(({ job }) =>
      job?.batchId && (job.state === "running" || job.state === "ended")
        ? [{ batchId: job.batchId, model: job.model, requests: job.requests }]
        : [],
    );
  }

  /** Reads the journal (streamed); batches a killed process created but never recorded are looked for. */
  open(): Promise<void> {
    this.opened ??= this.load();
    return this.opened;
  }

  private async load(): Promise<void> {
    rmSync(this.spool, { recursive: true, force: true });
    mkdirSync(this.spool, { recursive: true });
    const journal = new JournalFold(false);
    try {
      if (existsSync(this.paths.journal))
        for await (const line of createInterface({
          input: createReadStream(this.paths.journal),
          crlfDelay: Infinity,
        }))
          this.fold(line, journal);
    } catch (error) {
      throw new LmcotError(
        "journal_unreadable",
        `could not read ${this.paths.journal} (${error instanceof Error ? error.message : String(error)}): without it, batches could be submitted twice, so nothing is`,
      );
    }
    const known = this.batchIds();
    for (const source of this.sources) {
      const job = source.job!;
      if (job.state === "submitting")
        await findOrphan(this.ctx, this.models.get(job.model)?.batchable.api, job, known, job.requests);
      if (job.state === "collected" && job.file)
        source.results = { path: join(this.paths.dir, job.file), indexed: false };
    }
  }

  /** The provider batch ids of every source so far (an orphan found at the provider must be none of them). */
  private batchIds(): Set<string> {
    return new Set(this.sources.flatMap((s) => (s.job?.batchId ? [s.job.batchId] : [])));
  }

  /** A submission of an earlier run becomes a source, its custom ids indexed to it. */
  private fold(line: string, journal: JournalFold): void {
    const folded = journal.add(line);
    if (folded?.event.event !== "submitting") return;
    const { event, job } = folded;
    const slot = this.sources.length;
    this.sources.push({
      job: Object.assign(job, { requests: event.customIds.length }),
      earlier: true,
      collectedHere: false,
    });
    for (const id of event.customIds) this.index.set(id, slot);
  }

  private async generate(modelId: string, request: GenerateRequest): Promise<GenerateResult> {
    await this.open();
    if (this.options.signal?.aborted) throw new AbortError();
    const model = this.models.get(modelId)!;
    const customId = cacheKey(modelId, request);
    const found = await this.lookup(customId);
    if (found === "waiting") throw deferred();
    if (found === undefined) return this.spill(model, modelId, customId, request);
    if ("error" in found) throw found.error;
    const { outcome, source } = found;
    const { body, warnings } = model.batchable.body(request);
    if (outcome.ok) {
      const result = model.batchable.parse(outcome.response, body, warnings);
      const cost = batchCostUsd(modelId, result.usage, this.options.prices);
      this.spentUsd += cost ?? 0;
      if (!source.collectedHere) this.stats.fromFile++;
      return cost === undefined ? result : { ...result, costUsd: cost };
    }
    const error = errorOf(outcome, model.batchable.api.provider, source.job?.batchId ?? "");
    // A batch cancelled while no run waited on it (`lmcot batch cancel`): this run sends it again.
    const resend = source.earlier && outcome.kind === "cancelled";
    if ((!error.retryable && !resend) || this.fatal !== undefined) throw this.fatal ?? error;
    if (this.options.fallback === "online") {
      this.stats.online++;
      return model.online.generate(request);
    }
    if ((this.failures.get(customId) ?? 0) >= (this.options.maxRounds ?? 3)) throw error;
    this.stats.followUps++;
    model.followUps++;
    model.followUpReason = error.message;
    return this.spill(model, modelId, customId, request);
  }

  /**
   * What the index knows of a custom id: nothing (submit it), `waiting` (spilled this round, or in a
   * batch still running), an error for its call, or its outcome.
   */
  private async lookup(
    customId: string,
  ): Promise<undefined | "waiting" | { error: unknown } | { outcome: BatchOutcome; source: Source }> {
    const at = this.index.get(customId);
    if (!at) return undefined;
    const source = this.sources[at.slot]!;
    if (at.offset >= 0 && source.results) {
      const outcome = readLine(source.results, at.offset, at.length, customId);
      // Collected by an earlier run and failed: sent again, as a fresh call.
      if (outcome && (outcome.ok || source.collectedHere)) return { outcome, source };
      return undefined;
    }
    if (source.error !== undefined) return { error: source.error };
    if (source.spill) return "waiting";
    const job = source.job!;
    if (job.state === "running" || job.state === "ended") {
      if (source.earlier) this.wanted.add(at.slot);
      return "waiting";
    }
    if (job.state !== "collected" || !source.results) return undefined;
    if (!source.results.indexed) {
      source.indexing ??= this.indexEarlier(at.slot, source);
      await source.indexing;
      return this.lookup(customId);
    }
    if (source.collectedHere && source.status)
      return { outcome: missingOutcome(customId, source.status), source };
    return undefined;
  }

  /** An earlier run's results file, indexed on first use; gone, its batch is downloaded again. */
  private async indexEarlier(slot: number, source: Source): Promise<void> {
    const results = source.results!;
    try {
      await scanResults(results.path, ({ id, offset, length }) => {
        if (this.index.get(id)?.slot === slot) this.index.set(id, slot, offset, length);
      });
    } catch (error) {
      this.ctx.emit({
        type: "notice",
        message: `could not read ${results.path} (${error instanceof Error ? error.message : String(error)}); its batch's results are downloaded again`,
      });
      source.results = undefined;
      source.job!.state = "ended";
      return;
    }
    results.indexed = true;
  }

  /** Appends the call to its model's open chunk (a new chunk past the limits) and defers it. */
  private spill(model: ModelEntry, modelId: string, customId: string, request: GenerateRequest): never {
    if (this.fatal !== undefined) throw this.fatal;
    // Another call of this round got here first (a lookup awaits): one request per custom id.
    const at = this.index.get(customId);
    if (at && this.sources[at.slot]!.spill) throw deferred();
    const { body } = model.batchable.body(request);
    const api = model.batchable.api;
    const line = api.line({ customId, body });
    const bytes = Buffer.byteLength(line) + 1;
    const limits = this.limitsFor(model.batchable);
    let chunk = model.spill === undefined ? undefined : this.sources[model.spill]!.spill!;
    if (
      !chunk ||
      chunk.count >= limits.maxRequests ||
      (chunk.count > 0 && chunk.bytes + bytes > limits.maxBytes)
    ) {
      model.spill = this.sources.length;
      chunk = new SpillFile(join(this.spool, `${model.spill}.jsonl`), modelId);
      this.sources.push({ spill: chunk, earlier: false, collectedHere: false });
    }
    chunk.add(customId, line, bytes, estimateBatchCostUsd(modelId, body, this.options.prices) ?? 0);
    this.index.set(customId, model.spill!);
    throw deferred();
  }

  private limitsFor(batchable: Batchable): BatchLimits {
    const provider = batchable.api.provider;
    return { ...BATCH_LIMITS[provider], maxBytes: ROUND_BYTES[provider], ...this.options.limits };
  }

  /**
   * Submits the round's spilled calls, waits for every batch the round's calls wait on, and saves and
   * indexes their results. Returns how many chunks and earlier batches it took up (0: nothing to do).
   */
  async collect(): Promise<number> {
    await this.open();
    const waits: Promise<void>[] = [];
    let handled = 0;
    for (const [modelId, model] of this.models) {
      if (model.followUps)
        this.ctx.emit({
          type: "follow-up",
          model: modelId,
          requests: model.followUps,
          reason: model.followUpReason ?? "",
        });
      model.followUps = 0;
      model.spill = undefined;
    }
    for (let slot = 0; slot < this.sources.length; slot++) {
      const source = this.sources[slot]!;
      if (source.spill && !source.spill.closed) {
        handled++;
        await this.submit(source);
        if (source.job?.state === "running") waits.push(this.collectOne(slot, source));
      } else if (this.wanted.has(slot)) {
        handled++;
        this.stats.attached++;
        const job = source.job!;
        this.ctx.emit({ type: "attached", batchId: job.batchId!, model: job.model, requests: job.requests });
        waits.push(this.collectOne(slot, source));
      }
    }
    this.wanted.clear();
    await Promise.all(waits);
    return handled;
  }

  private async submit(source: Source): Promise<void> {
    const spill = source.spill!;
    spill.close();
    const model = this.models.get(spill.model)!;
    const api = model.batchable.api;
    try {
      if (this.options.signal?.aborted) throw new AbortError();
      if (this.fatal !== undefined) throw this.fatal;
      const budget = this.options.budgetUsd;
      if (budget !== undefined && this.spentUsd + this.reservedUsd + spill.estimate > budget + 1e-12)
        throw budgetRefusal(
          budget,
          this.spentUsd,
          this.reservedUsd,
          spill.count,
          spill.model,
          spill.estimate,
        );
      const job = await submitJob(this.ctx, api, {
        model: spill.model,
        customIds: spill.ids,
        estimatedUsd: spill.estimate,
        bytes: spill.bytes,
        known: this.batchIds(),
        send: (submission, signal) =>
          api.submitFile(spill.path, {
            model: model.batchable.model,
            submission,
            ...(signal ? { signal } : {}),
          }),
      });
      source.job = { ...job, customIds: [], requests: spill.count };
      this.stats.submitted++;
      this.stats.requests += spill.count;
      this.reservedUsd += spill.estimate;
      this.ctx.emit({
        type: "submitted",
        batchId: job.batchId!,
        model: spill.model,
        requests: spill.count,
        estimatedUsd: spill.estimate,
      });
    } catch (error) {
      this.setError(source, error, api.provider);
    } finally {
      source.spill = undefined;
      spill.remove();
    }
  }

  private setError(source: Source, error: unknown, provider: string): void {
    const typed = AbortError.isInstance(error) ? error : toLmcotError(error, provider, this.options.secrets);
    if (isFatalError(typed)) this.fatal ??= typed;
    source.error = typed;
  }

  /** Waits for one batch, streams its results to disk (whole, then journalled) and indexes them. */
  private async collectOne(slot: number, source: Source): Promise<void> {
    const job = source.job!;
    const api = this.models.get(job.model)?.batchable.api;
    if (!api) return;
    try {
      const status = await waitForEnd(this.ctx, api, job);
      source.status = status;
      job.state = "ended";
      // A few at a time: each download holds its lines' ids until they are indexed.
      const saved = await this.downloads.run(() =>
        downloadResults(this.ctx, api, job, this.paths, status, this.options.policy),
      );
      this.reservedUsd -= job.estimatedUsd ?? 0;
      const recorded = this.ctx.record(
        {
          event: "collected",
          batchId: job.batchId!,
          file: saved.file,
          succeeded: saved.succeeded,
          failed: saved.lines.length - saved.succeeded,
          at: Date.now(),
        },
        "a re-run downloads the results again from the provider",
      );
      // Unrecorded (a full disk), the file is used all the same; a re-run downloads it again.
      if (!recorded)
        this.ctx.emit({ type: "notice", message: `batch ${job.batchId}: results used, not journalled` });
      job.state = "collected";
      source.results = { path: join(this.paths.dir, saved.file), indexed: true };
      source.collectedHere = true;
      for (const { id, offset, length, ok } of saved.lines) {
        if (this.index.get(id)?.slot !== slot) continue;
        this.index.set(id, slot, offset, length);
        if (!ok) this.failures.set(id, (this.failures.get(id) ?? 0) + 1);
      }
      this.ctx.emit({
        type: "ended",
        batchId: job.batchId!,
        model: job.model,
        status: status.status,
        succeeded: saved.succeeded,
        failed: job.requests - saved.succeeded,
      });
    } catch (error) {
      this.setError(source, error, api.provider);
    }
  }
}

const deferred = () =>
  new LmcotError(DEFERRED, "waiting for a provider batch (the item runs again next round)");
