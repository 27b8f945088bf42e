import {
  AbortError,
  failureRecord,
  isFatalError,
  type LanguageModel,
  type Limiter,
  linkedSignal,
  UnreadableReplyError,
} from "@lmcot/core";
import { ASPECTS, type AspectName } from "./aspects";
import {
  allAspectsPrompt,
  aspectPrompt,
  type JudgeInput,
  type JudgePrompt,
  type JudgePromptOptions,
} from "./judge-prompts";
import { type ParsedScore, parseAllAspects, parseAspectScore } from "./parse";
import { type CallRole, emptyRewardUsage, type RewardUsage, recordCall } from "./usage";

/**
 * What a failure scores: 0, excluded (NaN, left out of the aspect sum, see `sumAspects`), a fixed
 * default in [0, 1], or nothing: `error` fails the item.
 */
export type JudgeFailurePolicy = "zero" | "exclude" | { default: number } | "error";

/** A judge reply that could not be read, kept for inspection. */
export interface JudgeFailure {
  aspect: AspectName;
  error: string;
  reply: string;
}

/** A judge or large-LM call that failed after the call policy's retries, scored by `onCallFailure`. */
export interface CallFailure {
  role: CallRole;
  /** The aspect a per-aspect judge call was for. */
  aspect?: AspectName;
  /** The typed error's code (`server`, `timeout`, …). */
  errorClass: string;
  status?: number;
  /** The reason, keys redacted. */
  error: string;
}

/** The score a failure gets under `policy`; `error` (and a fatal or aborted call under any policy) throws `error`. */
export function failureScore(policy: JudgeFailurePolicy, error: unknown): number {
  if (policy === "error" || AbortError.isInstance(error) || isFatalError(error)) throw error;
  if (policy === "zero") return 0;
  if (policy === "exclude") return Number.NaN;
  return policy.default;
}

/** What to throw from settled promises: a fatal error first, then an abort, else the first failure. */
export function worstFailure(
  results: readonly PromiseSettledResult<unknown>[],
): PromiseRejectedResult | undefined {
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
  return (
    failed.find((r) => isFatalError(r.reason)) ??
    failed.find((r) => AbortError.isInstance(r.reason)) ??
    failed[0]
  );
}

/** The record of a failed call. */
export function callFailure(role: CallRole, error: unknown, aspect?: AspectName): CallFailure {
  const { errorClass, status, message } = failureRecord(role, error);
  return { role, ...(aspect ? { aspect } : {}), errorClass, ...(status ? { status } : {}), error: message };
}

export interface AspectRewardOptions {
  judge: LanguageModel;
  /** Aspects to score (default: all eight). */
  aspects?: readonly AspectName[];
  /** One judge call per aspect (default) or all aspects in one call. */
  mode?: "per-aspect" | "one-call";
  /** An unreadable reply (default `zero`). */
  onFailure?: JudgeFailurePolicy;
  /** A call that failed after its retries (default `error`: the item fails). */
  onCallFailure?: JudgeFailurePolicy;
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
  callFailures: CallFailure[];
  usage: RewardUsage;
}

/**
 * Scores a rationale on the chosen aspects with a judge LM. A malformed reply or a failed call is
 * scored by its policy; it throws only under `error`, for a fatal error (authentication, missing
 * model, budget) or an abort, and only after every call of the item has settled.
 */
export async function aspectRewards(
  input: JudgeInput,
  options: AspectRewardOptions,
): Promise<AspectRewardResult> {
  const aspects = options.aspects ?? ASPECTS;
  const policy = options.onFailure ?? "zero";
  const callPolicy = options.onCallFailure ?? "error";
  const usage = emptyRewardUsage();
  const result: AspectRewardResult = { scores: {}, failures: [], callFailures: [], usage };
  if (aspects.length === 0) return result;
  // A fatal error (a refused key, a missing model) stops the item's other calls at once.
  const stop = new AbortController();
  const linked = options.signal ? linkedSignal([options.signal, stop.signal]) : undefined;
  const signal = linked?.signal ?? stop.signal;
  try {
    return await judgeAll();
  } finally {
    linked?.release();
  }

  async function judgeAll(): Promise<AspectRewardResult> {
    const ask = async (p: JudgePrompt, maxTokens: number): Promise<string> => {
      const call = async () => {
        try {
          return await options.judge.generate({
            system: p.system,
            prompt: p.prompt,
            maxTokens: options.maxTokens ?? maxTokens,
            temperature: options.temperature ?? 0,
            promptVersion: p.version,
            signal,
          });
        } catch (error) {
          // Inside the limiter's turn, so no waiting call starts before the others are stopped.
          if (isFatalError(error)) stop.abort();
          throw error;
        }
      };
      const reply = options.limiter ? await options.limiter.run(call, signal) : await call();
      recordCall(usage, "judge", reply);
      return reply.text;
    };
    const keep = (aspect: AspectName, parsed: ParsedScore, reply: string) => {
      if ("score" in parsed) {
        result.scores[aspect] = parsed.score;
        return;
      }
      const unreadable = new UnreadableReplyError(`judge reply for ${aspect} has no score: ${parsed.error}`);
      result.scores[aspect] = failureScore(policy, unreadable);
      result.failures.push({ aspect, error: parsed.error, reply });
    };
    const failed = (error: unknown, judged: readonly AspectName[], aspect?: AspectName) => {
      const score = failureScore(callPolicy, error);
      for (const a of judged) result.scores[a] = score;
      result.callFailures.push(callFailure("judge", error, aspect));
    };
    if (options.mode === "one-call") {
      let reply: string;
      try {
        reply = await ask(allAspectsPrompt(aspects, input, options.prompt), 16 * aspects.length);
      } catch (error) {
        failed(error, aspects);
        return result;
      }
      const parsed = parseAllAspects(reply, aspects);
      for (const aspect of aspects) keep(aspect, parsed[aspect], reply);
      return result;
    }
    // allSettled, not all: every call of the item ends (and is counted) before the item does.
    const replies = await Promise.allSettled(
      aspects.map((a) => ask(aspectPrompt(a, input, options.prompt), 16)),
    );
    const worst = worstFailure(replies);
    // Throws when no policy may score it (`error`, fatal, aborted); else each failure is scored below.
    if (worst) failureScore(callPolicy, worst.reason);
    aspects.forEach((aspect, i) => {
      const r = replies[i]!;
      if (r.status === "fulfilled") keep(aspect, parseAspectScore(r.value), r.value);
      else failed(r.reason, [aspect], aspect);
    });
    return result;
  }
}
