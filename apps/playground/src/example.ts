import { type Example, type Paragraph, splitSentences } from "@lmcot/core";

/** An example's context as the page shows it: one paragraph a block, its title on the first line. */
export function contextText(example: Example): string {
  return example.context.map((p) => `${p.title}:\n${p.sentences.join("").trim()}`).join("\n\n");
}

// HotpotQA keeps the space before each later sentence, so the sentences join back into the paragraph.
const sentencesOf = (text: string) => splitSentences(text).map((s, i) => (i ? ` ${s}` : s));

/** Pasted context → paragraphs: blocks split by a blank line; a first line ending in ":" is the title. */
export function paragraphsOf(text: string): Paragraph[] {
  return text
    .split(/\n\s*\n/)
    .map((block) => block.trim())
    .filter(Boolean)
    .map((block, i) => {
      const [first = "", ...rest] = block.split("\n");
      const titled = first.endsWith(":") && rest.length > 0;
      const body = (titled ? rest : [first, ...rest]).join(" ").replace(/\s+/g, " ").trim();
      return { title: titled ? first.slice(0, -1).trim() : `Passage ${i + 1}`, sentences: sentencesOf(body) };
    });
}

export interface ExampleForm {
  question: string;
  context: string;
  gold: string;
}

/**
 * The example to run: the picked one when its fields are as shown, else one made from the form
 * (an empty gold answer means no EM/F1).
 */
export function exampleFrom(form: ExampleForm, picked?: Example): Example {
  if (
    picked &&
    form.question.trim() === picked.question &&
    form.context.trim() === contextText(picked) &&
    form.gold.trim() === picked.answer
  )
    return picked;
  return {
    id: "pasted",
    dataset: "hotpotqa",
    question: form.question.trim(),
    answer: form.gold.trim(),
    context: paragraphsOf(form.context),
  };
}
