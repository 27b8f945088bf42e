import { join } from "node:path";
import { type FailureClassSummary, type FailureRecord, summarizeFailures } from "@lmcot/core";
import { openFailures, readFailures } from "@lmcot/datasets";
import { readJournal } from "@lmcot/llm";
import {
  type Aggregate,
  aggregate,
  type ConfidenceInterval,
  mean,
  type PairedTestResult,
} from "@lmcot/metrics";
import { isOffline } from "../config";
import type { BenchRecord, Cell } from "../grid";
import { readPlan } from "../plan";
import { type RunInfo, readRunInfo } from "../run-info";
import { type RunColumns, readRows, rowsByCell, scanRun } from "../run-scan";
import { pairedBootstrap } from "./paired";
import type { RationaleQuality } from "./rationale-quality";

export interface CellSummary extends Aggregate {
  cell: Cell;
  /** Items the cell holds, from the run's plan.json (absent for runs older than it). */
  expected?: number;
  /** Items whose latest attempt failed (errors.jsonl) and that have not succeeded since. */
  failed: number;
  byType: Record<string, Aggregate>;
  costUsd: number;
  costPer100: number;
  /** Mean seconds per question × 100: wall time of 100 questions run one at a time. */
  latencyPer100s: number;
  cacheHits: number;
  rationaleWords: number[];
  /**
   * Tokens summed over the cell's finished items: the large LM's, and the small LM's (0 without one).
   * `largeReasoning`, the part of `largeOut` spent thinking, is present only when nonzero.
   */
  tokens: { largeIn: number; largeOut: number; largeReasoning?: number; smallIn: number; smallOut: number };
}

export interface Comparison {
  dataset: string;
  large: string;
  seed: number;
  guided: string;
  baseline: string;
  metric: "f1" | "em";
  n: number;
  test: PairedTestResult;
  /** The same test on the examples with the longest contexts (top half by characters). */
  longContext?: PairedTestResult;
}

export interface Claim {
  claim: string;
  /** "too few questions (n = 2)" when every comparison behind it has fewer than the minimum n. */
  verdict:
    | "supported"
    | "not supported"
    | "inconclusive"
    | "not tested in this run"
    | `too few questions (n = ${number})`;
  evidence: string;
}

/** Below this many questions a comparison is too thin to support or refute a claim (`LMCOT_MIN_CLAIM_N`). */
export const DEFAULT_MIN_CLAIM_N = 100;

export interface ReportOptions {
  /** The fewest questions a comparison needs to count toward a verdict (default 100, or `LMCOT_MIN_CLAIM_N`). */
  minClaimN?: number;
}

export function minClaimN(options: ReportOptions = {}): number {
  const fromEnv = Number(process.env.LMCOT_MIN_CLAIM_N);
  return options.minClaimN ?? (Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : DEFAULT_MIN_CLAIM_N);
}

export interface ReportData {
  generatedAt: string;
  runDir: string;
  models: { id: string; role: "large" | "small"; offline: boolean }[];
  offlineNote?: string;
  cells: CellSummary[];
  comparisons: Comparison[];
  claims: Claim[];
  /** The minimum n a comparison needed to count toward a claim's verdict. */
  minClaimN: number;
  /** Failures that still stand, by error class (most frequent first), with the fix for each. */
  failures: { total: number; byClass: FailureClassSummary[] };
  /** Provider batches the run sent (`--batch`), from batches.jsonl. */
  batches?: BatchRow[];
  /** What the run was made with (run-info.json), absent for runs older than it. */
  runInfo?: RunInfo;
  /** How each comparison's 95% CI and p were computed (one resampling scheme for both). */
  statistics: string;
  /**
   * Finished items, without their prompts (those stay in run.jsonl; `lmcot view` shows them): all of
   * them, or past `EXAMPLES_IN_REPORT` the first of each cell, with `predictions` saying how many
   * there are in all.
   */
  examples: Omit<BenchRecord, "prompts">[];
  /** How many items finished, when `examples` lists only some of them. */
  predictions?: number;
  /** Aspect scores of the LM-guided rationales, when `lmcot rewards score` wrote rewards.jsonl beside the run. */
  rationaleQuality?: RationaleQuality;
}

