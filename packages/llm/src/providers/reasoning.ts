import {
  EmptyReplyError,
  type GenerateResult,
  type ReasoningEffort,
  type ReasoningOptions,
} from "@lmcot/core";

/** Thinking tokens each effort level gets on top of the answer's own budget (`maxTokens`). */
export const REASONING_BUDGET: Readonly<Record<ReasoningEffort, number>> = {
  low: 2048,
  medium: 8192,
  high: 24_576,
};

/** OpenAI models that always reason (o-series, gpt-5 family): `max_completion_tokens`, no sampling settings. */
export const OPENAI_REASONING_MODEL = /^(o\d|gpt-5)/;

/**
 * The share of the effort's thinking budget (`REASONING_BUDGET`) one call is expected to spend, by
 * provider, for cost estimates. Not measured by lmcot (that needs the paid APIs): OpenAI's reasoning
 * guide says a reply takes "anywhere from a few hundred to tens of thousands" of reasoning tokens
 * depending on the problem, and a short multi-hop QA answer sits at the low end, so a quarter of the
 * budget (512 / 2,048 / 6,144 tokens at low / medium / high). Anthropic's extended thinking is given
 * an explicit `budget_tokens` (at least 1,024) and is counted at half of it. Override with your own
 * numbers through `expectedReasoningTokens`'s `share` once a run's `usage.reasoningTokens` shows them.
 */
export const REASONING_SHARE: Readonly<Record<string, number>> = {
  openai: 0.25,
  anthropic: 0.5,
  other: 0.25,
};

/**
 * Reasoning tokens one call of model `id` is expected to spend (0 for a model that does not reason):
 * OpenAI's o-series and gpt-5 always reason (at `medium` unless an effort is given); other models
 * reason only when an effort is set (Claude's extended thinking, DeepSeek-R1 and the like).
 */
export function expectedReasoningTokens(
  id: string,
  effort?: ReasoningEffort,
  share: Readonly<Record<string, number>> = REASONING_SHARE,
): number {
  const colon = id.indexOf(":");
  const provider = id.slice(0, colon);
  const model = id.slice(colon + 1);
  const always = provider === "openai" && OPENAI_REASONING_MODEL.test(model);
  if (!always && effort === undefined) return 0;
  const budget = thinkingBudget(effort ? { effort } : undefined);
  const given = provider === "anthropic" ? Math.max(1024, budget) : budget;
  return Math.round(given * (share[provider] ?? share.other ?? REASONING_SHARE.other!));
}

/** The thinking budget in tokens: the one given, else the effort's (medium when neither is given). */
export function thinkingBudget(reasoning: ReasoningOptions | undefined): number {
  return reasoning?.budgetTokens ?? REASONING_BUDGET[reasoning?.effort ?? "medium"];
}

/** The effort level: the one given, else the smallest whose budget covers `budgetTokens`. */
export function reasoningEffort(reasoning: ReasoningOptions): ReasoningEffort {
  if (reasoning.effort) return reasoning.effort;
  const budget = reasoning.budgetTokens ?? REASONING_BUDGET.medium;
  return budget <= REASONING_BUDGET.low ? "low" : budget <= REASONING_BUDGET.medium ? "medium" : "high";
}

/**
 * The result, unless it is empty because the reply limit was hit (a reasoning model that spent the
 * whole budget thinking): that is an `EmptyReplyError`, never an empty answer scored as wrong.
 */
export function answered(result: GenerateResult, id: string, limit?: number): GenerateResult {
  if (result.finishReason !== "length" || result.text.trim() !== "") return result;
  const { outputTokens, reasoningTokens } = result.usage;
  const allowed = limit !== undefined ? `${limit} allowed, ` : "";
  const thought = reasoningTokens ? `, ${reasoningTokens} of them reasoning` : "";
  throw new EmptyReplyError(
    `${id}: empty reply: the model hit its reply limit (${allowed}${outputTokens} tokens used${thought}) before writing an answer; raise maxTokens or lower the reasoning effort`,
    { provider: id.split(":")[0] },
  );
}
