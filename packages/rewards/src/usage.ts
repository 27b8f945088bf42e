import { addUsage, emptyUsage, type GenerateResult, type Usage } from "@lmcot/core";

/** Which model a call went to. */
export type CallRole = "judge" | "large";

/** Usage and cost of the calls one item (or a whole batch) needed. */
export interface RewardUsage {
  calls: Record<CallRole, number>;
  /** Calls answered from a cache (no provider call, no cost). */
  cachedCalls: number;
  tokens: Record<CallRole, Usage>;
  costUsd: number;
}

export function emptyRewardUsage(): RewardUsage {
  return {
    calls: { judge: 0, large: 0 },
    cachedCalls: 0,
    tokens: { judge: emptyUsage(), large: emptyUsage() },
    costUsd: 0,
  };
}

/** Adds one call's result to `usage` in place. */
export function recordCall(usage: RewardUsage, role: CallRole, result: GenerateResult): void {
  usage.calls[role]++;
  if (result.cached) usage.cachedCalls++;
  usage.tokens[role] = addUsage(usage.tokens[role], result.usage);
  usage.costUsd += result.cached ? 0 : (result.costUsd ?? 0);
}

/** Adds `b` into `a` in place. */
export function mergeUsage(a: RewardUsage, b: RewardUsage): RewardUsage {
  for (const role of ["judge", "large"] as const) {
    a.calls[role] += b.calls[role];
    a.tokens[role] = addUsage(a.tokens[role], b.tokens[role]);
  }
  a.cachedCalls += b.cachedCalls;
  a.costUsd += b.costUsd;
  return a;
}
