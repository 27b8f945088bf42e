import type { Example } from "../example";
import { type ContextOptions, formatContext } from "./context";
import { fnv1a } from "./hash";

/** A worked example shown before the question (few-shot prompting). */
export interface Exemplar {
  question: string;
  context?: string;
  rationale?: string;
  answer: string;
}

export interface TemplateOptions {
  context?: ContextOptions;
  exemplars?: Exemplar[];
}

/** A chat-style prompt: an optional system instruction and the user turn. */
export interface ChatPrompt {
  system?: string;
  prompt: string;
}

/**
 * A versioned prompt template. `version` is a hash of the template's own text, so editing the text
 * changes it and a cached result is never reused across template changes.
 */
export interface PromptTemplate<Args extends unknown[], Out> {
  readonly name: string;
  readonly version: string;
  render(...args: Args): Out;
}

function template<Args extends unknown[], Out>(
  name: string,
  text: readonly string[],
  render: (...args: Args) => Out,
): PromptTemplate<Args, Out> {
  return { name, version: `${name}@${fnv1a(text.join("\u0000"))}`, render };
}

// The texts below are the templates: every string a model sees comes from these constants.
const QUESTION = "Question: ";
const CONTEXT = "Context:\n";
const REASONING = "Reasoning: ";
const ANSWER = "Answer:";
const PREDICTION = "Prediction: ";

const RATIONALE_INSTRUCTION =
  "Read the question and the context. Write the reasoning that leads to the answer: the facts from the context that are needed, and how they connect.";
const ANSWER_SYSTEM =
  "Answer the question from the context, using the given reasoning as guidance. Reply with the short answer only (an entity, a date, a number, or yes/no), on one line, as `Answer: <answer>`.";
const STANDARD_SYSTEM =
  "Answer the question from the context. Reply with the short answer only (an entity, a date, a number, or yes/no), on one line, as `Answer: <answer>`.";
const COT_SYSTEM =
  "Answer the question from the context. First think step by step, then answer. Reply in exactly this format:\nReasoning: <your step-by-step reasoning>\nPrediction: <the short answer only: an entity, a date, a number, or yes/no>";
const TEACHER_SYSTEM =
  "You are writing a rationale that a student model will learn from. Explain, step by step and citing the facts from the context, how to get from the question to the answer, then give the answer. Reply in exactly this format:\nReasoning: <rationale>\nPrediction: <the short answer only: an entity, a date, a number, or yes/no>";

function body(example: Example, options: TemplateOptions = {}): string {
  return `${QUESTION}${example.question}\n\n${CONTEXT}${formatContext(example, options.context)}`;
}

function shots(options: TemplateOptions = {}, withRationale = false, marker = ANSWER): string {
  if (!options.exemplars?.length) return "";
  return options.exemplars
    .map((e) => {
      const lines = [`${QUESTION}${e.question}`];
      if (e.context) lines.push(`${CONTEXT}${e.context}`);
      if (withRationale && e.rationale) lines.push(`${REASONING}${e.rationale}`);
      lines.push(`${marker.trim()} ${e.answer}`);
      return lines.join("\n\n");
    })
    .join("\n\n---\n\n")
    .concat("\n\n---\n\n");
}

/** The small LM's input: question and context in; the rationale comes out (Figure 1 of the paper). */
export const rationalePrompt = template(
  "rationale",
  [RATIONALE_INSTRUCTION, QUESTION, CONTEXT, REASONING],
  (example: Example, options: TemplateOptions = {}): string =>
    `${RATIONALE_INSTRUCTION}\n\n${shots(options, true, REASONING)}${body(example, options)}\n\n${REASONING.trim()}`,
);

/** The large LM's prompt in LM-guided CoT: question, context and the small LM's rationale. */
export const answerPrompt = template(
  "answer",
  [ANSWER_SYSTEM, QUESTION, CONTEXT, REASONING, ANSWER],
  (example: Example, rationale: string, options: TemplateOptions = {}): ChatPrompt => ({
    system: ANSWER_SYSTEM,
    prompt: `${shots(options, true)}${body(example, options)}\n\n${REASONING}${rationale.trim()}\n\n${ANSWER}`,
  }),
);

/** Standard prompting: the large LM answers from question and context alone. */
export const standardPrompt = template(
  "standard",
  [STANDARD_SYSTEM, QUESTION, CONTEXT, ANSWER],
  (example: Example, options: TemplateOptions = {}): ChatPrompt => ({
    system: STANDARD_SYSTEM,
    prompt: `${shots(options)}${body(example, options)}\n\n${ANSWER}`,
  }),
);

/** CoT prompting: the large LM writes its own rationale, then the prediction. */
export const cotPrompt = template(
  "cot",
  [COT_SYSTEM, QUESTION, CONTEXT],
  (example: Example, options: TemplateOptions = {}): ChatPrompt => ({
    system: COT_SYSTEM,
    prompt: `${shots(options, true, PREDICTION)}${body(example, options)}`,
  }),
);

/** The teacher prompt for rationale distillation: `Reasoning: …` then `Prediction: …`. */
export const teacherPrompt = template(
  "teacher",
  [TEACHER_SYSTEM, QUESTION, CONTEXT],
  (example: Example, options: TemplateOptions = {}): ChatPrompt => ({
    system: TEACHER_SYSTEM,
    prompt: `${shots(options, true, PREDICTION)}${body(example, options)}`,
  }),
);

/** One version string for a set of templates (what a method's predictions depend on). */
export function promptVersion(...templates: { version: string }[]): string {
  return templates.map((t) => t.version).join("+");
}
