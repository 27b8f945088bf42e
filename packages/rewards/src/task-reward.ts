import {
  answerPrompt,
  type Example,
  extractAnswer,
  type LanguageModel,
  type Limiter,
  type TemplateOptions,
} from "@lmcot/core";
import { scoreAnswer } from "@lmcot/metrics";
import { emptyRewardUsage, type RewardUsage, recordCall } from "./usage";

/** How the large LM's answer is scored: EM (the paper's R_taskAcc), F1, or a weighted mix of both. */
export type TaskMetric = "em" | "f1" | { em: number; f1: number };

export interface TaskRewardOptions {
  large: LanguageModel;
  metric?: TaskMetric;
  prompt?: TemplateOptions;
  maxTokens?: number;
  limiter?: Limiter;
  signal?: AbortSignal;
}

export interface TaskRewardResult {
  reward: number;
  /** The answer extracted from the large LM's reply, with its scores against the gold. */
  answer: string;
  em: number;
  f1: number;
  usage: RewardUsage;
}

/** The gold strings of an example: its aliases when it has them, else its answer. */
export function goldAnswers(example: Pick<Example, "answer" | "answerAliases">): string[] {
  return example.answerAliases?.length ? example.answerAliases : [example.answer];
}

/** Scores an answer against the gold with `metric`; a mix is normalised by its weights' sum. */
export function scoreTask(answer: string, golds: readonly string[], metric: TaskMetric = "em") {
  const { em, f1 } = scoreAnswer(answer, golds);
  if (metric === "em") return { reward: em, em, f1 };
  if (metric === "f1") return { reward: f1, em, f1 };
  const total = metric.em + metric.f1;
  return { reward: total > 0 ? (metric.em * em + metric.f1 * f1) / total : 0, em, f1 };
}

/**
 * The task-oriented reward: the frozen large LM answers from question, context and the rationale
 * (core's `answerPrompt`), and its extracted answer is scored against the gold.
 */
export async function taskReward(
  example: Example,
  rationale: string,
  options: TaskRewardOptions,
): Promise<TaskRewardResult> {
  const usage = emptyRewardUsage();
  const { system, prompt } = answerPrompt.render(example, rationale, options.prompt);
  const call = () =>
    options.large.generate({
      ...(system ? { system } : {}),
      prompt,
      maxTokens: options.maxTokens ?? 32,
      temperature: 0,
      promptVersion: answerPrompt.version,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  const reply = options.limiter ? await options.limiter.run(call, options.signal) : await call();
  recordCall(usage, "large", reply);
  const answer = extractAnswer(reply.text);
  return { answer, ...scoreTask(answer, goldAnswers(example), options.metric), usage };
}
