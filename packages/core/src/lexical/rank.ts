import type { Paragraph } from "../example";
import { bm25, contentWords } from "./text";

/** A context sentence with where it came from and how well it matches a query. */
export interface RankedSentence {
  title: string;
  paragraph: number;
  index: number;
  text: string;
  score: number;
}

/**
 * Ranks every context sentence by BM25 against the query (plus `extra` query text, e.g. a
 * rationale, at equal weight), with a bonus for sentences whose paragraph title the query mentions.
 */
export function rankSentences(query: string, context: readonly Paragraph[], extra = ""): RankedSentence[] {
  const flat = context.flatMap((p, paragraph) =>
    p.sentences.map((text, index) => ({ title: p.title, paragraph, index, text: text.trim() })),
  );
  const docs = flat.map((s) => contentWords(`${s.title} ${s.text}`));
  const q = contentWords(query);
  const main = bm25(q, docs);
  const side = extra ? bm25(contentWords(extra), docs) : [];
  const qSet = new Set(q);
  return flat
    .map((s, i) => {
      const titleWords = contentWords(s.title);
      const titleHit = titleWords.length > 0 && titleWords.every((w) => qSet.has(w)) ? 1.5 : 0;
      return { ...s, score: main[i]! + (side[i] ?? 0) + titleHit + (s.index === 0 ? 0.2 : 0) };
    })
    .sort((a, b) => b.score - a.score || a.paragraph - b.paragraph || a.index - b.index);
}
