import type { LanguageModel } from "@lmcot/core";
import { ASPECTS, type AspectName } from "./aspects";
import {
  allAspectsPrompt,
  aspectPrompt,
  type JudgeInput,
  type JudgePrompt,
  type JudgePromptOptions,
} from "./judge-prompts";
import type { Limiter } from "./limiter";
import { type ParsedScore, parseAllAspects, parseAspectScore } from "./parse";
import { emptyRewardUsage, type RewardUsage, recordCall } from "./usage";

/**
 * What a reply that cannot be read scores: 0, excluded (NaN, left out of the aspect sum, see
 * `sumAspects`), or a fixed default in [0, 1].
 */
export type JudgeFailurePolicy = "zero" | "exclude" | { default: number };

/** A judge reply that could not be read, kept for inspection. */
export interface JudgeFailure {
  aspect: AspectName;
  error: string;
  reply: string;
}

export interface AspectRewardOptions {
  judge: LanguageModel;
  /** Aspects to score (default: all eight). */
  aspects?: readonly AspectName[];
  /** One judge call per aspect (default) or all aspects in one call. */
  mode?: "per-aspect" | "one-call";
  onFailure?: JudgeFailurePolicy;
  prompt?: JudgePromptOptions;
  /** Judge sampling temperature (default 0) and reply length cap. */
  temperature?: number;
  maxTokens?: number;
  /** Shared limit on model calls in flight; without it the aspect calls of one item run at once. */
  limiter?: Limiter;
  signal?: AbortSignal;
}

export interface AspectRewardResult {
  /** Per-aspect score in [0, 1]; NaN when the reply failed and the policy is `exclude`. */
  scores: Partial<Record<AspectName, number>>;
  failures: JudgeFailure[];
  usage: RewardUsage;
}

function settle(parsed: ParsedScore, policy: JudgeFailurePolicy): number {
  if ("score" in parsed) return parsed.score;
  if (policy === "zero") return 0;
  if (policy === "exclude") return Number.NaN;
  return policy.default;
}

/** Scores a rationale on the chosen aspects with a judge LM. A malformed reply never throws. */
export async function aspectRewards(
  input: JudgeInput,
  options: AspectRewardOptions,
): Promise<AspectRewardResult> {
  const aspects = options.aspects ?? ASPECTS;
  const policy = options.onFailure ?? "zero";
  const usage = emptyRewardUsage();
  const result: AspectRewardResult = { scores: {}, failures: [], usage };
  if (aspects.length === 0) return result;
  const ask = async (p: JudgePrompt, maxTokens: number): Promise<string> => {
    const call = () =>
      options.judge.generate({
        system: p.system,
        prompt: p.prompt,
        maxTokens: options.maxTokens ?? maxTokens,
        temperature: options.temperature ?? 0,
        promptVersion: p.version,
        ...(options.signal ? { signal: options.signal } : {}),
      });
    const reply = options.limiter ? await options.limiter.run(call, options.signal) : await call();
    recordCall(usage, "judge", reply);
    return reply.text;
  };
  const keep = (aspect: AspectName, parsed: ParsedScore, reply: string) => {
    result.scores[aspect] = settle(parsed, policy);
    if ("error" in parsed) result.failures.push({ aspect, error: parsed.error, reply });
  };
  if (options.mode === "one-call") {
    const reply = await ask(allAspectsPrompt(aspects, input, options.prompt), 16 * aspects.length);
    const parsed = parseAllAspects(reply, aspects);
    for (const aspect of aspects) keep(aspect, parsed[aspect], reply);
    return result;
  }
  const replies = await Promise.all(aspects.map((a) => ask(aspectPrompt(a, input, options.prompt), 16)));
  aspects.forEach((aspect, i) => {
    keep(aspect, parseAspectScore(replies[i]!), replies[i]!);
  });
  return result;
}
