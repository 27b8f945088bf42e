import type { Paragraph } from "../example";
import { splitSentences } from "../lexical/index";

/** What a rendered prompt says, read back (for models that work from prompt text alone). */
export interface ParsedPrompt {
  question: string;
  /** Paragraphs from the `Context:` block (`Title: sentence sentence …` lines). */
  context: Paragraph[];
  /** The rationale given in the prompt (`Reasoning: …` followed by text), if any. */
  rationale?: string;
  /** What the instructions ask the reply to look like. */
  replyFormat: "answer" | "reasoning-prediction" | "rationale";
}

/**
 * Reads question, context and rationale back out of a prompt written by this package's templates
 * (the last `Question:` block wins, so few-shot exemplars before it are ignored). Returns undefined
 * when the text has no `Question:` line.
 */
export function parsePrompt(prompt: string, system = ""): ParsedPrompt | undefined {
  const at = prompt.lastIndexOf("Question: ");
  if (at < 0) return undefined;
  const tail = prompt.slice(at);
  const question = (/^Question: (.*)$/m.exec(tail)?.[1] ?? "").trim();
  const contextBlock = /\nContext:\n([\s\S]*?)(?:\n\n|$)/.exec(tail)?.[1] ?? "";
  const context = contextBlock
    .split("\n")
    .filter((l) => l.includes(": "))
    .map((line) => {
      const colon = line.indexOf(": ");
      const body = line.slice(colon + 2).replace(/\(\d+\) /g, "");
      return { title: line.slice(0, colon), sentences: splitSentences(body) };
    });
  const reasoning = /\n\nReasoning: ([\s\S]*?)\n\n(?:Answer|Prediction):/.exec(tail)?.[1]?.trim();
  const wantsReasoning = /Prediction:/.test(system) || /Prediction:/.test(prompt.slice(0, at));
  const replyFormat = /\n\nReasoning:\s*$/.test(tail)
    ? "rationale"
    : wantsReasoning
      ? "reasoning-prediction"
      : "answer";
  return { question, context, ...(reasoning ? { rationale: reasoning } : {}), replyFormat };
}
