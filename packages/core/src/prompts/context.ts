import type { Example, Paragraph } from "../example";
import { contentWords } from "../lexical/index";

/** Counts tokens in a text; plug in the model's tokenizer for exact budgets. */
export type TokenCounter = (text: string) => number;

/**
 * The default token count: ceil(characters / 4), the usual rule of thumb for English BPE vocabularies
 * (GPT-style and T5's SentencePiece land within ~20% on Wikipedia text). Use a real tokenizer when the
 * budget is tight.
 */
export const approximateTokens: TokenCounter = (text) => Math.ceil(text.length / 4);

export interface ContextOptions {
  /**
   * Which paragraphs: all of them (the distractor setting, default), only the gold supporting ones,
   * or the top k by lexical overlap with the question.
   */
  paragraphs?: "all" | "supporting" | { topK: number };
  /** Prefix each sentence with its index `(0)`, as supporting facts count them. */
  numberSentences?: boolean;
  /** Token budget for the whole context; whole sentences only, supporting paragraphs kept first. */
  maxTokens?: number;
  countTokens?: TokenCounter;
}

function supportingTitles(example: Example): Set<string> {
  return new Set((example.supportingFacts ?? []).map((f) => f.title));
}

/** Paragraph indices to show, in dataset order. */
export function selectParagraphs(example: Example, choice: ContextOptions["paragraphs"] = "all"): number[] {
  const all = example.context.map((_, i) => i);
  if (choice === "all") return all;
  if (choice === "supporting") {
    const gold = supportingTitles(example);
    if (gold.size === 0) return all;
    return all.filter((i) => gold.has(example.context[i]!.title));
  }
  const question = new Set(contentWords(example.question));
  const scored = all.map((i) => {
    const p = example.context[i]!;
    const words = new Set(contentWords(`${p.title} ${p.sentences.join(" ")}`));
    let overlap = 0;
    for (const w of question) if (words.has(w)) overlap++;
    return { i, overlap };
  });
  scored.sort((a, b) => b.overlap - a.overlap || a.i - b.i);
  return scored
    .slice(0, Math.max(0, choice.topK))
    .map((s) => s.i)
    .sort((a, b) => a - b);
}

function renderParagraph(p: Paragraph, sentences: number[], numbered: boolean): string {
  const body = sentences
    .map((s) => {
      const text = p.sentences[s]!.trim();
      return numbered ? `(${s}) ${text}` : text;
    })
    .join(" ");
  return `${p.title}: ${body}`;
}

function render(example: Example, chosen: Map<number, number[]>, numbered: boolean): string {
  return [...chosen.keys()]
    .sort((a, b) => a - b)
    .filter((i) => chosen.get(i)!.length > 0)
    .map((i) => renderParagraph(example.context[i]!, chosen.get(i)!, numbered))
    .join("\n");
}

/**
 * The context block of every prompt: one line per paragraph, `Title: sentence sentence …`, in dataset
 * order. With a token budget, paragraphs are filled sentence by sentence, supporting paragraphs
 * first; a sentence that does not fit is never cut, it is left out with the rest of its paragraph,
 * and distractor paragraphs are added only once every supporting paragraph is complete.
 */
export function formatContext(example: Example, options: ContextOptions = {}): string {
  const numbered = options.numberSentences ?? false;
  const indices = selectParagraphs(example, options.paragraphs);
  const everything = new Map(indices.map((i) => [i, example.context[i]!.sentences.map((_, s) => s)]));
  if (options.maxTokens === undefined) return render(example, everything, numbered);

  const count = options.countTokens ?? approximateTokens;
  const budget = options.maxTokens;
  const gold = supportingTitles(example);
  const priority = [...indices].sort((a, b) => {
    const ga = gold.has(example.context[a]!.title) ? 0 : 1;
    const gb = gold.has(example.context[b]!.title) ? 0 : 1;
    return ga - gb || a - b;
  });
  const chosen = new Map<number, number[]>();
  let goldComplete = true;
  for (const i of priority) {
    const isGold = gold.has(example.context[i]!.title);
    if (!isGold && !goldComplete) break;
    const sentences = example.context[i]!.sentences;
    const taken: number[] = [];
    chosen.set(i, taken);
    for (let s = 0; s < sentences.length; s++) {
      taken.push(s);
      if (count(render(example, chosen, numbered)) > budget) {
        taken.pop();
        if (isGold) goldComplete = false;
        break;
      }
    }
  }
  return render(example, chosen, numbered);
}
