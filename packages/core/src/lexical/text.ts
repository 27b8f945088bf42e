// Small lexical tools for the offline stand-in models (`extractive:*`) and for top-k context
// selection: tokenising, sentence splitting, BM25 scoring and candidate answer spans.

export const STOP_WORDS = new Set(
  (
    "a an the of in on at to for from by with and or but is are was were be been being which who whom whose what when where why how " +
    "did does do done that this these those as its it his her their they them he she him i we you our your my me " +
    "than then there here also not no yes if so such into onto about over under after before between both either " +
    "same other same one ones any all some many much more most less least first last has have had will would can could " +
    "may might shall should must"
  ).split(" "),
);

/** Lower-cased word tokens (letters and digits of any script). */
export function tokens(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** Tokens without stop words and one-letter words. */
export function contentWords(text: string): string[] {
  return tokens(text).filter((w) => w.length > 1 && !STOP_WORDS.has(w));
}

/** Splits text into sentences at `.`, `!` or `?` followed by a space and an upper-case letter or digit. */
export function splitSentences(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+(?=["'(\p{Lu}\p{N}])/u)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Okapi BM25 scores of each document for a query (k1 = 1.2, b = 0.75). */
export function bm25(query: readonly string[], documents: readonly (readonly string[])[]): number[] {
  const n = documents.length;
  const avg = documents.reduce((s, d) => s + d.length, 0) / Math.max(1, n);
  const df = new Map<string, number>();
  for (const d of documents) for (const w of new Set(d)) df.set(w, (df.get(w) ?? 0) + 1);
  const terms = [...new Set(query)];
  return documents.map((d) => {
    const tf = new Map<string, number>();
    for (const w of d) tf.set(w, (tf.get(w) ?? 0) + 1);
    let score = 0;
    for (const q of terms) {
      const f = tf.get(q);
      if (!f) continue;
      const idf = Math.log(1 + (n - (df.get(q) ?? 0) + 0.5) / ((df.get(q) ?? 0) + 0.5));
      score += (idf * f * 2.2) / (f + 1.2 * (1 - 0.75 + (0.75 * d.length) / Math.max(1, avg)));
    }
    return score;
  });
}

export type SpanKind = "entity" | "year" | "date" | "number";

export interface Span {
  text: string;
  kind: SpanKind;
  /** Character offset in the sentence. */
  start: number;
}

const PRONOUNS = new Set([
  "he",
  "she",
  "it",
  "they",
  "his",
  "her",
  "its",
  "their",
  "during",
  "since",
  "while",
  "although",
  "however",
  "after",
  "before",
  "when",
  "in",
  "on",
  "at",
]);
const MONTH_NAMES = new Set(
  "january february march april may june july august september october november december".split(" "),
);
const MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December";
const DATE = new RegExp(
  `\\b(?:\\d{1,2} (?:${MONTHS}) \\d{3,4}|(?:${MONTHS}) \\d{1,2}, \\d{3,4}|(?:${MONTHS}) \\d{3,4})\\b`,
  "g",
);
const YEAR = /\b(1[0-9]{3}|20[0-9]{2})\b/g;
const NUMBER = /\b\d[\d,]*(?:\.\d+)?(?: (?:million|billion|thousand|hundred))?\b/g;
// Runs of capitalised words, allowing lower-case connectors inside ("Chief of Protocol", "Kiss and Tell").
const ENTITY =
  /\p{Lu}[\p{L}\p{N}'’.-]*(?:\s+(?:(?:of|the|and|de|von|van|du|la|le|del|for|in|on)\s+)*\p{Lu}[\p{L}\p{N}'’.-]*)*/gu;

/** Candidate answer spans of a sentence: dates, years, numbers and capitalised entity names. */
export function candidateSpans(sentence: string): Span[] {
  const spans: Span[] = [];
  for (const m of sentence.matchAll(DATE)) spans.push({ text: m[0], kind: "date", start: m.index });
  for (const m of sentence.matchAll(YEAR)) spans.push({ text: m[0], kind: "year", start: m.index });
  for (const m of sentence.matchAll(NUMBER)) {
    if (!/^(1[0-9]{3}|20[0-9]{2})$/.test(m[0])) spans.push({ text: m[0], kind: "number", start: m.index });
  }
  for (const m of sentence.matchAll(ENTITY)) {
    let text = m[0].replace(/[.'’-]+$/, "");
    let start = m.index;
    // Drop a sentence-initial function word ("The", "In", "His") from the front of a name.
    const lead = /^(\p{Lu}[\p{L}]*)\s+/u.exec(text);
    if (lead && STOP_WORDS.has(lead[1]!.toLowerCase())) {
      text = text.slice(lead[0].length);
      start += lead[0].length;
    }
    const lower = text.toLowerCase();
    if (text.length > 1 && !STOP_WORDS.has(lower) && !PRONOUNS.has(lower) && !MONTH_NAMES.has(lower)) {
      spans.push({ text, kind: "entity", start });
      const head = / (?:of the|in the|for the) /.exec(text);
      if (head && head.index > 0) spans.push({ text: text.slice(0, head.index), kind: "entity", start });
    }
  }
  return spans;
}
