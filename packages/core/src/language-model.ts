/** Token counts for one call or a sum of calls. */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  /** Tokens a reasoning model spent thinking, when the provider says; already counted in `outputTokens`. */
  reasoningTokens?: number;
}

/** A chat message. `system` messages may also be given through `GenerateRequest.system`. */
export interface Message {
  role: "system" | "user" | "assistant";
  content: string;
}

/** Why generation stopped, unified across providers; the provider's own word is in `rawFinishReason`. */
export type FinishReason = "stop" | "length" | "content-filter" | "error" | "other";

/** A setting the provider ignored or changed: reported, never thrown. */
export interface CallWarning {
  setting: string;
  message: string;
}

/** The log-probability of one generated token, with its top alternatives when asked for. */
export interface TokenLogprob {
  token: string;
  logprob: number;
  top?: { token: string; logprob: number }[];
}

/** How hard a reasoning model thinks before it answers. */
export type ReasoningEffort = "low" | "medium" | "high";

/**
 * Reasoning settings: an effort level, or a thinking budget in tokens (Anthropic, Gemini). Adapters map
 * it to the provider's own setting (OpenAI `reasoning_effort`, Anthropic `thinking.budget_tokens`) and
 * leave room for it on top of `maxTokens`; a provider with no such setting reports it in `warnings`.
 */
export interface ReasoningOptions {
  effort?: ReasoningEffort;
  budgetTokens?: number;
}

/** One call to a large language model. Give either `prompt` or `messages`. */
export interface GenerateRequest {
  system?: string;
  prompt?: string;
  messages?: Message[];
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  /** Stop sequences; the stop text itself is not part of the result. */
  stop?: string[];
  seed?: number;
  /** Ask for per-token log-probs (`true`) or for that many top alternatives per token too. */
  logprobs?: boolean | number;
  /** Reasoning effort or thinking budget for reasoning models; `maxTokens` stays the answer's budget. */
  reasoning?: ReasoningOptions;
  signal?: AbortSignal;
  /** Version of the prompt template that produced this request; part of every cache key. */
  promptVersion?: string;
  /** Provider-specific settings, keyed by provider name: `{ openai: { reasoning_effort: "low" } }`. */
  providerOptions?: Record<string, Record<string, unknown>>;
}

/** What a large language model returned. */
export interface GenerateResult {
  text: string;
  usage: Usage;
  finishReason: FinishReason;
  rawFinishReason?: string;
  /** Cost of this call in USD when the price is known; 0 for cache hits. */
  costUsd?: number;
  /** True when the result came from a cache and no provider call was made. */
  cached?: boolean;
  warnings?: CallWarning[];
  logprobs?: TokenLogprob[];
  /** The model name the provider reports having used, when it says. */
  responseModel?: string;
  /** The reasoning text (thinking blocks, `reasoning_content`), when the provider returns it. */
  reasoning?: string;
}

/**
 * The large, frozen model (M_L in the paper): any provider behind one call. Adapters implement it;
 * middleware (retry, rate limit, cache, usage meter) wraps it without the adapter knowing.
 */
export interface LanguageModel {
  readonly specificationVersion: "v1";
  /** `provider:model`, e.g. `openai:gpt-4o-mini`. The same string resolves to the same model. */
  readonly id: string;
  generate(request: GenerateRequest): Promise<GenerateResult>;
}

/** A fresh zero usage. */
export function emptyUsage(): Usage {
  return { inputTokens: 0, outputTokens: 0 };
}

/** The sum of usages. */
export function addUsage(...usages: (Usage | undefined)[]): Usage {
  const total = emptyUsage();
  for (const u of usages) {
    if (!u) continue;
    total.inputTokens += u.inputTokens;
    total.outputTokens += u.outputTokens;
    if (u.reasoningTokens !== undefined)
      total.reasoningTokens = (total.reasoningTokens ?? 0) + u.reasoningTokens;
  }
  return total;
}
