import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  evidenceScore,
  evidenceScoreV10,
  normalizeAnswer,
  type OfficialGold,
  officialEval,
  pythonRound,
  scoreAnswer,
  supportingFactScore,
} from "../src/index";

const golden = (name: string) => join(__dirname, "golden", name);
const jsonl = <T>(name: string): T[] =>
  readFileSync(golden(name), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as T);
const close = (actual: number, expected: number) =>
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1e-9);

interface AnswerCase {
  dataset: string;
  id: string;
  case?: string;
  prediction: string;
  gold: string | string[];
  em: number;
  f1: number;
  precision: number;
  recall: number;
  normalized_prediction?: string;
  normalized_gold?: string;
}

describe("answer metrics match the official scripts on every golden case", () => {
  const cases = [
    ...jsonl<AnswerCase>("metric_golden.jsonl"),
    ...jsonl<AnswerCase>("metric_golden_more.jsonl"),
  ];
  it(`has the expected number of cases (${cases.length})`, () => {
    expect(cases.length).toBe(1279 + 1172);
  });
  it("EM, F1, precision and recall agree to 1e-9", () => {
    const failures: string[] = [];
    for (const c of cases) {
      const s = scoreAnswer(c.prediction, c.gold);
      const ok =
        Math.abs(s.em - c.em) <= 1e-9 &&
        Math.abs(s.f1 - c.f1) <= 1e-9 &&
        Math.abs(s.precision - c.precision) <= 1e-9 &&
        Math.abs(s.recall - c.recall) <= 1e-9;
      if (!ok)
        failures.push(
          `${c.dataset}/${c.id}/${c.case}: ${JSON.stringify(c.prediction)} vs ${JSON.stringify(c.gold)} → ${JSON.stringify(s)}`,
        );
    }
    expect(failures).toEqual([]);
  });
  it("normalised strings agree where recorded (unicode, whitespace, punctuation)", () => {
    const recorded = cases.filter((c) => c.normalized_prediction !== undefined);
    expect(recorded.length).toBe(48);
    for (const c of recorded) {
      expect(normalizeAnswer(c.prediction), JSON.stringify(c.prediction)).toBe(c.normalized_prediction);
      expect(normalizeAnswer(c.gold as string), JSON.stringify(c.gold)).toBe(c.normalized_gold);
    }
  });
});

describe("supporting facts", () => {
  type Sp = {
    prediction_sp: [string, number][];
    gold_sp: [string, number][];
    hotpot: Record<string, number>;
    twowiki_rule: Record<string, number>;
  };
  const cases = jsonl<Sp>("metric_golden_sp.jsonl");
  it(`all ${cases.length} cases, by the HotpotQA rule and the 2Wiki rule`, () => {
    expect(cases.length).toBe(456);
    for (const c of cases) {
      for (const [rule, want] of [
        ["hotpotqa", c.hotpot],
        ["2wikimultihopqa", c.twowiki_rule],
      ] as const) {
        const s = supportingFactScore(c.prediction_sp, c.gold_sp, rule);
        close(s.em, want.em!);
        close(s.f1, want.f1!);
        close(s.precision, want.precision!);
        close(s.recall, want.recall!);
      }
    }
  });
});

describe("2Wiki evidence", () => {
  type Ev = {
    case: string;
    prediction_evidence: [string, string, string][];
    gold_evidences?: [string, string, string][];
    gold_evidences_alias_expanded?: [string, string, string][][];
    v1_1: Record<string, number>;
    v1_0?: Record<string, number>;
  };
  const cases = jsonl<Ev>("metric_golden_evidence.jsonl");
  it("v1.1 (with the recall > 1 quirk) and v1.0", () => {
    expect(cases.length).toBe(10);
    for (const c of cases) {
      const slots = c.gold_evidences_alias_expanded ?? c.gold_evidences!.map((t) => [t]);
      const s = evidenceScore(c.prediction_evidence, slots);
      for (const k of ["em", "f1", "precision", "recall"] as const) close(s[k], c.v1_1[k]!);
      if (c.v1_0) {
        const v0 = evidenceScoreV10(c.prediction_evidence, c.gold_evidences!);
        for (const k of ["em", "f1", "precision", "recall"] as const) close(v0[k], c.v1_0[k]!);
      }
    }
    expect(cases.some((c) => c.v1_1.recall! > 1)).toBe(true);
  });
});

describe("whole-file eval()", () => {
  it("HotpotQA: every printed metric and every missing line", () => {
    const agg = JSON.parse(readFileSync(golden("metric_golden_aggregate_hotpot.json"), "utf8"));
    const records = new Map(jsonl<OfficialGold>("hotpotqa_dev_sample.jsonl").map((r) => [r._id, r]));
    const gold = (agg.gold_ids as string[]).map((id) => records.get(id)!);
    const result = officialEval("hotpotqa", gold, agg.prediction);
    for (const [k, v] of Object.entries(agg.metrics as Record<string, number>)) {
      close((result.metrics as unknown as Record<string, number>)[k]!, v);
    }
    expect(result.missing).toEqual(agg.stdout_missing_lines);
  });

  it("2WikiMultiHopQA v1.1: aliases, evidence, joint, rounded percentages", () => {
    const agg = JSON.parse(readFileSync(golden("metric_golden_aggregate_2wiki.json"), "utf8"));
    const aliases = new Map<string, string[]>(
      (agg.aliases_jsonl as { Q_id: string; aliases: string[]; demonyms: string[] }[]).map((a) => [
        a.Q_id,
        [...a.aliases, ...a.demonyms],
      ]),
    );
    const result = officialEval("2wikimultihopqa", agg.gold, agg.prediction, aliases);
    for (const [k, v] of Object.entries(agg.metrics_percent_rounded as Record<string, number>)) {
      expect(pythonRound((result.metrics as unknown as Record<string, number>)[k]! * 100, 2), k).toBe(v);
    }
  });
});

describe("pythonRound", () => {
  it("rounds the exact binary value half to even, like Python", () => {
    expect(pythonRound(83.33333333333333, 2)).toBe(83.33);
    expect(pythonRound(0.125, 2)).toBe(0.12);
    expect(pythonRound(0.375, 2)).toBe(0.38);
    expect(pythonRound(2.675, 2)).toBe(2.67);
    expect(pythonRound(62.5, 2)).toBe(62.5);
    expect(pythonRound(100, 2)).toBe(100);
    expect(pythonRound(-1.005, 2)).toBe(-1);
  });
});
