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
