import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  type ContextOptions,
  type Example,
  type FailureRecord,
  type LanguageModel,
  parseTeacherOutput,
  type RunProgress,
  runKey,
  runResumable,
  teacherPrompt,
} from "@lmcot/core";
import { lockRunDir, openFailureLog, openRunStore, type RunLock } from "@lmcot/datasets";
import { scoreAnswer } from "@lmcot/metrics";

/** Which teacher predictions count as correct (the paper keeps rationales of correct answers only). */
export interface DistillFilter {
  metric: "em" | "f1";
  /** Keep when the metric is ≥ this (EM: 1). */
  threshold: number;
  /** Rationales longer than this many words are dropped (runaway generations). */
  maxRationaleWords: number;
}

export interface DistillOptions {
  teacher: LanguageModel;
  examples: readonly Example[];
  outDir: string;
  filter?: Partial<DistillFilter>;
  /** Teacher samples per question; > 1 samples at `temperature` and keeps every correct one. */
  samples?: number;
  temperature?: number;
  maxTokens?: number;
  seed?: number;
  context?: ContextOptions;
  concurrency?: number;
  budgetUsd?: number;
  signal?: AbortSignal;
  onProgress?: (progress: RunProgress) => void;
  /** Who holds the output directory's lock, as another process is told (default `distill`). */
  command?: string;
  /** Called with the directory's lock once taken (`tookOver` says whose stale lock it replaced). */
  onLock?: (lock: RunLock) => void;
  /** Strings to redact from failure messages (the API keys in use). */
  secrets?: readonly string[];
  /** Runs each teacher call inside it: a provider batch session's `track` (`lmcot distill --batch`). */
  scope?: <T>(run: () => Promise<T>) => Promise<T>;
}

/** One teacher call as the run file keeps it. */
export interface TeacherRecord {
  key: string;
  exampleId: string;
  sample: number;
  dataset: string;
  type?: string;
  output: string;
  rationale?: string;
  prediction?: string;
  em: number;
  f1: number;
  kept: boolean;
  reason?: string;
  costUsd: number;
  cached: boolean;
}

/** A distilled training example: the question and context the small LM will see, and the teacher's rationale. */
export interface KeptRationale {
  id: string;
  sample: number;
  example: Example;
  rationale: string;
  prediction: string;
  teacher: string;
  promptVersion: string;
}

export interface DistillStats {
  teacher: string;
  questions: number;
  calls: number;
  kept: number;
  dropped: number;
  keptRatio: number;
  costUsd: number;
  cacheHits: number;
  filter: DistillFilter;
  rationaleWords: { min: number; p25: number; median: number; p75: number; max: number; mean: number } | null;
  byType: Record<string, { calls: number; kept: number }>;
  dropReasons: Record<string, number>;
  stoppedBy?: "budget" | "abort" | "fatal";
  /** Teacher calls that failed in this session (each is a line of errors.jsonl). */
  failedCalls: number;
}

/** What `distill` returns: the stats (as stats.json holds them) and this session's failures. */
export interface DistillResult extends DistillStats {
  failures: FailureRecord[];
  /** The failure a re-run cannot fix that stopped the run, when `stoppedBy` is `fatal`. */
  fatal?: { error: unknown; failure: FailureRecord };
}

const words = (text: string) => text.split(/\s+/).filter(Boolean).length;

