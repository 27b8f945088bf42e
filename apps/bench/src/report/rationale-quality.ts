import { join } from "node:path";
import { bootstrapCI, type ConfidenceInterval, type PairedTestResult, pairedTest } from "@lmcot/metrics";
import type { BenchRecord } from "../grid";
import { Column, type RunColumns, readRows, scanRun } from "../run-scan";
import { type Correlation, pearson } from "./correlation";
import { type Claim, isRl } from "./data";
import { type RewardTable, readRewardTable } from "./reward-table";

/** Per LM-guided cell: the rationales' aspect scores (each in [0, 1]) and R_aspect, means with 95% CIs. */
export interface RationaleCell {
  cell: string;
  small: string;
  dataset: string;
  large: string;
  seed: number;
  /** LM-guided items with a reward row / without one. */
  scored: number;
  unscored: number;
  aspects: Record<string, ConfidenceInterval | null>;
  rAspect: ConfidenceInterval | null;
  f1: number;
}

/** KD+RL against KD on the same questions: a paired test per aspect, on R_aspect and on F1. */
export interface RationalePair {
  dataset: string;
  large: string;
  seed: number;
  kd: string;
  rl: string;
  n: number;
  aspects: Record<string, PairedTestResult | null>;
  rAspect: PairedTestResult | null;
  f1: PairedTestResult | null;
}

/** How an aspect (or R_aspect) goes with the item's answer, over every scored LM-guided item. */
export interface AspectCorrelation {
  aspect: string;
  /** Point-biserial (Pearson with the 0/1 EM). */
  em: Correlation | null;
  f1: Correlation | null;
}

export interface RationaleSide {
  answer: string;
  em: number;
  rationale: string;
  rAspect: number | null;
}

/** An item whose answer RL changed: KD's and KD+RL's rationale and answer side by side. */
export interface RationaleExample {
  change: "wrong → right" | "right → wrong";
  dataset: string;
  exampleId: string;
  question: string;
  gold: string;
  kd: RationaleSide;
  rl: RationaleSide;
}

export interface RationaleQuality {
  aspects: string[];
  cells: RationaleCell[];
  pairs: RationalePair[];
  correlations: AspectCorrelation[];
  claim: Claim;
  examples: RationaleExample[];
  /** Why scores may not measure quality (an offline judge), when that is so. */
  note?: string;
}

/** How many examples of each kind of change the report shows. */
const EXAMPLES_PER_CHANGE = 5;

const finite = (x: number | null | undefined): x is number => typeof x === "number" && Number.isFinite(x);
const ci = (xs: number[]) => (xs.length ? bootstrapCI(xs, { seed: 0 }) : null);
const paired = (a: number[], b: number[]) =>
  a.length ? pairedTest(a, b, { method: "paired-bootstrap", seed: 0, resamples: 2000 }) : null;

/** A run's columns with each row's reward row (-1: none). */
interface Scored {
  c: RunColumns;
  rewards: RewardTable;
  rewardOf: Int32Array;
}

type Value = (row: number) => number | undefined;

function summarizeCell(s: Scored, rows: number[], aspects: string[]): RationaleCell {
  const cell = s.c.cells[s.c.cell[rows[0]!]!]!;
  const withReward = rows.map((r) => s.rewardOf[r]!).filter((w) => w >= 0);
  const aspect = (a: string) => s.rewards.aspects[s.rewards.aspectNames.indexOf(a)];
  return {
    cell: cell.id,
    small: cell.small?.label ?? "",
    dataset: cell.dataset,
    large: cell.large,
    seed: cell.seed,
    scored: withReward.length,
    unscored: rows.length - withReward.length,
    aspects: Object.fromEntries(
      aspects.map((a) => [a, ci(withReward.map((w) => aspect(a)?.[w]).filter(finite))]),
    ),
    rAspect: ci(withReward.map((w) => s.rewards.rAspect[w]).filter(finite)),
    f1: rows.reduce((sum, r) => sum + s.c.f1[r]!, 0) / rows.length,
  };
}

