import type { EvidenceTriple } from "@lmcot/core";
import { normalizeEvidenceText } from "./normalize";

export interface SetScore {
  em: number;
  f1: number;
  precision: number;
  recall: number;
}

/** A supporting fact as the official files write it: `[title, sentence index]`. */
export type FactPair = readonly [title: string, sentence: number];

const keyOf = (title: string, sentence: number) => `${sentence}\u0000${title}`;

function fromCounts(tp: number, fp: number, fn: number): SetScore {
  const precision = tp + fp > 0 ? tp / (tp + fp) : 0;
  const recall = tp + fn > 0 ? tp / (tp + fn) : 0;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { em: fp + fn === 0 ? 1 : 0, f1, precision, recall };
}

/** Up to this many facts a list is searched; longer ones are hashed. */
const SHORT = 16;

const sameFact = (a: FactPair, b: FactPair) => a[1] === b[1] && a[0] === b[0];

/** Python's `set(map(tuple, facts))`, in first-seen order. */
function distinct(facts: readonly FactPair[]): FactPair[] {
  if (facts.length > SHORT) return [...new Map(facts.map((f) => [keyOf(f[0], f[1]), f])).values()];
  const out: FactPair[] = [];
  for (const f of facts) if (!out.some((g) => sameFact(f, g))) out.push(f);
  return out;
}

/** Membership in `list`, by search when it is short. */
function inList(list: readonly FactPair[]): (fact: FactPair) => boolean {
  if (list.length <= SHORT) return (fact) => list.some((g) => sameFact(fact, g));
  const keys = new Set(list.map((f) => keyOf(f[0], f[1])));
  return (fact) => keys.has(keyOf(fact[0], fact[1]));
}

/** Whether `fact` is among `list[0, end)`. */
function among(list: readonly FactPair[], end: number, fact: FactPair): boolean {
  for (let i = 0; i < end; i++) if (sameFact(list[i]!, fact)) return true;
  return false;
}

/** Distinct facts of `facts`, and how many of them are in `other`: short lists, searched, nothing built. */
function countIn(facts: readonly FactPair[], other: readonly FactPair[]): [distinct: number, found: number] {
  let distinct = 0;
  let found = 0;
  for (let i = 0; i < facts.length; i++) {
    const f = facts[i]!;
    if (among(facts, i, f)) continue;
    distinct++;
    if (among(other, other.length, f)) found++;
  }
  return [distinct, found];
}

/**
 * Supporting-fact precision / recall / F1 / EM. `hotpotqa` compares `(title, index)` sets exactly;
 * `2wikimultihopqa` (v1.1) lower-cases titles after de-duplicating, so two facts differing only in
 * case both count, as the official script counts them.
 */
export function supportingFactScore(
  prediction: readonly FactPair[],
  gold: readonly FactPair[],
  rule: "hotpotqa" | "2wikimultihopqa" = "hotpotqa",
): SetScore {
  if (rule === "hotpotqa" && prediction.length <= SHORT && gold.length <= SHORT) {
    const [predicted, tp] = countIn(prediction, gold);
    const [golds, matched] = countIn(gold, prediction);
    return fromCounts(tp, predicted - tp, golds - matched);
  }
  // De-duplicate the exact pairs first (Python's set), then lower-case for 2Wiki (which may collide).
  const lower = (facts: FactPair[]) =>
    rule === "hotpotqa" ? facts : facts.map(([t, s]): FactPair => [t.toLowerCase(), s]);
  const pred = lower(distinct(prediction));
  const golds = lower(distinct(gold));
  const inGold = inList(golds);
  const inPred = inList(pred);
  let tp = 0;
  let fn = 0;
  for (const p of pred) if (inGold(p)) tp++;
  for (const g of golds) if (!inPred(g)) fn++;
  return fromCounts(tp, pred.length - tp, fn);
}

const tripleKey = (t: readonly string[]) => JSON.stringify(t.map(normalizeEvidenceText));

/**
 * 2WikiMultiHopQA v1.1 evidence score. `goldSlots[i]` holds the gold triple `i` with every
 * subject / object alias combination. Each distinct predicted triple that matches any slot counts
 * once per prediction, so (as in the official script) recall can exceed 1.
 */
export function evidenceScore(
  prediction: readonly EvidenceTriple[],
  goldSlots: readonly (readonly EvidenceTriple[])[],
): SetScore {
  const preds = new Set(prediction.map(tripleKey));
  const slots = goldSlots.map((slot) => new Set(slot.map(tripleKey)));
  let matches = 0;
  for (const p of preds) if (slots.some((s) => s.has(p))) matches++;
  const precision = preds.size ? matches / preds.size : 0;
  const recall = slots.length ? matches / slots.length : 0;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { em: matches === preds.size && preds.size === slots.length ? 1 : 0, f1, precision, recall };
}

/** 2WikiMultiHopQA v1.0 evidence score: normalised triples compared as sets, no aliases. */
export function evidenceScoreV10(
  prediction: readonly EvidenceTriple[],
  gold: readonly EvidenceTriple[],
): SetScore {
  const pred = new Set(prediction.map(tripleKey));
  const golds = new Set(gold.map(tripleKey));
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (const p of pred) golds.has(p) ? tp++ : fp++;
  for (const g of golds) if (!pred.has(g)) fn++;
  return fromCounts(tp, fp, fn);
}

/** Expands gold triples with subject / object aliases (by the `evidences_id` Q-ids) into slots. */
export function evidenceSlots(
  evidences: readonly EvidenceTriple[],
  evidenceIds: readonly (readonly string[])[] | undefined,
  aliases: ReadonlyMap<string, readonly string[]> = new Map(),
): EvidenceTriple[][] {
  return evidences.map(([subject, relation, object], i) => {
    const ids = evidenceIds?.length ? evidenceIds[i] : undefined;
    const subjects = new Set([subject, ...(ids ? (aliases.get(ids[0]!) ?? []) : [])]);
    const objects = new Set([object, ...(ids ? (aliases.get(ids[2]!) ?? []) : [])]);
    return [...subjects].flatMap((s) => [...objects].map((o) => [s, relation, o] as EvidenceTriple));
  });
}
