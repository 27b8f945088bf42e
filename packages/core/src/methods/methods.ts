import type { Example } from "../example";
import {
  addUsage,
  type GenerateResult,
  type LanguageModel,
  type ReasoningOptions,
  type Usage,
} from "../language-model";
import type { MethodName, Prediction, PromptRecord } from "../prediction";
import {
  answerPrompt,
  type ChatPrompt,
  cotPrompt,
  extractAnswer,
  parseTeacherOutput,
  promptVersion,
  rationalePrompt,
  standardPrompt,
  type TemplateOptions,
} from "../prompts/index";
import type { RationaleGenerateOptions, RationaleModel } from "../rationale-model";

export interface MethodOptions extends TemplateOptions {
  /** Max tokens of the large LM's reply (default 64 for an answer, 512 for CoT). */
  maxTokens?: number;
  /** Large LM temperature (default 0). */
  temperature?: number;
  seed?: number;
  /** Reasoning effort or thinking budget for the large LM (reasoning models); `maxTokens` stays the answer's. */
  reasoning?: ReasoningOptions;
  signal?: AbortSignal;
}

export interface LmGuidedOptions extends MethodOptions {
  /** Small LM decoding; default greedy with 128 new tokens. */
  rationale?: RationaleGenerateOptions;
  /**
   * Self-consistency: sample this many rationales (temperature 0.7 unless `rationale.temperature` is
   * set) and take the majority answer of the large LM. Default 1.
   */
  selfConsistency?: number;
}

export interface LargeOnly {
  large: LanguageModel;
}
export interface SmallAndLarge {
  large: LanguageModel;
  small: RationaleModel;
}

interface Call {
  result: GenerateResult;
  record: PromptRecord;
}

async function ask(
  large: LanguageModel,
  step: PromptRecord["step"],
  chat: ChatPrompt,
  version: string,
  maxTokens: number,
  options: MethodOptions,
): Promise<Call> {
  const result = await large.generate({
    promptVersion: version,
    system: chat.system,
    prompt: chat.prompt,
    maxTokens,
    temperature: options.temperature ?? 0,
    seed: options.seed,
    ...(options.reasoning ? { reasoning: options.reasoning } : {}),
    signal: options.signal,
  });
  return {
    result,
    record: {
      step,
      model: large.id,
      system: chat.system,
      prompt: chat.prompt,
      output: result.text,
      ...(result.reasoning ? { reasoning: result.reasoning } : {}),
      usage: result.usage,
    },
  };
}

function finish(
  base: Pick<Prediction, "method" | "answer" | "rationale" | "samples" | "models" | "promptVersion">,
  example: Example,
  calls: Call[],
  extra: { small?: Usage; prompts?: PromptRecord[]; started: number; seed?: number },
): Prediction {
  return {
    ...base,
    exampleId: example.id,
    dataset: example.dataset,
    seed: extra.seed,
    prompts: [...(extra.prompts ?? []), ...calls.map((c) => c.record)],
    usage: {
      large: addUsage(...calls.map((c) => c.result.usage)),
      ...(extra.small ? { small: extra.small } : {}),
    },
    costUsd: calls.reduce((sum, c) => sum + (c.result.costUsd ?? 0), 0),
    latencyMs: performance.now() - extra.started,
    cached: calls.length > 0 && calls.every((c) => c.result.cached === true),
  };
}

/** The one-call methods: their prompt, the prompt step's name and the default reply length. */
const ONE_CALL = {
  standard: { template: standardPrompt, step: "answer", maxTokens: 64 },
  cot: { template: cotPrompt, step: "cot", maxTokens: 512 },
} as const;

/** A method that is one large-LM call, its reply read by `read`. */
async function oneCall(
  method: keyof typeof ONE_CALL,
  example: Example,
  models: LargeOnly,
  options: MethodOptions,
  read: (text: string) => Pick<Prediction, "answer" | "rationale">,
): Promise<Prediction> {
  const { template, step, maxTokens } = ONE_CALL[method];
  const started = performance.now();
  const call = await ask(
    models.large,
    step,
    template.render(example, options),
    template.version,
    options.maxTokens ?? maxTokens,
    options,
  );
  return finish(
    {
      method,
      ...read(call.result.text),
      models: { large: models.large.id },
      promptVersion: methodPromptVersion(method),
    },
    example,
    [call],
    { started, seed: options.seed },
  );
}

