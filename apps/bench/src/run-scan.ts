import { closeSync, existsSync, openSync, readSync } from "node:fs";
import { basename, dirname } from "node:path";
import { DataValidationError } from "@lmcot/core";
import { parseJsonLine, readLines } from "@lmcot/datasets";
import type { z } from "zod";
import { contextKey } from "./contexts";
import type { BenchRecord, Cell } from "./grid";
import { KeyIndex } from "./key-index";
import { readPlan } from "./plan";
import { benchRecordSchema } from "./record-schema";

/**
 * A typed array that grows as rows are appended (doubling past `capacity`), read back with `view()`.
 * Sized from the run's plan, the columns of a 360k-item run take their final size at once instead of
 * reaching it through copies that hold the old and the new array together.
 */
export class Column<A extends Float64Array | Int32Array | Uint8Array> {
  private data: A;
  length = 0;
  constructor(
    private readonly make: (n: number) => A,
    capacity = 1024,
  ) {
    this.data = make(Math.max(1, capacity));
  }
  push(value: number): void {
    if (this.length === this.data.length) {
      const bigger = this.make(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = value;
  }
  get(row: number): number {
    return this.data[row]!;
  }
  /** The filled part (a view, no copy). */
  view(): A {
    return this.data.subarray(0, this.length) as A;
  }
}

/** The items the run's plan.json expects beside `path`, when it has one: the columns' first size. */
function plannedRows(path: string): number {
  try {
    const planned = readPlan(dirname(path))?.cells.reduce((n, cell) => n + cell.expected, 0) ?? 0;
    return Math.min(Math.max(planned, 1024), 1 << 26);
  } catch {
    return 1024;
  }
}

/** Where a line of a JSONL file sits: byte offset and length (newline included), and its 1-based number. */
export interface LineAt {
  offset: number;
  length: number;
  line: number;
}

/**
 * One row per finished item of run.jsonl (the first record of each key, in file order), as compact
 * columns: what every aggregate of the report and the viewer's index need, and where the record sits
 * in the file so its texts (question, rationale, prompts, replies) are read back only when shown.
 */
export interface RunColumns {
  path: string;
  rows: number;
  /** Whether a record of `key` finished (a row holds it). */
  hasKey(key: string): boolean;
  /** Cells in order of first appearance, each as its first record holds it. */
  cells: Cell[];
  /** Examples (dataset and id) in order of first appearance; `exampleIndex` by `contextKey`. */
  examples: { dataset: string; id: string }[];
  exampleIndex: Map<string, number>;
  /** Question types in order of first appearance; a row's `type` is an index here, -1 for none. */
  types: string[];
  cell: Int32Array;
  example: Int32Array;
  type: Int32Array;
  em: Float64Array;
  f1: Float64Array;
  costUsd: Float64Array;
  latencyMs: Float64Array;
  cached: Uint8Array;
  contextChars: Float64Array;
  inputTokens: Float64Array;
  outputTokens: Float64Array;
  reasoningTokens: Float64Array;
  smallInputTokens: Float64Array;
  smallOutputTokens: Float64Array;
  /** Words of the rationale; -1 when there is none (or it is empty). */
  rationaleWords: Int32Array;
  offset: Float64Array;
  length: Int32Array;
  line: Int32Array;
}

/**
 * Streams run.jsonl once into `RunColumns`, one record in memory at a time. As `readRecords` did: the
 * first record of a key counts, a torn last line is ignored, a record with a bad field is an error
 * naming the line and field. `onRow` sees each counted record with its row number, to keep more.
 */
export async function scanRun(
  path: string,
  onRow?: (record: BenchRecord, row: number) => void,
): Promise<RunColumns> {
  const cells: Cell[] = [];
  const cellIndex = new Map<string, number>();
  const examples: { dataset: string; id: string }[] = [];
  const exampleIndex = new Map<string, number>();
  const types: string[] = [];
  const typeIndex = new Map<string, number>();
  const rows = plannedRows(path);
  const f64 = () => new Column((n) => new Float64Array(n), rows);
  const i32 = () => new Column((n) => new Int32Array(n), rows);
  const c = {
    cell: i32(),
    example: i32(),
    type: i32(),
    em: f64(),
    f1: f64(),
    costUsd: f64(),
    latencyMs: f64(),
    cached: new Column((n) => new Uint8Array(n), rows),
    contextChars: f64(),
    inputTokens: f64(),
    outputTokens: f64(),
    reasoningTokens: f64(),
    smallInputTokens: f64(),
    smallOutputTokens: f64(),
    rationaleWords: i32(),
    offset: f64(),
    length: i32(),
    line: i32(),
  };
  const indexOf = <K>(map: Map<K, number>, key: K, add: () => void) => {
    let i = map.get(key);
    if (i === undefined) {
      i = map.size;
      map.set(key, i);
      add();
    }
    return i;
  };
  const file = basename(path);
  const keys = new KeyIndex((row) => keyAt(path, c.offset.get(row), c.length.get(row)));
  let start = 0;
  if (existsSync(path))
    for await (const { text, line, end, terminated } of readLines(path)) {
      const offset = start;
      start = end;
      if (text.trim() === "" || !terminated) continue;
      const r = parseLine(text, benchRecordSchema, file, line);
      if (!keys.add(r.key)) continue;
      const row = c.cell.length;
      c.cell.push(indexOf(cellIndex, r.cell.id, () => cells.push(r.cell)));
      const ek = contextKey(r.cell.dataset, r.exampleId);
      c.example.push(
        indexOf(exampleIndex, ek, () => examples.push({ dataset: r.cell.dataset, id: r.exampleId })),
      );
      c.type.push(r.type === undefined ? -1 : indexOf(typeIndex, r.type, () => types.push(r.type!)));
      c.em.push(r.em);
      c.f1.push(r.f1);
      c.costUsd.push(r.costUsd);
      c.latencyMs.push(r.latencyMs);
      c.cached.push(r.cached ? 1 : 0);
      c.contextChars.push(r.contextChars);
      c.inputTokens.push(r.usage.inputTokens);
      c.outputTokens.push(r.usage.outputTokens);
      c.reasoningTokens.push(r.usage.reasoningTokens ?? 0);
      c.smallInputTokens.push(r.usage.smallInputTokens ?? 0);
      c.smallOutputTokens.push(r.usage.smallOutputTokens ?? 0);
      c.rationaleWords.push(r.rationale ? r.rationale.split(/\s+/).filter(Boolean).length : -1);
      c.offset.push(offset);
      c.length.push(end - offset);
      c.line.push(line);
      onRow?.(r, row);
    }
  return {
    path,
    rows: c.cell.length,
    hasKey: (key) => keys.find(key) >= 0,
    cells,
    examples,
    exampleIndex,
    types,
    cell: c.cell.view(),
    example: c.example.view(),
    type: c.type.view(),
    em: c.em.view(),
    f1: c.f1.view(),
    costUsd: c.costUsd.view(),
    latencyMs: c.latencyMs.view(),
    cached: c.cached.view(),
    contextChars: c.contextChars.view(),
    inputTokens: c.inputTokens.view(),
    outputTokens: c.outputTokens.view(),
    reasoningTokens: c.reasoningTokens.view(),
    smallInputTokens: c.smallInputTokens.view(),
    smallOutputTokens: c.smallOutputTokens.view(),
    rationaleWords: c.rationaleWords.view(),
    offset: c.offset.view(),
    length: c.length.view(),
    line: c.line.view(),
  };
}

/** The `key` of the record at `offset` (a line of run.jsonl read back; it was validated when first read). */
export function keyAt(path: string, offset: number, length: number): string {
  const fd = openSync(path, "r");
  try {
    const bytes = Buffer.allocUnsafe(length);
    readSync(fd, bytes, 0, length, offset);
    const text = bytes.toString("utf8");
    return (JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text) as { key: string }).key;
  } finally {
    closeSync(fd);
  }
}

/** One JSONL line parsed and checked by `schema`; errors name the file, line and field. */
export function parseLine<T>(text: string, schema: z.ZodType<T>, file: string, line: number): T {
  // A byte order mark may open the file's first line.
  return parseJsonLine(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, schema, { file, line });
}

/** Reads lines back from where a scan found them (fs.read at the offset), each checked by `schema` again. */
export function readLinesAt<T>(path: string, at: readonly LineAt[], schema: z.ZodType<T>): T[] {
  if (at.length === 0) return [];
  const fd = openSync(path, "r");
  try {
    const file = basename(path);
    return at.map(({ offset, length, line }) => {
      const bytes = Buffer.allocUnsafe(length);
      let got = 0;
      while (got < length) {
        const n = readSync(fd, bytes, got, length - got, offset + got);
        if (n === 0) break;
        got += n;
      }
      if (got < length) throw new DataValidationError("was cut short since it was read", { file, line });
      return parseLine(bytes.toString("utf8"), schema, file, line);
    });
  } finally {
    closeSync(fd);
  }
}

/** The records of `rows` read back from run.jsonl (in the order given). */
export function readRows(columns: RunColumns, rows: readonly number[]): BenchRecord[] {
  return readLinesAt(
    columns.path,
    rows.map((r) => ({ offset: columns.offset[r]!, length: columns.length[r]!, line: columns.line[r]! })),
    benchRecordSchema,
  );
}

/** Row numbers per cell (in file order), indexed like `columns.cells`. */
export function rowsByCell(columns: RunColumns): number[][] {
  const out: number[][] = columns.cells.map(() => []);
  for (let row = 0; row < columns.rows; row++) out[columns.cell[row]!]!.push(row);
  return out;
}
