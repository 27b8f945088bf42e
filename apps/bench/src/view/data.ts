import { existsSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import type { FailureRecord, Prediction, PromptRecord } from "@lmcot/core";
import { openFailures, readFailures } from "@lmcot/datasets";
import { type ContextRecord, contextKey } from "../contexts";
import type { BenchRecord, Cell } from "../grid";
import { benchRecordSchema } from "../record-schema";
import { type RunInfo, readRunInfo } from "../run-info";
import { Column, readLinesAt, scanRun } from "../run-scan";
import {
  type ContextLines,
  indexContexts,
  indexRewards,
  type RewardLines,
  readContext,
  readReward,
} from "./lines";
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

/**
 * What `lmcot view` serves: the matrix (`data`, small: scores, answers and flags per item and column)
 * and each item's details (context, rationales, prompts, raw replies, rewards), read from the run
 * files on demand at the byte offsets found while streaming them.
 */
export interface ViewIndex {
  data: ViewData;
  /** Item `i`'s details, read back from the run files (validated again). */
  detail(i: number): ItemDetail;
}

/** Where one column of one item was found: its run's row, whose record and reward row the index locates. */
interface RunLines {
  runFile: string;
  offset: Float64Array;
  length: Int32Array;
  line: Int32Array;
  /** Per row, the reward row of its key (-1: none). */
  reward: Int32Array;
  rewards: RewardLines;
  contexts: ContextLines;
}

/**
 * Reads run directories (never calls a model) into the viewer's index: each run.jsonl, rewards file
 * and contexts.jsonl is streamed once, every record validated; what stays in memory is the matrix
 * and the byte offsets of the records, reward rows and contexts.
 */
export async function buildViewData(runDirs: string[]): Promise<ViewIndex> {
  const runs: ViewRun[] = [];
  const lines: RunLines[] = [];
  const scans: {
    cells: Cell[];
    rowItem: number[];
    rowCell: Int32Array;
    f1: Float64Array;
    em: Float64Array;
  }[] = [];
  const items: ViewItem[] = [];
  const answers: string[][] = [];
  const itemIndex = new Map<string, number>();
  for (const [i, dir] of runDirs.entries()) {
    if (!existsSync(join(dir, "run.jsonl"))) throw new Error(`${dir}: not a run directory (no run.jsonl)`);
    const rewards = await indexRewards(dir);
    const reward = new Column((n) => new Int32Array(n));
    const rowItem: number[] = [];
    const runAnswers: string[] = [];
    const columns = await scanRun(join(dir, "run.jsonl"), (r) => {
      reward.push(rewards.find(r.key));
      const ik = contextKey(r.cell.dataset, r.exampleId);
      let item = itemIndex.get(ik);
      if (item === undefined) {
        item = items.length;
        itemIndex.set(ik, item);
        items.push({
          dataset: r.cell.dataset,
          id: r.exampleId,
          question: r.question,
          gold: r.gold,
          ...(r.type ? { type: r.type } : {}),
          contextChars: r.contextChars,
          f1: [],
          em: [],
          answer: [],
          flags: 0,
        });
      }
      rowItem.push(item);
      runAnswers.push(r.answer);
    });
    answers.push(runAnswers);
    const failures = openFailures(await readFailures(join(dir, "errors.jsonl")), (k) => columns.hasKey(k));
    const info = readRunInfo(dir);
    const label = `${runDirs.length > 1 ? `${String.fromCharCode(65 + i)}: ` : ""}${basename(resolve(dir))}`;
    runs.push({ label, dir: resolve(dir), ...(info ? { info } : {}), failures, rewards: rewards.rows > 0 });
    lines.push({
      runFile: columns.path,
      offset: columns.offset,
      length: columns.length,
      line: columns.line,
      reward: reward.view(),
      rewards,
      contexts: await indexContexts(dir),
    });
    scans.push({ cells: columns.cells, rowItem, rowCell: columns.cell, f1: columns.f1, em: columns.em });
  }
  const label = labelColumns(
    scans.flatMap((s) => s.cells),
    runs.length,
  );
  const columns: ViewColumn[] = [];
  const columnIndex = new Map<string, number>();
  const cellColumn = scans.map((scan, run) =>
    scan.cells.map((cell) => {
      const ck = `${run}\u0000${columnKey(cell)}`;
      if (!columnIndex.has(ck)) {
        columnIndex.set(ck, columns.length);
        columns.push({
          run,
          key: columnKey(cell),
          label: label(cell, run),
          method: cell.method,
          ...(cell.small ? { small: cell.small.label } : {}),
          large: cell.large,
          seed: cell.seed,
        });
      }
      return columnIndex.get(ck)!;
    }),
  );
  const width = columns.length;
  // Per item and column: the run's row shown there (the last of the item in that column), -1 for none.
  const slot = new Int32Array(items.length * width).fill(-1);
  for (const item of items) {
    item.f1 = Array(width).fill(null);
    item.em = Array(width).fill(null);
    item.answer = Array(width).fill(null);
  }
  scans.forEach((scan, run) => {
    scan.rowItem.forEach((i, row) => {
      const col = cellColumn[run]![scan.rowCell[row]!]!;
      const item = items[i]!;
      item.f1[col] = scan.f1[row]!;
      item.em[col] = scan.em[row]!;
      item.answer[col] = answers[run]![row]!;
      slot[i * width + col] = row;
    });
  });
  const aspectReward = (i: number, col: number) => {
    const row = slot[i * width + col]!;
    if (row < 0) return undefined;
    const run = lines[columns[col]!.run]!;
    const w = run.reward[row]!;
    return w < 0 ? undefined : run.rewards.aspectReward[w];
  };
  items.forEach((item, i) => {
    item.flags = flagsOf(item, columns);
    if (rlRatedHigherButWorse(item, (col) => aspectReward(i, col), columns))
      item.flags |= FLAGS.rlRatedHigherWorse;
  });
  const types = [...new Set(items.flatMap((x) => (x.type ? [x.type] : [])))].sort();
  const detail = (i: number): ItemDetail => {
    const out: ItemDetail = { cells: Array(width).fill(null) };
    const item = items[i];
    if (!item) return out;
    const ik = contextKey(item.dataset, item.id);
    for (let col = 0; col < width; col++) {
      const row = slot[i * width + col]!;
      if (row < 0) continue;
      const run = lines[columns[col]!.run]!;
      const [r] = readLinesAt(
        run.runFile,
        [{ offset: run.offset[row]!, length: run.length[row]!, line: run.line[row]! }],
        benchRecordSchema,
      );
      if (!out.context) {
        const c = readContext(run.contexts, ik);
        if (c) out.context = { text: c.text, paragraphs: c.paragraphs, supportingFacts: c.supportingFacts };
      }
      const reward = readReward(run.rewards, run.reward[row]!);
      out.cells[col] = {
        cell: r!.cell.id,
        ...(r!.rationale !== undefined ? { rationale: r!.rationale } : {}),
        ...(r!.samples ? { samples: r!.samples } : {}),
        ...(r!.prompts ? { prompts: r!.prompts } : {}),
        usage: r!.usage,
        costUsd: r!.costUsd,
        latencyMs: r!.latencyMs,
        cached: r!.cached,
        ...(reward ? { reward } : {}),
      };
    }
    return out;
  };
  return { data: { runs, columns, items, types }, detail };
}
