import { normalizeAnswer } from "./normalize";

/** Precision / recall / F1 of one answer, all in [0, 1]. */
export interface AnswerScore {
  em: number;
  f1: number;
  precision: number;
  recall: number;
}

const SPECIAL = new Set(["yes", "no", "noanswer"]);

/** 1 when the normalised strings are equal, else 0. */
export function exactMatch(prediction: string, gold: string): number {
  return normalizeAnswer(prediction) === normalizeAnswer(gold) ? 1 : 0;
}

/**
 * Token-overlap F1 as `hotpot_evaluate_v1.py`: 0 when either side normalises to yes / no /
 * noanswer and the two differ, or when no token overlaps.
 */
export function f1Score(prediction: string, gold: string): { f1: number; precision: number; recall: number } {
  return f1Normalized(normalizeAnswer(prediction), normalizeAnswer(gold));
}

/** The tokens of a normalised string: its words are already joined by single spaces. */
const tokens = (normalized: string) => (normalized === "" ? [] : normalized.split(" "));

function f1Normalized(p: string, g: string): { f1: number; precision: number; recall: number } {
  if ((SPECIAL.has(p) || SPECIAL.has(g)) && p !== g) return { f1: 0, precision: 0, recall: 0 };
  const predTokens = tokens(p);
  const goldTokens = tokens(g);
  // Counter(pred) & Counter(gold): each gold token is matched by one predicted token at most.
  let same = 0;
  let unmatched = goldTokens.length;
  for (const t of predTokens) {
    for (let j = 0; j < unmatched; j++) {
      if (goldTokens[j] !== t) continue;
      goldTokens[j] = goldTokens[--unmatched]!;
      same++;
      break;
    }
  }
  if (same === 0) return { f1: 0, precision: 0, recall: 0 };
  const precision = same / predTokens.length;
  const recall = same / goldTokens.length;
  return { f1: (2 * precision * recall) / (precision + recall), precision, recall };
}

/**
 * Scores an answer against one gold string or several (2WikiMultiHopQA aliases): each of EM, F1,
 * precision and recall is its own maximum over the golds, as the v1.1 script does.
 */
export function scoreAnswer(prediction: string, golds: string | readonly string[]): AnswerScore {
  const list = typeof golds === "string" ? [golds] : golds;
  const best: AnswerScore = { em: 0, f1: 0, precision: 0, recall: 0 };
  const p = normalizeAnswer(prediction);
  for (const gold of list) {
    const g = normalizeAnswer(gold);
    const { f1, precision, recall } = f1Normalized(p, g);
    best.em = Math.max(best.em, p === g ? 1 : 0);
    best.f1 = Math.max(best.f1, f1);
    best.precision = Math.max(best.precision, precision);
    best.recall = Math.max(best.recall, recall);
  }
  return best;
}
