import {
  type CallWarning,
  type FinishReason,
  type GenerateRequest,
  LmcotError,
  redact,
  ServerError,
  toLmcotError,
  type Usage,
} from "@lmcot/core";
import { chatTurns } from "../messages";
import { reasoningEffort, thinkingBudget } from "../reasoning";
import type { AISDKCallOptions, AISDKFinishReason, AISDKUsage, AISDKWarning } from "./spec";

/** Models that think by default, so their reply budget needs room for it even when no reasoning is asked. */
const THINKS_BY_DEFAULT = /gemini-(2\.5|[3-9])/;

/** Each AI SDK provider's own spelling of a thinking budget, keyed as its `providerOptions` are. */
const REASONING_OPTIONS: Record<string, (r: NonNullable<GenerateRequest["reasoning"]>) => object> = {
  google: (r) => ({ thinkingConfig: { thinkingBudget: thinkingBudget(r), includeThoughts: true } }),
  anthropic: (r) => ({ thinking: { type: "enabled", budgetTokens: Math.max(1024, thinkingBudget(r)) } }),
  openai: (r) => ({ reasoningEffort: reasoningEffort(r) }),
};

/** The AI SDK call options for one of our requests, and the warnings of what could not be mapped. */
export function callOptions(
  request: GenerateRequest,
  providerKey: string,
  modelId: string,
): { options: AISDKCallOptions; warnings: CallWarning[] } {
  const { system, turns } = chatTurns(request, providerKey);
  const warnings: CallWarning[] = [];
  const mapReasoning = request.reasoning ? REASONING_OPTIONS[providerKey] : undefined;
  if (request.reasoning && !mapReasoning)
    warnings.push({
      setting: "reasoning",
      message: `no reasoning mapping for ${providerKey}; pass it in providerOptions.${providerKey}`,
    });
  if (request.logprobs)
    warnings.push({ setting: "logprobs", message: "the AI SDK bridge returns no log-probs" });
  const room = request.reasoning || THINKS_BY_DEFAULT.test(modelId) ? thinkingBudget(request.reasoning) : 0;
  const own = request.providerOptions?.[providerKey] ?? {};
  const options: AISDKCallOptions = {
    prompt: [
      ...(system ? [{ role: "system" as const, content: system }] : []),
      ...turns.map((t) => ({
        role: t.role as "user" | "assistant",
        content: [{ type: "text" as const, text: t.content }],
      })),
    ],
    ...(request.maxTokens !== undefined ? { maxOutputTokens: request.maxTokens + room } : {}),
    ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
    ...(request.topP !== undefined ? { topP: request.topP } : {}),
    ...(request.stop?.length ? { stopSequences: request.stop } : {}),
    ...(request.seed !== undefined ? { seed: request.seed } : {}),
    ...(request.signal ? { abortSignal: request.signal } : {}),
    providerOptions: {
      ...request.providerOptions,
      [providerKey]: {
        ...(mapReasoning && request.reasoning ? mapReasoning(request.reasoning) : {}),
        ...own,
      },
    },
  };
  return { options, warnings };
}

export function finishOf(reason: AISDKFinishReason): { finishReason: FinishReason; rawFinishReason: string } {
  const unified = typeof reason === "string" ? reason : reason.unified;
  const raw = typeof reason === "string" ? reason : (reason.raw ?? reason.unified);
  const known: FinishReason[] = ["stop", "length", "content-filter", "error"];
  return { finishReason: known.find((r) => r === unified) ?? "other", rawFinishReason: raw };
}

export function usageOf(usage: AISDKUsage | undefined): Usage {
  const count = (n: number | { total?: number } | undefined) => (typeof n === "number" ? n : (n?.total ?? 0));
  const out = usage?.outputTokens;
  const reasoning = typeof out === "object" ? out.reasoning : usage?.reasoningTokens;
  return {
    inputTokens: count(usage?.inputTokens),
    outputTokens: count(out),
    ...(reasoning ? { reasoningTokens: reasoning } : {}),
  };
}

export function warningsOf(warnings: readonly AISDKWarning[] = []): CallWarning[] {
  return warnings.map((w) => {
    const setting = w.setting ?? w.feature ?? w.type;
    return { setting, message: w.details ?? w.message ?? `${setting} is not supported` };
  });
}

/** Gemini says how long to wait in the body (`google.rpc.RetryInfo` `retryDelay: "34.4s"`), not in a header. */
function retryDelayHeader(body: string | undefined): Record<string, string> {
  const seconds = /"retryDelay"\s*:\s*"([\d.]+)s"/.exec(body ?? "")?.[1];
  return seconds ? { "retry-after-ms": String(Math.round(Number(seconds) * 1000)) } : {};
}

/** AI SDK errors (`APICallError`: statusCode, responseHeaders, isRetryable) as lmcot's typed errors. */
export function toTypedError(
  error: unknown,
  provider: string,
  secrets: readonly (string | undefined)[],
): LmcotError {
  if (LmcotError.isInstance(error)) return error;
  const e = (error ?? {}) as {
    statusCode?: number;
    responseHeaders?: Record<string, string>;
    responseBody?: string;
    isRetryable?: boolean;
    message?: string;
    name?: string;
  };
  if (e.name === "AbortError") return toLmcotError(error, provider, secrets);
  if (e.statusCode === undefined && e.isRetryable === true)
    return new ServerError(
      redact(`${provider}: ${e.message ?? String(error)} (connection failed)`, secrets),
      {
        provider,
      },
    );
  const headers = { ...retryDelayHeader(e.responseBody), ...e.responseHeaders };
  return toLmcotError(
    { name: e.name, message: e.message ?? String(error), status: e.statusCode, headers },
    provider,
    secrets,
  );
}
