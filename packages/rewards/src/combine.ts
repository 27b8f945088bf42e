import type { JudgeFailurePolicy } from "./aspect-reward";
import { ASPECTS, type AspectName } from "./aspects";
import type { TaskMetric } from "./task-reward";

/** Batch normalisation of the combined reward. */
export type Normalization = "none" | "running" | "batch-minmax";

/**
 * How the reward is made: R = aspectWeight · Σ_a w_a·R_a + taskWeight · R_task, then normalised.
 * Every field is settable; `rewardPresets` holds named settings.
 */
export interface RewardConfig {
  /** Weight w_a of each chosen aspect (an aspect left out is not scored at all). */
  aspects: Partial<Record<AspectName, number>>;
  aspectWeight: number;
  taskWeight: number;
  taskMetric: TaskMetric;
  judgeMode: "per-aspect" | "one-call";
  /** What an unreadable judge reply scores. */
  onJudgeFailure: JudgeFailurePolicy;
  /** What a judge or large-LM call that failed after its retries scores; `error` fails the item. */
  onCallFailure: JudgeFailurePolicy;
  normalization: Normalization;
}

const allAspects = (weight: number) =>
  Object.fromEntries(ASPECTS.map((a) => [a, weight])) as Record<AspectName, number>;

/**
 * Named settings. `paper`: the sum of all eight aspect scores (0–8, the paper's figure shows 2.7)
 * plus the EM task reward, both weighted 1 (PAPER.md, "our default"). `task-only` and
 * `aspects-only` are the two halves, for the paper's comparison of reward signals.
 */
export const rewardPresets = {
  paper: {
    aspects: allAspects(1),
    aspectWeight: 1,
    taskWeight: 1,
    taskMetric: "em",
    judgeMode: "per-aspect",
    onJudgeFailure: "zero",
    onCallFailure: "error",
    normalization: "none",
  },
  "task-only": {
    aspects: {},
    aspectWeight: 0,
    taskWeight: 1,
    taskMetric: "em",
    judgeMode: "per-aspect",
    onJudgeFailure: "zero",
    onCallFailure: "error",
    normalization: "none",
  },
  "aspects-only": {
    aspects: allAspects(1),
    aspectWeight: 1,
    taskWeight: 0,
    taskMetric: "em",
    judgeMode: "per-aspect",
    onJudgeFailure: "zero",
    onCallFailure: "error",
    normalization: "none",
  },
} as const satisfies Record<string, RewardConfig>;

export type RewardPresetName = keyof typeof rewardPresets;

/** A preset with some fields replaced (a deep copy, safe to mutate). */
export function rewardConfig(
  preset: RewardPresetName = "paper",
  overrides: Partial<RewardConfig> = {},
): RewardConfig {
  const base = rewardPresets[preset] as RewardConfig;
  return structuredClone({ ...base, ...overrides });
}

/** Aspects the config scores: those with a non-zero weight, in the paper's order. */
export function chosenAspects(config: RewardConfig): AspectName[] {
  if (config.aspectWeight === 0) return [];
  return ASPECTS.filter((a) => (config.aspects[a] ?? 0) !== 0);
}

/**
 * R_aspect: the weighted sum of aspect scores. Excluded (NaN) aspects are imputed with the weighted
 * mean of the others, so an unreadable reply neither lowers nor raises the sum; NaN if all failed.
 */
export function sumAspects(
  scores: Partial<Record<AspectName, number>>,
  weights: RewardConfig["aspects"],
): number {
  let sum = 0;
  let weightOk = 0;
  let weightAll = 0;
  for (const [aspect, weight] of Object.entries(weights) as [AspectName, number][]) {
    const score = scores[aspect];
    if (score === undefined || weight === 0) continue;
    weightAll += weight;
    if (Number.isNaN(score)) continue;
    sum += weight * score;
    weightOk += weight;
  }
  if (weightAll === 0) return 0;
  if (weightOk === 0) return Number.NaN;
  return (sum / weightOk) * weightAll;
}

/** The combined reward; an excluded term (NaN, or missing) counts as 0 so the reward stays a number. */
export function combineRewards(
  parts: { aspectReward?: number; taskReward?: number },
  config: Pick<RewardConfig, "aspectWeight" | "taskWeight">,
): number {
  const term = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? 0 : x);
  return config.aspectWeight * term(parts.aspectReward) + config.taskWeight * term(parts.taskReward);
}

/** Running mean / standard deviation (Welford) over every reward seen, for z-scoring. */
export class RunningNormalizer {
  count = 0;
  mean = 0;
  private m2 = 0;

  constructor(private readonly epsilon = 1e-8) {}

  get std(): number {
    return this.count > 1 ? Math.sqrt(this.m2 / (this.count - 1)) : 0;
  }

  update(values: readonly number[]): void {
    for (const x of values) {
      this.count++;
      const delta = x - this.mean;
      this.mean += delta / this.count;
      this.m2 += delta * (x - this.mean);
    }
  }

  /** Updates with the batch, then z-scores it; with fewer than two values seen it only centres. */
  normalize(values: readonly number[]): number[] {
    this.update(values);
    const std = this.std;
    return values.map((x) => (std > 0 ? (x - this.mean) / (std + this.epsilon) : x - this.mean));
  }
}

/** Min-max over one batch onto [0, 1]; a batch of equal rewards maps to 0.5 (no preference). */
export function minMaxNormalize(values: readonly number[]): number[] {
  const min = Math.min(...values);
  const max = Math.max(...values);
  return values.map((x) => (max > min ? (x - min) / (max - min) : 0.5));
}