/** A cell's rows by example (the last row of an example counting), in order of first appearance. */
function byExample(s: Scored, rows: number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const r of rows) out.set(s.c.example[r]!, r);
  return out;
}

/** Paired columns of `value` over the questions both cells answered and both have a value for. */
function columns(kd: Map<number, number>, rl: Map<number, number>, value: Value): [number[], number[]] {
  const a: number[] = [];
  const b: number[] = [];
  for (const [id, r] of rl) {
    const k = kd.get(id);
    const x = value(r);
    const y = k === undefined ? undefined : value(k);
    if (k !== undefined && finite(x) && finite(y)) {
      a.push(x);
      b.push(y);
    }
  }
  return [a, b];
}

function side(r: BenchRecord, s: Scored, row: number): RationaleSide {
  const w = s.rewardOf[row]!;
  const rAspect = w >= 0 ? s.rewards.rAspect[w]! : Number.NaN;
  return {
    answer: r.answer,
    em: r.em,
    rationale: r.rationale ?? "",
    rAspect: Number.isNaN(rAspect) ? null : rAspect,
  };
}

function judgeClaim(pairs: RationalePair[], minN: number): Claim {
  const claim = "RL yields higher-quality rationales (R_aspect of KD+RL above KD's, paired).";
  const tested = pairs.filter((p) => p.rAspect);
  const evidence =
    tested
      .map((p) => {
        const t = p.rAspect!;
        return `${p.rl} vs ${p.kd} on ${p.dataset} (${p.large}): ΔR_aspect ${t.meanDiff >= 0 ? "+" : ""}${t.meanDiff.toFixed(3)}, 95% CI [${t.ci.low.toFixed(3)}, ${t.ci.high.toFixed(3)}], p = ${t.pValue.toFixed(3)}, n = ${t.n}`;
      })
      .join("; ") || "no KD vs KD+RL pair with scored rationales in this run";
  if (tested.length === 0) return { claim, verdict: "not tested in this run", evidence };
  const enough = tested.filter((p) => p.rAspect!.n >= minN).map((p) => p.rAspect!);
  if (enough.length === 0)
    return {
      claim,
      verdict: `too few questions (n = ${Math.max(...tested.map((p) => p.rAspect!.n))})`,
      evidence,
    };
  const supported = enough.every((t) => t.pValue < 0.05 && t.meanDiff > 0);
  return { claim, verdict: supported ? "supported" : "not supported", evidence };
}

/**
 * The paper's rationale-quality analysis from a run directory: its run.jsonl and the `rewards*.jsonl`
 * rows `lmcot rewards score` wrote beside it. Undefined when no LM-guided item has a reward row.
 */
export async function buildRationaleQuality(
  runDir: string,
  minN: number,
): Promise<RationaleQuality | undefined> {
  const rewards = await readRewardTable(runDir);
  if (rewards.rows === 0) return undefined;
  return rationaleQualityFrom(await scanScored(runDir, rewards), minN);
}

/** Streams run.jsonl into its columns, noting each row's reward row. */
export async function scanScored(runDir: string, rewards: RewardTable): Promise<Scored> {
  const rewardOf = new Column((n) => new Int32Array(n));
  const c = await scanRun(join(runDir, "run.jsonl"), (r) => rewardOf.push(rewards.find(r.key)));
  return { c, rewards, rewardOf: rewardOf.view() };
}

