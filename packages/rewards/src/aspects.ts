/** The eight rationale aspects the paper scores (rationale-oriented reward). */
export const ASPECTS = [
  "factuality",
  "relevance",
  "logicality",
  "consistency",
  "coherence",
  "fluency",
  "naturalness",
  "readability",
] as const;

export type AspectName = (typeof ASPECTS)[number];

/** What each aspect means, as the judge is told. Part of every judge prompt's version. */
export const ASPECT_DEFINITIONS: Readonly<Record<AspectName, string>> = {
  factuality:
    "Every statement in the rationale is supported by the context; nothing is invented and nothing contradicts the context.",
  relevance:
    "The rationale uses the information needed to answer this question and leaves out what does not help answer it.",
  logicality:
    "Each reasoning step follows from the facts and the previous steps, and the chain leads validly to an answer.",
  consistency:
    "The rationale never contradicts itself or the question; its statements agree with one another.",
  coherence:
    "The sentences connect into one organised line of reasoning rather than a list of unrelated facts.",
  fluency: "The text is grammatical and well formed, with no broken, repeated or truncated sentences.",
  naturalness:
    "It reads like a person explaining their reasoning, not like a template or a copy of the context.",
  readability:
    "It is easy to follow: clear sentences of sensible length, without clutter or needless jargon.",
};

export function isAspect(name: string): name is AspectName {
  return (ASPECTS as readonly string[]).includes(name);
}
