import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { openRunStore } from "@lmcot/datasets";
import { bootstrapCI, type ConfidenceInterval, type PairedTestResult, pairedTest } from "@lmcot/metrics";
import type { BenchRecord } from "../grid";
import { type Correlation, pearson } from "./correlation";
import { type Claim, isRl, readRecords } from "./data";

/** One `lmcot rewards score --out` row, as far as the report reads it. */
interface RewardRow {
  key: string;
  aspectReward?: number | null;
  aspects?: Record<string, number | null>;
}

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

/** `rewards*.jsonl` beside the run, keyed by the bench record's key (as `lmcot view` reads them). */
async function readRewardRows(runDir: string): Promise<Map<string, RewardRow>> {
  const out = new Map<string, RewardRow>();
  if (!existsSync(runDir)) return out;
  const files = readdirSync(runDir).filter(
    (f) => /^rewards.*\.jsonl$/.test(f) && !f.endsWith(".errors.jsonl"),
  );
  for (const f of files) {
    const store = await openRunStore<RewardRow>(join(runDir, f));
    for await (const r of store.records()) if (typeof r.key === "string") out.set(r.key, r);
    await store.close();
  }
  return out;
}

const finite = (x: number | null | undefined): x is number => typeof x === "number" && Number.isFinite(x);
const ci = (xs: number[]) => (xs.length ? bootstrapCI(xs, { seed: 0 }) : null);
const paired = (a: number[], b: number[]) =>
  a.length ? pairedTest(a, b, { method: "paired-bootstrap", seed: 0, resamples: 2000 }) : null;
const pairKey = (r: BenchRecord) => `${r.cell.dataset}|${r.cell.large}|${r.cell.seed}`;

function summarizeCell(
  records: BenchRecord[],
  rewards: Map<string, RewardRow>,
  aspects: string[],
): RationaleCell {
  const first = records[0]!;
  const rows = records.map((r) => rewards.get(r.key)).filter((r): r is RewardRow => r !== undefined);
  return {
    cell: first.cell.id,
    small: first.cell.small?.label ?? "",
    dataset: first.cell.dataset,
    large: first.cell.large,
    seed: first.cell.seed,
    scored: rows.length,
    unscored: records.length - rows.length,
    aspects: Object.fromEntries(aspects.map((a) => [a, ci(rows.map((r) => r.aspects?.[a]).filter(finite))])),
    rAspect: ci(rows.map((r) => r.aspectReward).filter(finite)),
    f1: records.reduce((s, r) => s + r.f1, 0) / records.length,
  };
}

/** Paired columns of `value` over the questions both cells answered and both have a value for. */
function columns(
  kd: Map<string, BenchRecord>,
  rl: Map<string, BenchRecord>,
  value: (r: BenchRecord) => number | null | undefined,
): [number[], number[]] {
  const a: number[] = [];
  const b: number[] = [];
  for (const [id, r] of rl) {
    const k = kd.get(id);
    const x = value(r);
    const y = k && value(k);
    if (k && finite(x) && finite(y)) {
      a.push(x);
      b.push(y);
    }
  }
  return [a, b];
}

function side(r: BenchRecord, rewards: Map<string, RewardRow>): RationaleSide {
  return {
    answer: r.answer,
    em: r.em,
    rationale: r.rationale ?? "",
    rAspect: rewards.get(r.key)?.aspectReward ?? null,
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
  records?: BenchRecord[],
): Promise<RationaleQuality | undefined> {
  const rewards = await readRewardRows(runDir);
  if (rewards.size === 0) return undefined;
  const guided = (records ?? (await readRecords(runDir))).filter((r) => r.cell.method === "lm-guided");
  const scored = guided.filter((r) => rewards.has(r.key));
  if (scored.length === 0) return undefined;
  const aspects = [...new Set(scored.flatMap((r) => Object.keys(rewards.get(r.key)!.aspects ?? {})))];
  const byCell = new Map<string, BenchRecord[]>();
  for (const r of guided) byCell.set(r.cell.id, [...(byCell.get(r.cell.id) ?? []), r]);
  const cells = [...byCell.values()].map((rs) => summarizeCell(rs, rewards, aspects));

  const aspectOf = (a: string) => (r: BenchRecord) => rewards.get(r.key)?.aspects?.[a];
  const rAspectOf = (r: BenchRecord) => rewards.get(r.key)?.aspectReward;
  const pairs: RationalePair[] = [];
  const examples: RationaleExample[] = [];
  const groups = new Map<string, BenchRecord[][]>();
  for (const rs of byCell.values()) groups.set(pairKey(rs[0]!), [...(groups.get(pairKey(rs[0]!)) ?? []), rs]);
  for (const group of groups.values())
    for (const rlCell of group.filter((rs) => isRl(rs[0]!.cell.small!.label)))
      for (const kdCell of group.filter((rs) => !isRl(rs[0]!.cell.small!.label))) {
        const rl = new Map(rlCell.map((r) => [r.exampleId, r]));
        const kd = new Map(kdCell.map((r) => [r.exampleId, r]));
        const rAspect = columns(kd, rl, rAspectOf);
        const f1 = columns(kd, rl, (r) => (rewards.has(r.key) ? r.f1 : undefined));
        const first = rlCell[0]!.cell;
        pairs.push({
          dataset: first.dataset,
          large: first.large,
          seed: first.seed,
          kd: kdCell[0]!.cell.small!.label,
          rl: first.small!.label,
          n: rAspect[0].length,
          aspects: Object.fromEntries(aspects.map((a) => [a, paired(...columns(kd, rl, aspectOf(a)))])),
          rAspect: paired(...rAspect),
          f1: paired(...f1),
        });
        for (const [id, r] of rl) {
          const k = kd.get(id);
          if (!k || k.em === r.em) continue;
          examples.push({
            change: r.em > k.em ? "wrong → right" : "right → wrong",
            dataset: r.cell.dataset,
            exampleId: id,
            question: r.question,
            gold: r.gold[0] ?? "",
            kd: side(k, rewards),
            rl: side(r, rewards),
          });
        }
      }

  const correlations = [...aspects, "R_aspect"].map((a) => {
    const value = a === "R_aspect" ? rAspectOf : aspectOf(a);
    const items = scored.filter((r) => finite(value(r)));
    const x = items.map((r) => value(r) as number);
    return {
      aspect: a,
      em:
        pearson(
          x,
          items.map((r) => r.em),
        ) ?? null,
      f1:
        pearson(
          x,
          items.map((r) => r.f1),
        ) ?? null,
    };
  });
  const offline = scored.some((r) => r.cell.large.startsWith("extractive:"));
  return {
    aspects,
    cells,
    pairs,
    correlations,
    claim: judgeClaim(pairs, minN),
    examples: [
      ...examples.filter((e) => e.change === "wrong → right").slice(0, EXAMPLES_PER_CHANGE),
      ...examples.filter((e) => e.change === "right → wrong").slice(0, EXAMPLES_PER_CHANGE),
    ],
    ...(offline
      ? {
          note: "The large LM is an offline stand-in; if the judge was too (extractive:judge, surface features), the aspect scores show the pipeline working, not rationale quality.",
        }
      : {}),
  };
}
