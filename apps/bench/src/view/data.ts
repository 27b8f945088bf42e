import { existsSync, readdirSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import type { FailureRecord, Prediction, PromptRecord } from "@lmcot/core";
import { openFailures, readFailures, readValidatedJsonl } from "@lmcot/datasets";
import { type ContextRecord, contextKey, readContexts } from "../contexts";
import type { BenchRecord, Cell } from "../grid";
import { rewardLineSchema } from "../record-schema";
import { readRecords } from "../report/data";
import { type RunInfo, readRunInfo } from "../run-info";
import { rlRatedHigherButWorse } from "./rationale-flags";

/** Per-item flags, computed once here so the page filters 10,000 rows without recomputing them. */
export const FLAGS = {
  fixedStandard: 1,
  brokeStandard: 2,
  fixedCot: 4,
  brokeCot: 8,
  wrongEverywhere: 16,
  betterInB: 32,
  worseInB: 64,
  rlRatedHigherWorse: 128,
} as const;

/** One column of the matrix: a cell of one run, across datasets (the row's dataset picks the cell). */
export interface ViewColumn {
  run: number;
  /** The cell's id without its dataset: the same column in two runs has the same key. */
  key: string;
  label: string;
  method: Cell["method"];
  /** The small LM's label (LM-guided columns). */
  small?: string;
  large: string;
  seed: number;
}

/** One question: what the matrix shows; `f1`, `em` and `answer` are per column (null: not in that cell). */
export interface ViewItem {
  dataset: string;
  id: string;
  question: string;
  gold: string[];
  type?: string;
  contextChars: number;
  f1: (number | null)[];
  em: (number | null)[];
  answer: (string | null)[];
  flags: number;
}

export interface ViewRun {
  label: string;
  dir: string;
  info?: RunInfo;
  failures: FailureRecord[];
  /** Whether a `lmcot rewards score` output was found beside the run. */
  rewards: boolean;
}

export interface ViewData {
  runs: ViewRun[];
  columns: ViewColumn[];
  items: ViewItem[];
  types: string[];
}

/** What the item page shows, loaded after the matrix: per item, its context and each column's call. */
export interface ItemDetail {
  context?: Omit<ContextRecord, "dataset" | "exampleId">;
  cells: (CellDetail | null)[];
}

export interface CellDetail {
  cell: string;
  rationale?: string;
  samples?: Prediction["samples"];
  prompts?: PromptRecord[];
  usage: BenchRecord["usage"];
  costUsd: number;
  latencyMs: number;
  cached: boolean;
  reward?: RewardSummary;
}

export interface RewardSummary {
  /** null: the reward could not be computed (a judge failure under a policy that leaves it out). */
  reward: number | null;
  taskReward?: number | null;
  aspectReward?: number | null;
  aspects?: Record<string, number | null>;
}

const columnKey = (c: Cell) =>
  [c.method, c.small?.label ?? "", c.large, `seed${c.seed}`].filter(Boolean).join(" · ");

/** `lmcot rewards score --out` files beside the run: `rewards*.jsonl`, keyed by the bench record's key. */
async function readRewards(runDir: string): Promise<Map<string, RewardSummary>> {
  const out = new Map<string, RewardSummary>();
  const files = readdirSync(runDir).filter(
    (f) => /^rewards.*\.jsonl$/.test(f) && !f.endsWith(".errors.jsonl"),
  );
  for (const f of files)
    for await (const { value: r } of readValidatedJsonl(join(runDir, f), rewardLineSchema))
      out.set(r.key, {
        reward: r.reward,
        ...(r.taskReward !== undefined ? { taskReward: r.taskReward } : {}),
        ...(r.aspectReward !== undefined ? { aspectReward: r.aspectReward } : {}),
        ...(r.aspects ? { aspects: r.aspects } : {}),
      });
  return out;
}

function labelColumns(cells: Cell[], runs: number) {
  const varies = (f: (c: Cell) => unknown) => new Set(cells.map(f)).size > 1;
  const showLarge = varies((c) => c.large);
  const showSeed = varies((c) => c.seed);
  return (c: Cell, run: number) =>
    [
      runs > 1 ? String.fromCharCode(65 + run) : "",
      c.method,
      c.small?.label ?? "",
      showLarge ? c.large : "",
      showSeed ? `seed ${c.seed}` : "",
    ]
      .filter(Boolean)
      .join(" · ");
}

/** Whether an item is fixed or broken by LM-guided CoT against `baseline` in any run, and the B-vs-A flags. */
function flagsOf(item: ViewItem, columns: ViewColumn[]): number {
  let flags = 0;
  const present = item.em.filter((e) => e !== null);
  if (present.length && present.every((e) => e === 0)) flags |= FLAGS.wrongEverywhere;
  columns.forEach((g, i) => {
    const guided = item.em[i];
    if (g.method !== "lm-guided" || guided === null || guided === undefined) return;
    columns.forEach((b, j) => {
      const base = item.em[j];
      if (b.run !== g.run || b.large !== g.large || b.seed !== g.seed || base === null || base === undefined)
        return;
      if (b.method === "standard" && guided > base) flags |= FLAGS.fixedStandard;
      if (b.method === "standard" && guided < base) flags |= FLAGS.brokeStandard;
      if (b.method === "cot" && guided > base) flags |= FLAGS.fixedCot;
      if (b.method === "cot" && guided < base) flags |= FLAGS.brokeCot;
    });
  });
  columns.forEach((b, j) => {
    if (b.run !== 1) return;
    const a = columns.findIndex((c) => c.run === 0 && c.key === b.key);
    const fa = item.f1[a];
    const fb = item.f1[j];
    if (a < 0 || fa === null || fa === undefined || fb === null || fb === undefined) return;
    if (fb > fa) flags |= FLAGS.betterInB;
    if (fb < fa) flags |= FLAGS.worseInB;
  });
  return flags;
}

/** Reads run directories (never calls a model) into the matrix and the per-item details. */
export async function buildViewData(runDirs: string[]): Promise<{ data: ViewData; details: ItemDetail[] }> {
  const runs: ViewRun[] = [];
  const perRun: {
    records: BenchRecord[];
    contexts: Map<string, ContextRecord>;
    rewards: Map<string, RewardSummary>;
  }[] = [];
  for (const [i, dir] of runDirs.entries()) {
    if (!existsSync(join(dir, "run.jsonl"))) throw new Error(`${dir}: not a run directory (no run.jsonl)`);
    const records = await readRecords(dir);
    const done = new Set(records.map((r) => r.key));
    const failures = openFailures(await readFailures(join(dir, "errors.jsonl")), (k) => done.has(k));
    const rewards = await readRewards(dir);
    const info = readRunInfo(dir);
    const label = `${runDirs.length > 1 ? `${String.fromCharCode(65 + i)}: ` : ""}${basename(resolve(dir))}`;
    runs.push({ label, dir: resolve(dir), ...(info ? { info } : {}), failures, rewards: rewards.size > 0 });
    perRun.push({ records, contexts: readContexts(dir), rewards });
  }
  const allCells = perRun.flatMap((r) => r.records.map((x) => x.cell));
  const label = labelColumns(allCells, runs.length);
  const columns: ViewColumn[] = [];
  const columnIndex = new Map<string, number>();
  const items: ViewItem[] = [];
  const details: ItemDetail[] = [];
  const itemIndex = new Map<string, number>();
  perRun.forEach(({ records }, run) => {
    for (const r of records) {
      const ck = `${run}\u0000${columnKey(r.cell)}`;
      if (!columnIndex.has(ck)) {
        columnIndex.set(ck, columns.length);
        columns.push({
          run,
          key: columnKey(r.cell),
          label: label(r.cell, run),
          method: r.cell.method,
          ...(r.cell.small ? { small: r.cell.small.label } : {}),
          large: r.cell.large,
          seed: r.cell.seed,
        });
      }
    }
  });
  const width = columns.length;
  perRun.forEach(({ records, contexts, rewards }, run) => {
    for (const r of records) {
      const ik = contextKey(r.cell.dataset, r.exampleId);
      let i = itemIndex.get(ik);
      if (i === undefined) {
        i = items.length;
        itemIndex.set(ik, i);
        items.push({
          dataset: r.cell.dataset,
          id: r.exampleId,
          question: r.question,
          gold: r.gold,
          ...(r.type ? { type: r.type } : {}),
          contextChars: r.contextChars,
          f1: Array(width).fill(null),
          em: Array(width).fill(null),
          answer: Array(width).fill(null),
          flags: 0,
        });
        details.push({ cells: Array(width).fill(null) });
      }
      const detail = details[i]!;
      if (!detail.context) {
        const c = contexts.get(ik);
        if (c)
          detail.context = { text: c.text, paragraphs: c.paragraphs, supportingFacts: c.supportingFacts };
      }
      const col = columnIndex.get(`${run}\u0000${columnKey(r.cell)}`)!;
      const item = items[i]!;
      item.f1[col] = r.f1;
      item.em[col] = r.em;
      item.answer[col] = r.answer;
      const reward = rewards.get(r.key);
      detail.cells[col] = {
        cell: r.cell.id,
        ...(r.rationale !== undefined ? { rationale: r.rationale } : {}),
        ...(r.samples ? { samples: r.samples } : {}),
        ...(r.prompts ? { prompts: r.prompts } : {}),
        usage: r.usage,
        costUsd: r.costUsd,
        latencyMs: r.latencyMs,
        cached: r.cached,
        ...(reward ? { reward } : {}),
      };
    }
  });
  items.forEach((item, i) => {
    item.flags = flagsOf(item, columns);
    if (rlRatedHigherButWorse(item, details[i]!, columns)) item.flags |= FLAGS.rlRatedHigherWorse;
  });
  const types = [...new Set(items.flatMap((x) => (x.type ? [x.type] : [])))].sort();
  return { data: { runs, columns, items, types }, details };
}