export const STATISTICS =
  "The 95% CI and p of each comparison come from the same paired bootstrap over questions (2,000 resamples of the per-question differences): the CI is their 2.5–97.5 percentiles, p twice the smaller share of resamples on either side of 0, so the CI excludes 0 exactly when p < 0.05.";

const groupBy = <T>(items: readonly T[], key: (t: T) => string) => {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k) ?? [];
    list.push(item);
    out.set(k, list);
  }
  return out;
};

/**
 * Reads a run file back, one record per key (the first), so a file written by two processes at once
 * before locks existed still counts each item once. A torn last line is ignored; a record with a bad
 * field (a hand edit) is an error naming the line and field, so no page ever shows it. Holds every
 * record: for small runs and tests; the report and the viewer stream the file (`scanRun`).
 */
export async function readRecords(runDir: string): Promise<BenchRecord[]> {
  const columns = await scanRun(join(runDir, "run.jsonl"));
  return readRows(
    columns,
    Array.from({ length: columns.rows }, (_, i) => i),
  );
}

/** The cells to report: the plan's (in its order, even with nothing finished), then any others found. */
function reportedCells(runDir: string, found: Cell[]) {
  const plan = readPlan(runDir);
  const out = new Map<string, { cell: Cell; expected?: number }>();
  for (const { expected, ...cell } of plan?.cells ?? []) out.set(cell.id, { cell, expected });
  for (const cell of found) if (!out.has(cell.id)) out.set(cell.id, { cell });
  return [...out.values()];
}

const sum = (column: Float64Array, rows: readonly number[]) => rows.reduce((s, r) => s + column[r]!, 0);

function summarizeCell(
  cell: Cell,
  c: RunColumns,
  rows: readonly number[],
  expected: number | undefined,
  failures: FailureRecord[],
): CellSummary {
  const agg = aggregate(
    rows.map((r) => {
      const type = c.type[r]!;
      return { em: c.em[r]!, f1: c.f1[r]!, ...(type >= 0 ? { type: c.types[type]! } : {}) };
    }),
    { seed: cell.seed },
  );
  const costUsd = sum(c.costUsd, rows);
  const largeReasoning = sum(c.reasoningTokens, rows);
  return {
    ...agg,
    cell,
    ...(expected !== undefined ? { expected } : {}),
    failed: failures.filter((f) => f.cell === cell.id).length,
    costUsd,
    costPer100: rows.length ? (100 * costUsd) / rows.length : 0,
    latencyPer100s: rows.length ? (100 * mean(rows.map((r) => c.latencyMs[r]!))) / 1000 : 0,
    cacheHits: rows.filter((r) => c.cached[r]).length,
    rationaleWords: rows.filter((r) => c.rationaleWords[r]! >= 0).map((r) => c.rationaleWords[r]!),
    tokens: {
      largeIn: sum(c.inputTokens, rows),
      largeOut: sum(c.outputTokens, rows),
      ...(largeReasoning > 0 ? { largeReasoning } : {}),
      smallIn: sum(c.smallInputTokens, rows),
      smallOut: sum(c.smallOutputTokens, rows),
    },
  };
}

const label = (cell: Cell) => (cell.small ? `lm-guided (${cell.small.label})` : cell.method);

/**
 * The paired test of cell `a` against cell `b` over the questions both answered (for a question `b`
 * holds twice, its last row), and the same on the longest half of contexts.
 */
