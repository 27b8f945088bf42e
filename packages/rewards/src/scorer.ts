import { type ContextOptions, type Example, type LanguageModel, runBatch } from "@lmcot/core";
import { aspectRewards, type JudgeFailure } from "./aspect-reward";
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
import { Limiter } from "./limiter";
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
  failures: JudgeFailure[];
  usage: RewardUsage;
}

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

/** The totals a scorer has accumulated: items, judge failures, usage and cost. */
export interface ScorerTotals {
  items: number;
  judgeFailures: number;
  usage: RewardUsage;
}

/**
 * Computes the paper's reward (task reward + aspect rewards, combined) for rationales, sharing one
 * concurrency limit over all model calls and keeping usage / cost totals.
 */
export class RewardScorer {
  readonly config: RewardConfig;
  readonly totals: ScorerTotals = { items: 0, judgeFailures: 0, usage: emptyRewardUsage() };
  private readonly limiter: Limiter;
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

  async score(item: RewardItem, signal?: AbortSignal): Promise<ItemReward> {
    const usage = emptyRewardUsage();
    const out: ItemReward = { reward: 0, aspects: {}, failures: [], usage };
    const task = this.needsLarge ? this.task(item, signal) : undefined;
    if (this.aspects.length > 0) {
      const judged = await aspectRewards(item, {
        judge: this.options.judge!,
        aspects: this.aspects,
        mode: this.config.judgeMode,
        onFailure: this.config.onJudgeFailure,
        limiter: this.limiter,
        ...(this.options.context ? { prompt: { context: this.options.context } } : {}),
        ...(this.options.judgeTemperature !== undefined
          ? { temperature: this.options.judgeTemperature }
          : {}),
        ...(signal ? { signal } : {}),
      });
      out.aspects = judged.scores;
      out.failures = judged.failures;
      out.aspectReward = sumAspects(judged.scores, this.config.aspects);
      mergeUsage(usage, judged.usage);
    }
    if (task) {
      const t = await task;
      Object.assign(out, { taskReward: t.reward, answer: t.answer, em: t.em, f1: t.f1 });
      mergeUsage(usage, t.usage);
    }
    out.reward = combineRewards(out, this.config);
    this.totals.items++;
    this.totals.judgeFailures += out.failures.length;
    mergeUsage(this.totals.usage, usage);
    return out;
  }

  private async task(item: RewardItem, signal?: AbortSignal) {
    if (item.answer !== undefined)
      return {
        answer: item.answer,
        ...scoreTask(item.answer, goldAnswers(item.example), this.config.taskMetric),
        usage: emptyRewardUsage(),
      };
    if (!this.options.large)
      throw new Error("the task reward needs the large LM (or the large LM's answer with each item)");
    return taskReward(item.example, item.rationale, {
      large: this.options.large,
      metric: this.config.taskMetric,
      limiter: this.limiter,
      ...(this.options.context ? { prompt: { context: this.options.context } } : {}),
      ...(signal ? { signal } : {}),
    });
  }

  /**
   * Scores a batch (results in input order) and applies the config's normalisation across it.
   * `concurrency` bounds items in flight; model calls are bounded by the scorer's own limit.
   */
  async scoreBatch(
    items: readonly RewardItem[],
    options: {
      signal?: AbortSignal;
      concurrency?: number;
      onResult?: (r: ItemReward, index: number) => void;
    } = {},
  ): Promise<{ items: ItemReward[]; rewards: number[]; usage: RewardUsage }> {
    const results = await runBatch(items, (item, signal) => this.score(item, signal), {
      concurrency: options.concurrency ?? Math.max(1, this.limiter.concurrency),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onResult
        ? { onResult: (r: ItemReward, _i: RewardItem, index: number) => options.onResult!(r, index) }
        : {}),
    });
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
    const usage = emptyRewardUsage();
    for (const r of results) mergeUsage(usage, r.usage);
    return { items: results, rewards, usage };
  }
}