/** The rationale-quality section from the run's columns and reward rows. */
export function rationaleQualityFrom(s: Scored, minN: number): RationaleQuality | undefined {
  const { c, rewards, rewardOf } = s;
  const cellOf = (row: number) => c.cells[c.cell[row]!]!;
  const guided: number[] = [];
  for (let row = 0; row < c.rows; row++) if (cellOf(row).method === "lm-guided") guided.push(row);
  const scored = guided.filter((r) => rewardOf[r]! >= 0);
  if (scored.length === 0) return undefined;
  const aspects = [...new Set(scored.flatMap((r) => rewards.shapes[rewards.shape[rewardOf[r]!]!]!))];
  const byCell = new Map<number, number[]>();
  for (const r of guided) {
    const rows = byCell.get(c.cell[r]!);
    if (rows) rows.push(r);
    else byCell.set(c.cell[r]!, [r]);
  }
  const cells = [...byCell.values()].map((rows) => summarizeCell(s, rows, aspects));

  const rewardValue =
    (column: number[] | undefined): Value =>
    (r) => {
      const w = rewardOf[r]!;
      return w >= 0 && column ? column[w] : undefined;
    };
  const aspectOf = (a: string) => rewardValue(rewards.aspects[rewards.aspectNames.indexOf(a)]);
  const rAspectOf = rewardValue(rewards.rAspect);
  const pairs: RationalePair[] = [];
  const changes: { change: RationaleExample["change"]; rl: number; kd: number }[] = [];
  const groups = new Map<string, number[][]>();
  const pairKey = (rows: number[]) => {
    const cell = cellOf(rows[0]!);
    return `${cell.dataset}|${cell.large}|${cell.seed}`;
  };
  for (const rows of byCell.values()) groups.set(pairKey(rows), [...(groups.get(pairKey(rows)) ?? []), rows]);
  const label = (rows: number[]) => cellOf(rows[0]!).small!.label;
  for (const group of groups.values())
    for (const rlCell of group.filter((rows) => isRl(label(rows))))
      for (const kdCell of group.filter((rows) => !isRl(label(rows)))) {
        const rl = byExample(s, rlCell);
        const kd = byExample(s, kdCell);
        const rAspect = columns(kd, rl, rAspectOf);
        const f1 = columns(kd, rl, (r) => (rewardOf[r]! >= 0 ? c.f1[r] : undefined));
        const first = cellOf(rlCell[0]!);
        pairs.push({
          dataset: first.dataset,
          large: first.large,
          seed: first.seed,
          kd: label(kdCell),
          rl: label(rlCell),
          n: rAspect[0].length,
          aspects: Object.fromEntries(aspects.map((a) => [a, paired(...columns(kd, rl, aspectOf(a)))])),
          rAspect: paired(...rAspect),
          f1: paired(...f1),
        });
        for (const [id, r] of rl) {
          const k = kd.get(id);
          if (k === undefined || c.em[k] === c.em[r]) continue;
          changes.push({ change: c.em[r]! > c.em[k]! ? "wrong → right" : "right → wrong", rl: r, kd: k });
        }
      }
  const shown = [
    ...changes.filter((e) => e.change === "wrong → right").slice(0, EXAMPLES_PER_CHANGE),
    ...changes.filter((e) => e.change === "right → wrong").slice(0, EXAMPLES_PER_CHANGE),
  ];
  const texts = readRows(
    c,
    shown.flatMap((e) => [e.rl, e.kd]),
  );
  const examples = shown.map((e, i): RationaleExample => {
    const [rl, kd] = [texts[2 * i]!, texts[2 * i + 1]!];
    return {
      change: e.change,
      dataset: rl.cell.dataset,
      exampleId: rl.exampleId,
      question: rl.question,
      gold: rl.gold[0] ?? "",
      kd: side(kd, s, e.kd),
      rl: side(rl, s, e.rl),
    };
  });

  const correlations = [...aspects, "R_aspect"].map((a) => {
    const value = a === "R_aspect" ? rAspectOf : aspectOf(a);
    const items = scored.filter((r) => finite(value(r)));
    const x = items.map((r) => value(r) as number);
    return {
      aspect: a,
      em:
        pearson(
          x,
          items.map((r) => c.em[r]!),
        ) ?? null,
      f1:
        pearson(
          x,
          items.map((r) => c.f1[r]!),
        ) ?? null,
    };
  });
  const offline = scored.some((r) => cellOf(r).large.startsWith("extractive:"));
  return {
    aspects,
    cells,
    pairs,
    correlations,
    claim: judgeClaim(pairs, minN),
    examples,
    ...(offline
      ? {
          note: "The large LM is an offline stand-in; if the judge was too (extractive:judge, surface features), the aspect scores show the pipeline working, not rationale quality.",
        }
      : {}),
  };
}