function compare(
  c: RunColumns,
  a: readonly number[],
  b: readonly number[],
  metric: "f1" | "em",
  seed: number,
): { n: number; test: PairedTestResult; longContext?: PairedTestResult } | undefined {
  const inB = new Map<number, number>();
  for (const row of b) inB.set(c.example[row]!, row);
  const pairs = a.filter((r) => inB.has(c.example[r]!)).map((r) => [r, inB.get(c.example[r]!)!] as const);
  if (pairs.length < 2) return undefined;
  const values = c[metric];
  const test = pairedBootstrap(
    pairs.map(([x]) => values[x]!),
    pairs.map(([, y]) => values[y]!),
    seed,
  );
  const sorted = [...pairs].sort((x, y) => c.contextChars[y[0]]! - c.contextChars[x[0]]!);
  const long = sorted.slice(0, Math.ceil(sorted.length / 2));
  const longContext =
    long.length >= 2
      ? pairedBootstrap(
          long.map(([x]) => values[x]!),
          long.map(([, y]) => values[y]!),
          seed,
        )
      : undefined;
  return { n: pairs.length, test, ...(longContext ? { longContext } : {}) };
}

const fmt = (x: number) => (x >= 0 ? "+" : "") + (100 * x).toFixed(1);
const ciText = (ci: ConfidenceInterval) => `[${fmt(ci.low)}, ${fmt(ci.high)}]`;

/** Judged on the comparisons with at least `minN` questions; none such → "too few questions". */
function verdict(tests: { test: PairedTestResult; n: number }[], minN: number): Claim["verdict"] {
  if (tests.length === 0) return "not tested in this run";
  const enough = tests.filter((t) => t.n >= minN).map((t) => t.test);
  if (enough.length === 0) return `too few questions (n = ${Math.max(...tests.map((t) => t.n))})`;
  const sig = enough.filter((t) => t.pValue < 0.05);
  if (sig.length && sig.every((t) => t.meanDiff > 0)) return "supported";
  if (sig.length && sig.every((t) => t.meanDiff < 0)) return "not supported";
  return "inconclusive";
}

const isKd = (l: string) => /^(kd|distilled|distillation)$/i.test(l);
/** Whether a small LM's label names an RL-refined checkpoint (`kd+rl`, `ppo`). */
export const isRl = (l: string) => /(rl|ppo)/i.test(l);

/** The paper's claims judged on this run's comparisons (F1), each on those with at least `minN` questions. */
export function judgeClaims(comparisons: Comparison[], minN: number): Claim[] {
  const f1 = comparisons.filter((c) => c.metric === "f1");
  const describe = (list: Comparison[], long = false) =>
    list
      .map((c) => {
        const t = long ? c.longContext! : c.test;
        return `${c.guided} vs ${c.baseline} on ${c.dataset} (${c.large}): ΔF1 ${fmt(t.meanDiff)} pts, 95% CI ${ciText(t.ci)}, p = ${t.pValue.toFixed(3)}, n = ${long ? Math.ceil(c.n / 2) : c.n}`;
      })
      .join("; ") || "no comparison of this kind was run";
  const kdVsCot = f1.filter(
    (c) => c.baseline === "cot" && isKd(c.guided.replace(/^lm-guided \((.*)\)$/, "$1")),
  );
  const rlVsKd = f1.filter((c) => isRl(c.guided) && /kd|distill/i.test(c.baseline));
  const vsStandard = f1.filter((c) => c.baseline === "standard");
  const longer = vsStandard.filter((c) => c.longContext);
  const longN = (c: Comparison) => Math.ceil(c.n / 2);
  const thinLong = longer.length > 0 && longer.every((c) => longN(c) < minN);
  // As for the other claims, no significant difference on long contexts is "inconclusive".
  const sigLong = longer.filter((c) => longN(c) >= minN && c.longContext!.pValue < 0.05);
  const mostOnLong: Claim["verdict"] =
    longer.length === 0
      ? "not tested in this run"
      : thinLong
        ? `too few questions (n = ${Math.max(...longer.map(longN))})`
        : sigLong.length === 0
          ? "inconclusive"
          : sigLong.every((c) => c.longContext!.meanDiff > c.test.meanDiff && c.test.meanDiff > 0)
            ? "supported"
            : sigLong.every((c) => c.longContext!.meanDiff <= c.test.meanDiff)
              ? "not supported"
              : "inconclusive";
  return [
    {
      claim: "Rationale distillation (KD) makes LM-guided CoT beat CoT prompting by the large LM.",
      verdict: verdict(kdVsCot, minN),
      evidence: describe(kdVsCot),
    },
    {
      claim: "RL refinement adds to KD.",
      verdict: verdict(rlVsKd, minN),
      evidence: describe(rlVsKd),
    },
    {
      claim: "LM-guided CoT beats standard prompting.",
      verdict: verdict(vsStandard, minN),
      evidence: describe(vsStandard),
    },
    {
      claim: "…and the gain over standard prompting is largest on long contexts.",
      verdict: mostOnLong,
      evidence: longer.length
        ? `longest half of contexts: ${describe(longer, true)}`
        : "no comparison with standard prompting was run",
    },
  ];
}