/** Standard prompting: the large LM answers from question and context. */
export async function standard(
  example: Example,
  models: LargeOnly,
  options: MethodOptions = {},
): Promise<Prediction> {
  return oneCall("standard", example, models, options, (text) => ({ answer: extractAnswer(text) }));
}

/** CoT prompting: the large LM writes its own rationale, then answers. */
export async function cot(
  example: Example,
  models: LargeOnly,
  options: MethodOptions = {},
): Promise<Prediction> {
  return oneCall("cot", example, models, options, (text) => {
    const parsed = parseTeacherOutput(text);
    return "error" in parsed
      ? { answer: extractAnswer(text), rationale: undefined }
      : { answer: parsed.prediction, rationale: parsed.rationale };
  });
}

/** The key answers are voted by: lower-case, no punctuation or articles, single spaces. */
function voteKey(answer: string): string {
  return answer
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s]/gu, "")
    .replace(/\b(a|an|the)\b/g, " ")
    .replace(/\s+/g, " ")
    .trim();
}

/** The most frequent answer (first seen wins ties). */
export function majorityVote(answers: string[]): string {
  const counts = new Map<string, { count: number; first: number }>();
  answers.forEach((a, i) => {
    const k = voteKey(a);
    const c = counts.get(k);
    if (c) c.count++;
    else counts.set(k, { count: 1, first: i });
  });
  let best: { count: number; first: number } | undefined;
  for (const c of counts.values()) if (!best || c.count > best.count) best = c;
  return best ? answers[best.first]! : "";
}

/** LM-guided CoT: the small LM writes the rationale; the frozen large LM answers from it. */
export async function lmGuided(
  example: Example,
  models: SmallAndLarge,
  options: LmGuidedOptions = {},
): Promise<Prediction> {
  const started = performance.now();
  const k = Math.max(1, options.selfConsistency ?? 1);
  const input = rationalePrompt.render(example, options);
  const decoding: RationaleGenerateOptions = {
    maxNewTokens: 128,
    ...(k > 1 ? { temperature: 0.7 } : {}),
    ...options.rationale,
    numReturnSequences: k,
    seed: options.rationale?.seed ?? options.seed,
    signal: options.signal,
  };
  const outputs = await models.small.generate([input], decoding);
  const rationales = outputs.map((o) => o.text.trim());
  const calls = await Promise.all(
    rationales.map((rationale) =>
      ask(
        models.large,
        "answer",
        answerPrompt.render(example, rationale, options),
        answerPrompt.version,
        options.maxTokens ?? 64,
        options,
      ),
    ),
  );
  const answers = calls.map((c) => extractAnswer(c.result.text));
  const answer = majorityVote(answers);
  const chosen = Math.max(0, answers.indexOf(answer));
  return finish(
    {
      method: "lm-guided",
      answer,
      rationale: rationales[chosen],
      samples: k > 1 ? rationales.map((r, i) => ({ rationale: r, answer: answers[i]! })) : undefined,
      models: { large: models.large.id, small: models.small.id },
      promptVersion: methodPromptVersion("lm-guided"),
    },
    example,
    calls,
    {
      started,
      seed: options.seed,
      small: addUsage(...outputs.map((o) => o.usage)),
      prompts: rationales.map((r, i) => ({
        step: "rationale",
        model: models.small.id,
        prompt: input,
        output: r,
        ...(outputs[i]!.usage ? { usage: outputs[i]!.usage } : {}),
      })),
    },
  );
}

export type Method = (
  example: Example,
  models: SmallAndLarge | LargeOnly,
  options?: LmGuidedOptions,
) => Promise<Prediction>;

/** The three methods by name. `lm-guided` needs a small model in `models`. */
export const methods: Record<MethodName, Method> = {
  standard: (example, models, options) => standard(example, models, options),
  cot: (example, models, options) => cot(example, models, options),
  "lm-guided": (example, models, options) => {
    if (!("small" in models)) throw new TypeError("the lm-guided method needs a small (rationale) model");
    return lmGuided(example, models, options);
  },
};

/** The prompt version a method's predictions depend on (part of every run key). */
export function methodPromptVersion(method: MethodName): string {
  if (method === "standard") return promptVersion(standardPrompt);
  if (method === "cot") return promptVersion(cotPrompt);
  return promptVersion(rationalePrompt, answerPrompt);
}
