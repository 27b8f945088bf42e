import { type ContextOptions, type Example, fnv1a, formatContext } from "@lmcot/core";
import { ASPECT_DEFINITIONS, ASPECTS, type AspectName } from "./aspects";

/** What a judge sees: the question with its context, and the rationale to rate. */
export interface JudgeInput {
  example: Pick<Example, "question" | "context"> & Partial<Example>;
  rationale: string;
}

/** The judge's rating scale; scores map linearly onto [0, 1]. */
export const JUDGE_SCALE = { min: 1, max: 5 } as const;

/** A judge prompt: system + user turn, and the version that goes into every cache key. */
export interface JudgePrompt {
  system: string;
  prompt: string;
  version: string;
}

export interface JudgePromptOptions {
  context?: ContextOptions;
}

// Every string a judge sees comes from these constants; their hash is the template version.
const JUDGE_SYSTEM =
  "You are a strict, impartial judge of rationales written for multi-hop question answering. You rate the rationale only, not whether you agree with its answer.";
const SCALE_TEXT = `on a scale from ${JUDGE_SCALE.min} (very poor) to ${JUDGE_SCALE.max} (excellent)`;
const ONE_FORMAT = "Reply with exactly one line and nothing else: `Score: <integer from 1 to 5>`.";
const ALL_FORMAT =
  "Reply with exactly one line per aspect, in the order listed, and nothing else: `<aspect>: <integer from 1 to 5>`.";

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function material(input: JudgeInput, options: JudgePromptOptions): string {
  const context = formatContext(input.example as Example, options.context);
  return `Question: ${input.example.question}\n\nContext:\n${context}\n\nRationale: ${input.rationale.trim()}`;
}

const perAspectVersions = Object.fromEntries(
  ASPECTS.map((a) => [
    a,
    `judge-${a}@${fnv1a([JUDGE_SYSTEM, a, ASPECT_DEFINITIONS[a], SCALE_TEXT, ONE_FORMAT].join("\u0000"))}`,
  ]),
) as Record<AspectName, string>;

/** Version of the one-aspect judge template for `aspect`. */
export function aspectPromptVersion(aspect: AspectName): string {
  return perAspectVersions[aspect];
}

/** The judge prompt for one aspect: its definition, the material, a strict `Score: n` reply format. */
export function aspectPrompt(
  aspect: AspectName,
  input: JudgeInput,
  options: JudgePromptOptions = {},
): JudgePrompt {
  return {
    system: JUDGE_SYSTEM,
    prompt: `Aspect: ${capitalise(aspect)}. ${ASPECT_DEFINITIONS[aspect]}\n\n${material(input, options)}\n\nRate the rationale's ${aspect} ${SCALE_TEXT}. ${ONE_FORMAT}`,
    version: perAspectVersions[aspect],
  };
}

/** The judge prompt that rates several aspects in one call, one `aspect: n` line each. */
export function allAspectsPrompt(
  aspects: readonly AspectName[],
  input: JudgeInput,
  options: JudgePromptOptions = {},
): JudgePrompt {
  const list = aspects.map((a) => `- ${a}: ${ASPECT_DEFINITIONS[a]}`).join("\n");
  const version = `judge-all@${fnv1a([JUDGE_SYSTEM, list, SCALE_TEXT, ALL_FORMAT].join("\u0000"))}`;
  return {
    system: JUDGE_SYSTEM,
    prompt: `Aspects:\n${list}\n\n${material(input, options)}\n\nRate the rationale on each aspect ${SCALE_TEXT}. ${ALL_FORMAT}`,
    version,
  };
}