/** The most predictions report.html and report.json list (the first of each cell); `lmcot view` shows all. */
export const EXAMPLES_IN_REPORT = 2000;

/** The rows the report lists: all of them up to `EXAMPLES_IN_REPORT`, else the first rows of each cell. */
function exampleRows(byCell: number[][], rows: number): number[] {
  const all = Array.from({ length: rows }, (_, i) => i);
  if (rows <= EXAMPLES_IN_REPORT) return all;
  const perCell = Math.max(1, Math.floor(EXAMPLES_IN_REPORT / byCell.length));
  const shown = new Set(byCell.flatMap((list) => list.slice(0, perCell)));
  return all.filter((r) => shown.has(r));
}

/**
 * Everything a report shows, computed from the run directory: run.jsonl (finished items), plan.json
 * (what each cell should hold) and errors.jsonl (failures; one whose key has finished since is stale
 * and not counted).
 */
export async function buildReportData(runDir: string, options: ReportOptions = {}): Promise<ReportData> {
  return reportFromColumns(runDir, await scanRun(join(runDir, "run.jsonl")), options);
}

/**
 * The report's data from run.jsonl's columns (`scanRun`): aggregates from the columns, the listed
 * predictions read back from the file by offset.
 */
export async function reportFromColumns(
  runDir: string,
  columns: RunColumns,
  options: ReportOptions = {},
): Promise<ReportData> {
  const batches = batchRows(runDir);
  const failures = openFailures(await readFailures(join(runDir, "errors.jsonl")), (k) => columns.hasKey(k));
  const byCell = rowsByCell(columns);
  const rowsOf = new Map(columns.cells.map((cell, i) => [cell.id, byCell[i]!]));
  const cells = reportedCells(runDir, columns.cells).map(({ cell, expected }) =>
    summarizeCell(cell, columns, rowsOf.get(cell.id) ?? [], expected, failures),
  );
  const comparisons: Comparison[] = [];
  const groups = groupBy(cells, (c) => `${c.cell.dataset}|${c.cell.large}|${c.cell.seed}`);
  for (const group of groups.values()) {
    const guided = group.filter((c) => c.cell.method === "lm-guided");
    const baselines = group.filter((c) => c.cell.method !== "lm-guided");
    const pairsToTest: [CellSummary, CellSummary][] = [];
    for (const g of guided) {
      for (const b of baselines) pairsToTest.push([g, b]);
      for (const other of guided)
        if (other !== g && isRl(g.cell.small!.label) && !isRl(other.cell.small!.label))
          pairsToTest.push([g, other]);
    }
    for (const [g, b] of pairsToTest) {
      for (const metric of ["f1", "em"] as const) {
        const result = compare(
          columns,
          rowsOf.get(g.cell.id) ?? [],
          rowsOf.get(b.cell.id) ?? [],
          metric,
          g.cell.seed,
        );
        if (!result) continue;
        comparisons.push({
          dataset: g.cell.dataset,
          large: g.cell.large,
          seed: g.cell.seed,
          guided: label(g.cell),
          baseline: b.cell.small ? b.cell.small.label : b.cell.method,
          metric,
          ...result,
        });
      }
    }
  }
  const modelIds = new Map<string, "large" | "small">();
  for (const c of cells) {
    modelIds.set(c.cell.large, "large");
    if (c.cell.small) modelIds.set(c.cell.small.id, "small");
  }
  const models = [...modelIds].map(([id, role]) => ({ id, role, offline: isOffline(id) }));
  const offline = models.filter((m) => m.offline);
  const runInfo = readRunInfo(runDir);
  const listed = exampleRows(byCell, columns.rows);
  return {
    generatedAt: new Date().toISOString(),
    runDir,
    models,
    ...(offline.length
      ? {
          offlineNote: `${offline.map((m) => m.id).join(" and ")} ${offline.length > 1 ? "are" : "is an"} offline stand-in${offline.length > 1 ? "s" : ""}: classical extractive algorithms (sentence retrieval and answer-span selection; sentence selection for rationales), not language models. Their numbers show the pipeline working end to end, not the paper's results.`,
        }
      : {}),
    cells,
    comparisons,
    claims: judgeClaims(comparisons, minClaimN(options)),
    minClaimN: minClaimN(options),
    failures: { total: failures.length, byClass: summarizeFailures(failures) },
    ...(batches.length ? { batches } : {}),
    ...(runInfo ? { runInfo } : {}),
    statistics: STATISTICS,
    ...(listed.length < columns.rows ? { predictions: columns.rows } : {}),
    examples: readRows(columns, listed).map(({ prompts: _, ...r }) => r),
  };
}