/** Why a parsed teacher reply is dropped, or undefined to keep it. */
function judge(rationale: string, em: number, f1: number, filter: DistillFilter): string | undefined {
  if (words(rationale) > filter.maxRationaleWords)
    return `rationale too long (${words(rationale)} words > ${filter.maxRationaleWords})`;
  const score = filter.metric === "em" ? em : f1;
  if (score < filter.threshold)
    return `wrong prediction (${filter.metric.toUpperCase()} ${score.toFixed(2)} < ${filter.threshold})`;
  return undefined;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/**
 * Step 1 of the paper: the teacher (the frozen large LM) writes `Reasoning: … Prediction: …` for each
 * question; rationales whose prediction is wrong are dropped. Runs resumably through `runResumable`
 * (the benchmark's machinery) into `<outDir>/teacher.jsonl`, then rewrites `kept.jsonl`,
 * `dropped.jsonl` and `stats.json` from that file, so a resumed run never duplicates anything.
 * Failed teacher calls go to `<outDir>/errors.jsonl` as they fail (the file keeps those that have
 * not succeeded since); a failure a re-run cannot fix stops the run. One process per directory.
 */
export async function distill(options: DistillOptions): Promise<DistillResult> {
  const lock = lockRunDir(options.outDir, options.command ?? "distill");
  options.onLock?.(lock);
  try {
    return await distillLocked(options);
  } finally {
    lock.release();
  }
}

async function distillLocked(options: DistillOptions): Promise<DistillResult> {
  const filter: DistillFilter = { metric: "em", threshold: 1, maxRationaleWords: 400, ...options.filter };
  const samples = Math.max(1, options.samples ?? 1);
  const temperature = options.temperature ?? (samples > 1 ? 0.7 : 0);
  mkdirSync(options.outDir, { recursive: true });
  const store = await openRunStore<TeacherRecord>(join(options.outDir, "teacher.jsonl"));
  const byId = new Map(options.examples.map((e) => [e.id, e]));
  const items = options.examples.flatMap((example) =>
    Array.from({ length: samples }, (_, sample) => ({ example, sample })),
  );
  const keyOf = ({ example, sample }: { example: Example; sample: number }) =>
    runKey({
      method: "teacher",
      dataset: example.dataset,
      exampleId: `${example.id}#${sample}`,
      models: { teacher: options.teacher.id },
      promptVersion: teacherPrompt.version,
      seed: (options.seed ?? 0) + sample,
    });
  const keys = new Set(items.map(keyOf));
  const errorLog = await openFailureLog(join(options.outDir, "errors.jsonl"), {
    keep: (f) => keys.has(f.key) && !store.has(f.key),
  });
  let spent = 0;
  let finished = 0;
  let result: Awaited<ReturnType<typeof runResumable>>;
  try {
    result = await runResumable({
      items,
      keyOf,
      store,
      cell: "teacher",
      ...(options.secrets ? { secrets: options.secrets } : {}),
      ...(options.scope ? { scope: options.scope } : {}),
      onFailure: (failure) => errorLog.append(failure),
      concurrency: options.concurrency ?? 4,
      signal: options.signal,
      budgetUsd: options.budgetUsd,
      estimateCostUsd: () => (finished ? spent / finished : 0),
      onProgress: options.onProgress,
      run: async ({ example, sample }, { key, signal }) => {
        const chat = teacherPrompt.render(example, { context: options.context });
        const reply = await options.teacher.generate({
          ...chat,
          maxTokens: options.maxTokens ?? 512,
          temperature,
          seed: (options.seed ?? 0) + sample,
          promptVersion: teacherPrompt.version,
          signal,
        });
        spent += reply.costUsd ?? 0;
        finished++;
        const base = {
          key,
          exampleId: example.id,
          sample,
          dataset: example.dataset,
          ...(example.type ? { type: example.type } : {}),
          output: reply.text,
          costUsd: reply.costUsd ?? 0,
          cached: reply.cached === true,
        };
        const parsed = parseTeacherOutput(reply.text);
        if ("error" in parsed)
          return { ...base, em: 0, f1: 0, kept: false, reason: `malformed reply: ${parsed.error}` };
        const score = scoreAnswer(
          parsed.prediction,
          example.answerAliases?.length ? example.answerAliases : [example.answer],
        );
        const reason = judge(parsed.rationale, score.em, score.f1, filter);
        return {
          ...base,
          rationale: parsed.rationale,
          prediction: parsed.prediction,
          em: score.em,
          f1: score.f1,
          kept: !reason,
          ...(reason ? { reason } : {}),
        };
      },
    });
  } finally {
    await store.close();
    await errorLog.close();
  }
  const stats = await writeOutputs(options, filter, result, byId);
  return { ...stats, failures: result.errors, ...(result.fatal ? { fatal: result.fatal } : {}) };
}

async function writeOutputs(
  options: DistillOptions,
  filter: DistillFilter,
  result: Awaited<ReturnType<typeof runResumable>>,
  byId: Map<string, Example>,
): Promise<DistillStats> {
  const store = await openRunStore<TeacherRecord>(join(options.outDir, "teacher.jsonl"));
  const kept: string[] = [];
  const dropped: string[] = [];
  const lengths: number[] = [];
  const byType: DistillStats["byType"] = {};
  const dropReasons: Record<string, number> = {};
  let cost = 0;
  let cacheHits = 0;
  let calls = 0;
  for await (const r of store.records()) {
    const example = byId.get(r.exampleId);
    if (!example) continue; // a record of a question no longer in the input
    calls++;
    cost += r.costUsd;
    if (r.cached) cacheHits++;
    const type = r.type ?? "unknown";
    byType[type] ??= { calls: 0, kept: 0 };
    byType[type].calls++;
    if (r.kept) {
      byType[type].kept++;
      lengths.push(words(r.rationale!));
      const row: KeptRationale = {
        id: r.exampleId,
        sample: r.sample,
        example,
        rationale: r.rationale!,
        prediction: r.prediction!,
        teacher: options.teacher.id,
        promptVersion: teacherPrompt.version,
      };
      kept.push(JSON.stringify(row));
    } else {
      const reason = r.reason ?? "dropped";
      const kind = reason.replace(/ \(.*$/, "").replace(/: .*$/, "");
      dropReasons[kind] = (dropReasons[kind] ?? 0) + 1;
      dropped.push(
        JSON.stringify({
          id: r.exampleId,
          sample: r.sample,
          reason,
          output: r.output,
          prediction: r.prediction,
          gold: example.answer,
        }),
      );
    }
  }
  await store.close();
  writeFileSync(join(options.outDir, "kept.jsonl"), kept.map((l) => `${l}\n`).join(""));
  writeFileSync(join(options.outDir, "dropped.jsonl"), dropped.map((l) => `${l}\n`).join(""));
  const sorted = [...lengths].sort((a, b) => a - b);
  const stats: DistillStats = {
    teacher: options.teacher.id,
    questions: options.examples.length,
    calls,
    kept: kept.length,
    dropped: dropped.length,
    keptRatio: calls ? kept.length / calls : 0,
    costUsd: cost,
    cacheHits,
    filter,
    rationaleWords: sorted.length
      ? {
          min: sorted[0]!,
          p25: quantile(sorted, 0.25),
          median: quantile(sorted, 0.5),
          p75: quantile(sorted, 0.75),
          max: sorted.at(-1)!,
          mean: sorted.reduce((a, b) => a + b, 0) / sorted.length,
        }
      : null,
    byType,
    dropReasons,
    failedCalls: result.progress.failed,
    ...(result.stopped ? { stoppedBy: result.stopped } : {}),
  };
  writeFileSync(join(options.outDir, "stats.json"), `${JSON.stringify(stats, null, 2)}\n`);
  return stats;
}
