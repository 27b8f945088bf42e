const MARKER = /(?:final answer|short answer|answer|prediction)\s*(?:is)?\s*[:：]/gi;
const LEAD_INS = [
  /^(?:so,?\s+|therefore,?\s+|thus,?\s+|hence,?\s+)/i,
  /^(?:the\s+)?(?:final\s+|short\s+)?answer\s+(?:is|would be|should be)\s*:?\s*/i,
  /^it\s+(?:is|was)\s+/i,
];
const TRAILERS = [
  /,\s+(?:which|who|because|since|as)\b.*$/i,
  /\s+(?:because|since|as stated|as mentioned|according to|which is|who is|who was|which was)\b.*$/i,
  /\s+[-–—]\s+.*$/,
  /\s*\((?:because|since|as|see|from|according)[^)]*\)\s*$/i,
];

function afterLastMarker(text: string): string | undefined {
  let last: RegExpExecArray | undefined;
  for (const m of text.matchAll(MARKER)) last = m as RegExpExecArray;
  if (!last) return undefined;
  const rest = text.slice(last.index + last[0].length);
  const lines = rest.split("\n").map((l) => l.trim());
  return lines.find((l) => l.length > 0) ?? "";
}

function unwrap(span: string): string {
  let s = span.trim();
  for (;;) {
    const before = s;
    s = s
      .replace(/^\*\*(.*)\*\*$/s, "$1")
      .replace(/^__(.*)__$/s, "$1")
      .replace(/^`(.*)`$/s, "$1");
    s = s.replace(/^["'“‘«](.*)["'”’»]$/s, "$1").trim();
    s = s.replace(/^\*\*|\*\*$/g, "").trim();
    if (s === before) return s;
  }
}

const ABBREVIATIONS = new Set([
  "st",
  "mr",
  "mrs",
  "ms",
  "dr",
  "jr",
  "sr",
  "inc",
  "co",
  "ltd",
  "vs",
  "mt",
  "ft",
  "no",
  "vol",
]);

/** The span up to the first sentence-ending period ("U.S. Army" and "St. Louis" stay whole). */
function firstSentence(span: string): string {
  for (const m of span.matchAll(/\.(?=\s+\S|$)/g)) {
    const word = /([\p{L}\p{N}]+)$/u.exec(span.slice(0, m.index))?.[1] ?? "";
    const initial = word.length === 1 && word === word.toUpperCase();
    if (!initial && !ABBREVIATIONS.has(word.toLowerCase()) && m.index > 0) return span.slice(0, m.index);
  }
  return span;
}

/**
 * Turns a large LM's reply into the short answer span: reads after the last `Answer:` /
 * `Prediction:` marker (else the first line), drops lead-ins ("The answer is"), trailing
 * explanations ("because …", "— …"), markdown, quotes and the final period; "Yes, they are" → "yes".
 */
export function extractAnswer(text: string): string {
  const source = afterLastMarker(text) ?? text.split("\n").find((l) => l.trim().length > 0) ?? "";
  let span = unwrap(source);
  for (const lead of LEAD_INS) span = span.replace(lead, "");
  span = unwrap(span);
  const yesNo = /^(yes|no)\b[\s,.!;:]*/i.exec(span);
  if (yesNo) return yesNo[1]!.toLowerCase();
  span = firstSentence(span);
  for (const trailer of TRAILERS) span = span.replace(trailer, "");
  return unwrap(span.replace(/[.。,;:]+$/, ""));
}

/** A teacher reply split into its rationale and prediction, or why that failed. */
export type TeacherOutput = { rationale: string; prediction: string } | { error: string };

/** Parses `Reasoning: … Prediction: …` (the teacher and CoT format). Never throws. */
export function parseTeacherOutput(text: string): TeacherOutput {
  if (text.trim() === "") return { error: "empty reply" };
  const predictionAt = text.search(/prediction\s*[:：]/i);
  if (predictionAt < 0) return { error: "no `Prediction:` in the reply" };
  const before = text.slice(0, predictionAt);
  const rationale = before.replace(/^[\s\S]*?reasoning\s*[:：]\s*/i, "").trim();
  const prediction = extractAnswer(text.slice(predictionAt));
  if (rationale === "") return { error: "empty rationale before `Prediction:`" };
  if (prediction === "") return { error: "empty prediction after `Prediction:`" };
  return { rationale, prediction };
}