export { label as cellLabel };

/** `41.2 [30.1, 52.0]` (EM or F1 in %, with its CI), or `–` for a cell with nothing finished. */
export function scoreText(c: Aggregate, metric: "em" | "f1"): string {
  const x = c[metric];
  const pct = (v: number) => (100 * v).toFixed(1);
  return c.n ? `${pct(x.mean)} [${pct(x.low)}, ${pct(x.high)}]` : "–";
}

/** `n / expected`, and what happened to the rest: `13 / 20 (7 failed)`, `0 / 10 (1 failed, 9 not run)`. */
export function coverage(c: CellSummary): string {
  if (c.expected === undefined) return c.failed ? `${c.n} (${c.failed} failed)` : `${c.n}`;
  const notRun = Math.max(0, c.expected - c.n - c.failed);
  const rest = [c.failed ? `${c.failed} failed` : "", notRun ? `${notRun} not run` : ""].filter(Boolean);
  return `${c.n} / ${c.expected}${rest.length ? ` (${rest.join(", ")})` : ""}`;
}

/** The sentence above a report's failure table, or undefined when nothing failed. */
export function failureNote(data: ReportData): string | undefined {
  if (!data.failures.total) return undefined;
  const expected = data.cells.reduce((s, c) => s + (c.expected ?? c.n + c.failed), 0);
  return `${data.failures.total} of ${expected} items failed and have not succeeded since (errors.jsonl keeps each one with its reason); the results above count finished items only.`;
}

/** When the report lists only some predictions: how many, of how many, and where to see them all. */
export function listedNote(data: ReportData): string | undefined {
  if (data.predictions === undefined) return undefined;
  return `${data.predictions} predictions; report.html lists ${data.examples.length} of them (the first of each cell); \`lmcot view ${data.runDir}\` shows every one.`;
}

/** One provider batch of the run, as its journal last saw it. */
export interface BatchRow {
  batch: string;
  model: string;
  requests: number;
  /** The provider's last status (completed, expired, …), or the journal's state when it never ended. */
  status: string;
  succeeded?: number;
  failed?: number;
}

function batchRows(runDir: string): BatchRow[] {
  return readJournal(join(runDir, "batches.jsonl")).map((j) => ({
    batch: j.batchId ?? j.submission,
    model: j.model,
    requests: j.customIds.length,
    status: j.status ?? (j.state === "not-submitted" ? `not submitted: ${j.reason ?? ""}` : j.state),
    ...(j.succeeded !== undefined ? { succeeded: j.succeeded } : {}),
    ...(j.failed !== undefined ? { failed: j.failed } : {}),
  }));
}
