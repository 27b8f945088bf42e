import type { EvidenceTriple } from "@lmcot/core";
import { scoreAnswer } from "./answer";
import { evidenceScore, evidenceSlots, type FactPair, type SetScore, supportingFactScore } from "./facts";

/** The official prediction file: `{ answer: {id: text}, sp: {id: [[title, idx]]}, evidence?: {...} }`. */
export interface OfficialPrediction {
  answer?: Record<string, string>;
  sp?: Record<string, FactPair[]>;
  evidence?: Record<string, EvidenceTriple[]>;
}

/** A gold record as the official scripts read it (the fields they use). */
export interface OfficialGold {
  _id: string;
  answer: string;
  supporting_facts?: FactPair[];
  answer_id?: string | null;
  evidences?: EvidenceTriple[];
  evidences_id?: string[][];
}

/** The metrics `eval()` prints, as fractions in [0, 1] (the 2Wiki script prints percentages). */
export interface OfficialMetrics {
  em: number;
  f1: number;
  prec: number;
  recall: number;
  sp_em: number;
  sp_f1: number;
  sp_prec: number;
  sp_recall: number;
  evi_em?: number;
  evi_f1?: number;
  evi_prec?: number;
  evi_recall?: number;
  joint_em: number;
  joint_f1: number;
  joint_prec: number;
  joint_recall: number;
}

export interface OfficialResult {
  metrics: OfficialMetrics;
  /** Per gold record, in gold order: answer EM and F1 (0 when the answer is missing), for CIs and paired tests. */
  items: { id: string; em: number; f1: number }[];
  /** The script's "missing answer <id>" / "missing sp fact <id>" / "missing evidence <id>" lines. */
  missing: string[];
  /** Number of gold records (the denominator). */
  n: number;
}

function zeroMetrics(withEvidence: boolean): OfficialMetrics {
  const m: OfficialMetrics = {
    em: 0,
    f1: 0,
    prec: 0,
    recall: 0,
    sp_em: 0,
    sp_f1: 0,
    sp_prec: 0,
    sp_recall: 0,
    joint_em: 0,
    joint_f1: 0,
    joint_prec: 0,
    joint_recall: 0,
  };
  if (withEvidence) Object.assign(m, { evi_em: 0, evi_f1: 0, evi_prec: 0, evi_recall: 0 });
  return m;
}

function addSet(m: OfficialMetrics, prefix: "sp" | "evi", s: SetScore) {
  if (prefix === "sp") {
    m.sp_em += s.em;
    m.sp_f1 += s.f1;
    m.sp_prec += s.precision;
    m.sp_recall += s.recall;
  } else {
    m.evi_em! += s.em;
    m.evi_f1! += s.f1;
    m.evi_prec! += s.precision;
    m.evi_recall! += s.recall;
  }
}

/** A missing prediction's scores, and a missing dataset part's (HotpotQA has no evidence): read only. */
const NONE: SetScore = Object.freeze({ em: 0, f1: 0, precision: 0, recall: 0 });
const ALL: SetScore = Object.freeze({ em: 1, f1: 1, precision: 1, recall: 1 });

/**
 * `eval()` of the official scripts over a whole prediction file: averages over the **gold** records,
 * a missing prediction counts 0 and is listed. `hotpotqa` follows `hotpot_evaluate_v1.py`;
 * `2wikimultihopqa` follows `2wikimultihop_evaluate_v1.1.py` (aliases by Q-id, evidence, joint over
 * answer × SP × evidence), returning fractions rather than the script's rounded percentages.
 */
export function officialEval(
  dataset: "hotpotqa" | "2wikimultihopqa",
  gold: readonly OfficialGold[],
  prediction: OfficialPrediction,
  aliases: ReadonlyMap<string, readonly string[]> = new Map(),
): OfficialResult {
  const wiki = dataset === "2wikimultihopqa";
  const m = zeroMetrics(wiki);
  const missing: string[] = [];
  const items: OfficialResult["items"] = [];
  for (const dp of gold) {
    const id = dp._id;
    let joint = true;
    let answer: SetScore = NONE;
    let sp = NONE;
    let evi = ALL;
    if (!prediction.answer || !(id in prediction.answer)) {
      missing.push(`missing answer ${id}`);
      joint = false;
    } else {
      const more = wiki && dp.answer_id ? aliases.get(dp.answer_id) : undefined;
      const golds = more?.length ? [...new Set([dp.answer, ...more])] : dp.answer;
      const s = scoreAnswer(prediction.answer[id]!, golds);
      m.em += s.em;
      m.f1 += s.f1;
      m.prec += s.precision;
      m.recall += s.recall;
      answer = s;
    }
    items.push({ id, em: answer.em, f1: answer.f1 });
    if (!prediction.sp || !(id in prediction.sp)) {
      missing.push(`missing sp fact ${id}`);
      joint = false;
    } else {
      sp = supportingFactScore(prediction.sp[id]!, dp.supporting_facts ?? [], dataset);
      addSet(m, "sp", sp);
    }
    if (wiki) {
      if (!prediction.evidence || !(id in prediction.evidence)) {
        missing.push(`missing evidence ${id}`);
        joint = false;
      } else {
        evi = evidenceScore(
          prediction.evidence[id]!,
          evidenceSlots(dp.evidences ?? [], dp.evidences_id, aliases),
        );
        addSet(m, "evi", evi);
      }
    }
    if (joint) {
      const jp = answer.precision * sp.precision * evi.precision;
      const jr = answer.recall * sp.recall * evi.recall;
      m.joint_em += answer.em * sp.em * evi.em;
      m.joint_f1 += jp + jr > 0 ? (2 * jp * jr) / (jp + jr) : 0;
      m.joint_prec += jp;
      m.joint_recall += jr;
    }
  }
  const n = gold.length;
  const r = m as unknown as Record<string, number>;
  for (const k of Object.keys(r)) r[k] = n ? r[k]! / n : 0;
  return { metrics: m, items, missing, n };
}

/**
 * Python's `round(x, digits)`: the exact decimal value of the double, rounded half to even. The 2Wiki
 * script prints `round(metric / N * 100, 2)`.
 */
export function pythonRound(x: number, digits = 2): number {
  const exact = Math.abs(x).toFixed(60);
  const [int, frac = ""] = exact.split(".");
  const kept = `${int}${frac.slice(0, digits)}`;
  const rest = frac.slice(digits);
  let n = BigInt(kept);
  const half = `5${"0".repeat(rest.length - 1)}`;
  if (rest > half || (rest === half && n % 2n === 1n)) n += 1n;
  const s = n.toString().padStart(digits + 1, "0");
  const value = Number(`${s.slice(0, s.length - digits)}.${s.slice(s.length - digits)}`);
  return x < 0 ? -value : value;
}
