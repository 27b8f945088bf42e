import {
  AbortError,
  type ContextOptions,
  type Example,
  isFatalError,
  type LanguageModel,
  Limiter,
  runBatch,
} from "@lmcot/core";
import {
  aspectRewards,
  type CallFailure,
  callFailure,
  failureScore,
  type JudgeFailure,
  worstFailure,
} from "./aspect-reward";
import type { AspectName } from "./aspects";
import {
  chosenAspects,
  combineRewards,
  minMaxNormalize,
  type RewardConfig,
  type RewardPresetName,
  RunningNormalizer,
  rewardConfig,
  sumAspects,
} from "./combine";
import { pacer } from "./pace";
import { goldAnswers, scoreTask, taskReward } from "./task-reward";
import { emptyRewardUsage, mergeUsage, type RewardUsage } from "./usage";

/** One rationale to reward, with the example it was written for (gold answer included). */
export interface RewardItem {
  example: Example;
  rationale: string;
  /** The large LM's answer when already known (e.g. from a run): the task reward then makes no call. */
  answer?: string;
}

/** The reward of one item and every part of it. */
export interface ItemReward {
  /** The combined reward R before batch normalisation. */
  reward: number;
  /** R after the config's normalisation (only from `scoreBatch`, when it normalises). */
  normalized?: number;
  taskReward?: number;
  answer?: string;
  em?: number;
  f1?: number;
  /** R_aspect, the weighted sum of aspect scores (NaN when every judge reply failed and was excluded). */
  aspectReward?: number;
  aspects: Partial<Record<AspectName, number>>;
  /** Unreadable judge replies, scored by `onJudgeFailure`. */
  failures: JudgeFailure[];
  /** Calls that failed after their retries, scored by `onCallFailure` (never under `error`). */
  callFailures: CallFailure[];
  usage: RewardUsage;
}

/** One item of a batch: its reward, or why it has none. */
export type ScoreOutcome = { ok: true; reward: ItemReward } | { ok: false; error: unknown };

export interface RewardScorerOptions {
  /** The judge LM for aspect rewards; required when the config scores any aspect. */
  judge?: LanguageModel;
  /** The frozen large LM for the task reward; required when taskWeight ≠ 0 and no answer is given. */
  large?: LanguageModel;
  /** A preset name or a full config (default: `paper`). */
  config?: RewardConfig | RewardPresetName;
  /** Model calls in flight across every item and request (default 8). */
  concurrency?: number;
  context?: ContextOptions;
  judgeTemperature?: number;
}

/** The totals a scorer has accumulated: items, failures, usage and cost. */
export interface ScorerTotals {
  /** Items rewarded. */
  items: number;
  /** Items that failed (no reward). */
  failedItems: number;
  /** Unreadable judge replies. */
  judgeFailures: number;
  /** Failed calls that were scored by `onCallFailure`. */
  callFailures: number;
  usage: RewardUsage;
}

type TaskPart = {
  reward: number;
  answer?: string;
  em?: number;
  f1?: number;
  usage: RewardUsage;
  failure?: CallFailure;
};

/**
 * Computes the paper's reward (task reward + aspect rewards, combined) for rationales, sharing one
 * concurrency limit over all model calls and keeping usage / cost totals.
 */
export class RewardScorer {
  readonly config: RewardConfig;
  readonly totals: ScorerTotals = {
    items: 0,
    failedItems: 0,
    judgeFailures: 0,
    callFailures: 0,
    usage: emptyRewardUsage(),
  };
  private readonly limiter: Limiter;
  private readonly pace = pacer();
  private readonly running = new RunningNormalizer();
  private readonly aspects: AspectName[];

  constructor(private readonly options: RewardScorerOptions = {}) {
    this.config =
      typeof options.config === "object" ? structuredClone(options.config) : rewardConfig(options.config);
    this.limiter = new Limiter(options.concurrency ?? 8);
    this.aspects = chosenAspects(this.config);
    if (this.aspects.length > 0 && !options.judge)
      throw new Error("the reward config scores rationale aspects but no judge model was given");
  }

  /** Whether the task reward needs the large LM for items without a known answer. */
  get needsLarge(): boolean {
    return this.config.taskWeight !== 0;
  }

  /**
   * The reward of one item. Throws (after every call of the item has ended) when a call failed under
   * the `error` policy, on a fatal error (authentication, missing model, budget) or an abort.
   */
  async score(item: RewardItem, signal?: AbortSignal): Promise<ItemReward> {
    await this.pace();
    const usage = emptyRewardUsage();
    const out: ItemReward = { reward: 0, aspects: {}, failures: [], callFailures: [], usage };
    const parts = await Promise.allSettled([this.judge(item, signal), this.task(item, signal)]);
    const worst = worstFailure(parts);
    if (worst) {
      this.totals.failedItems++;
      throw worst.reason;
    }
    const [judged, task] = parts.map((p) => (p as PromiseFulfilledResult<unknown>).value) as [
      Awaited<ReturnType<RewardScorer["judge"]>>,
      TaskPart | undefined,
    ];
    if (judged) {
      out.aspects = judged.scores;
      out.failures = judged.failures;
      out.callFailures.push(...judged.callFailures);
      out.aspectReward = sumAspects(judged.scores, this.config.aspects);
      mergeUsage(usage, judged.usage);
    }
    if (task) {
      out.taskReward = task.reward;
      if (task.answer !== undefined) Object.assign(out, { answer: task.answer, em: task.em, f1: task.f1 });
      if (task.failure) out.callFailures.push(task.failure);
      mergeUsage(usage, task.usage);
    }
    out.reward = combineRewards(out, this.config);
    this.totals.items++;
    this.totals.judgeFailures += out.failures.length;
    this.totals.callFailures += out.callFailures.length;
    mergeUsage(this.totals.usage, usage);
    return out;
  }

