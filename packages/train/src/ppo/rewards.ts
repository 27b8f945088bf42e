import type { Example } from "@lmcot/core";
import type { RewardScorer } from "@lmcot/rewards";

/** One sampled rationale, with the query it answers. */
export interface Rollout<D> {
  input: string;
  rationale: string;
  data: D;
}

/** Per-rollout scores, plus optional means to log with the step (e.g. the task reward alone). */
export type RewardResult = number[] | { rewards: number[]; logs?: Record<string, number> };

/** Any reward: the paper's combiner in practice, a synthetic rule in tests. */
export type RewardFunction<D> = (rollouts: Rollout<D>[], signal?: AbortSignal) => Promise<RewardResult>;

const average = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN);

/**
 * The paper's reward through `@lmcot/rewards`: task reward (the frozen large LM answers from the
 * rationale) plus aspect rewards from the judge, combined as the scorer's config says.
 */
export function scorerReward(scorer: RewardScorer): RewardFunction<Example> {
  return async (rollouts, signal) => {
    const { items, rewards } = await scorer.scoreBatch(
      rollouts.map((r) => ({ example: r.data, rationale: r.rationale })),
      signal ? { signal } : {},
    );
    const logs: Record<string, number> = {};
    const task = items.flatMap((i) => (i.taskReward === undefined ? [] : [i.taskReward]));
    const aspect = items.flatMap((i) =>
      i.aspectReward === undefined || Number.isNaN(i.aspectReward) ? [] : [i.aspectReward],
    );
    if (task.length) logs.taskReward = average(task);
    if (aspect.length) logs.aspectReward = average(aspect);
    return { rewards, logs };
  };
}