  private async judge(item: RewardItem, signal?: AbortSignal) {
    if (this.aspects.length === 0) return undefined;
    return aspectRewards(item, {
      judge: this.options.judge!,
      aspects: this.aspects,
      mode: this.config.judgeMode,
      onFailure: this.config.onJudgeFailure,
      onCallFailure: this.config.onCallFailure,
      limiter: this.limiter,
      ...(this.options.context ? { prompt: { context: this.options.context } } : {}),
      ...(this.options.judgeTemperature !== undefined ? { temperature: this.options.judgeTemperature } : {}),
      ...(signal ? { signal } : {}),
    });
  }

  private async task(item: RewardItem, signal?: AbortSignal): Promise<TaskPart | undefined> {
    if (!this.needsLarge) return undefined;
    if (item.answer !== undefined)
      return {
        answer: item.answer,
        ...scoreTask(item.answer, goldAnswers(item.example), this.config.taskMetric),
        usage: emptyRewardUsage(),
      };
    if (!this.options.large)
      throw new Error("the task reward needs the large LM (or the large LM's answer with each item)");
    try {
      return await taskReward(item.example, item.rationale, {
        large: this.options.large,
        metric: this.config.taskMetric,
        limiter: this.limiter,
        ...(this.options.context ? { prompt: { context: this.options.context } } : {}),
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      const reward = failureScore(this.config.onCallFailure, error);
      return { reward, usage: emptyRewardUsage(), failure: callFailure("large", error) };
    }
  }

  /**
   * Scores every item (outcomes in input order): a failed item is reported, not thrown, and the
   * others still finish. After a fatal error (authentication, missing model, budget) no item starts
   * and those in flight are stopped: they all fail with it. Throws only when `signal` aborts.
   */
  async scoreEach(
    items: readonly RewardItem[],
    options: { signal?: AbortSignal; concurrency?: number } = {},
  ): Promise<ScoreOutcome[]> {
    const controller = new AbortController();
    const stop = () => controller.abort();
    options.signal?.addEventListener("abort", stop, { once: true });
    let fatal: { error: unknown } | undefined;
    try {
      const outcomes = await runBatch(
        items,
        async (item): Promise<ScoreOutcome> => {
          try {
            if (controller.signal.aborted) throw new AbortError();
            return { ok: true, reward: await this.score(item, controller.signal) };
          } catch (error) {
            if (!fatal && isFatalError(error)) {
              fatal = { error };
              controller.abort();
            }
            return { ok: false, error: AbortError.isInstance(error) && fatal ? fatal.error : error };
          }
        },
        { concurrency: options.concurrency ?? Math.max(1, this.limiter.concurrency) },
      );
      if (options.signal?.aborted) throw new AbortError();
      return outcomes;
    } finally {
      options.signal?.removeEventListener("abort", stop);
    }
  }

  /** Applies the config's normalisation across one batch of rewards (setting `normalized`). */
  normalize(results: readonly ItemReward[]): number[] {
    const raw = results.map((r) => r.reward);
    const rewards =
      this.config.normalization === "running"
        ? this.running.normalize(raw)
        : this.config.normalization === "batch-minmax"
          ? minMaxNormalize(raw)
          : raw;
    if (this.config.normalization !== "none")
      results.forEach((r, i) => {
        r.normalized = rewards[i]!;
      });
    return rewards;
  }

  /**
   * Scores a batch (results in input order) and applies the config's normalisation across it; rejects
   * with the first item's error (a fatal one first) once every item has ended. `concurrency` bounds
   * items in flight; model calls are bounded by the scorer's own limit.
   */
  async scoreBatch(
    items: readonly RewardItem[],
    options: { signal?: AbortSignal; concurrency?: number } = {},
  ): Promise<{ items: ItemReward[]; rewards: number[]; usage: RewardUsage }> {
    const outcomes = await this.scoreEach(items, options);
    const failed = outcomes.filter((o) => !o.ok);
    if (failed.length) throw (failed.find((o) => isFatalError(o.error)) ?? failed[0]!).error;
    const results = outcomes.map((o) => (o as { reward: ItemReward }).reward);
    const usage = emptyRewardUsage();
    for (const r of results) mergeUsage(usage, r.usage);
    return { items: results, rewards: this.normalize(results), usage };
  }
}
