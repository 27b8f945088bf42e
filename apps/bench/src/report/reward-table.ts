import { existsSync, readdirSync } from "node:fs";
import { basename, join } from "node:path";
import { DataValidationError } from "@lmcot/core";
import { readLines } from "@lmcot/datasets";
import { KeyIndex } from "../key-index";
import { keyAt } from "../run-scan";

/** One `lmcot rewards score --out` row, as far as the report reads it. */
interface RewardRow {
  key: string;
  aspectReward?: number | null;
  aspects?: Record<string, number | null>;
}

/**
 * The reward rows beside a run as columns: per row R_aspect and each aspect's score (NaN where a row
 * has none, or null), and each row's aspect names in its own order (the report lists aspects in the
 * order the scored items first name them). `find` maps a bench record's key to its row (-1: none).
 */
export interface RewardTable {
  rows: number;
  find(key: string): number;
  /** R_aspect per row; NaN for null or absent. */
  rAspect: number[];
  aspectNames: string[];
  /** Per aspect (as `aspectNames`), the score of each row. */
  aspects: number[][];
  /** Per row, an index into `shapes`: the aspect names it holds, in its order. */
  shape: number[];
  shapes: string[][];
}

const value = (x: unknown) => (typeof x === "number" ? x : Number.NaN);

/**
 * Streams `rewards*.jsonl` beside the run (`.errors.jsonl` aside) into a `RewardTable`, the last row
 * of a key counting. As the run store reads them: a torn last line is ignored, a line in the middle
 * that is not JSON or has no string `key` is an error naming the file and line.
 */
export async function readRewardTable(runDir: string): Promise<RewardTable> {
  const at: { file: string; offset: number; length: number }[] = [];
  const keys = new KeyIndex((row) => keyAt(at[row]!.file, at[row]!.offset, at[row]!.length));
  const table: RewardTable = {
    rows: 0,
    find: (key) => keys.find(key),
    rAspect: [],
    aspectNames: [],
    aspects: [],
    shape: [],
    shapes: [],
  };
  if (!existsSync(runDir)) return table;
  const aspectIndex = new Map<string, number>();
  const shapeIndex = new Map<string, number>();
  const files = readdirSync(runDir).filter(
    (f) => /^rewards.*\.jsonl$/.test(f) && !f.endsWith(".errors.jsonl"),
  );
  for (const f of files) {
    const path = join(runDir, f);
    let start = 0;
    for await (const { text, line, end, terminated } of readLines(path)) {
      const offset = start;
      start = end;
      if (text.trim() === "" || !terminated) continue;
      let r: RewardRow;
      try {
        r = JSON.parse(text) as RewardRow;
      } catch {
        throw new DataValidationError(
          "is not valid JSON: the run file is damaged in the middle, not just at the end",
          {
            file: basename(path),
            line,
          },
        );
      }
      if (typeof r?.key !== "string")
        throw new DataValidationError("has no string `key`", { file: basename(path), line, field: "key" });
      at.push({ file: path, offset, length: end - offset });
      let row = table.rAspect.length;
      if (keys.add(r.key)) {
        table.rAspect.push(Number.NaN);
        table.shape.push(0);
        for (const column of table.aspects) column.push(Number.NaN);
      } else {
        at.pop();
        row = keys.find(r.key);
        at[row] = { file: path, offset, length: end - offset };
      }
      table.rAspect[row] = value(r.aspectReward);
      for (const column of table.aspects) column[row] = Number.NaN;
      const names = Object.keys(r.aspects ?? {});
      for (const name of names) {
        let a = aspectIndex.get(name);
        if (a === undefined) {
          a = table.aspectNames.length;
          aspectIndex.set(name, a);
          table.aspectNames.push(name);
          table.aspects.push(Array(table.rAspect.length).fill(Number.NaN));
        }
        table.aspects[a]![row] = value(r.aspects![name]);
      }
      const joined = names.join("\u0000");
      let shape = shapeIndex.get(joined);
      if (shape === undefined) {
        shape = table.shapes.length;
        shapeIndex.set(joined, shape);
        table.shapes.push(names);
      }
      table.shape[row] = shape;
    }
  }
  table.rows = table.rAspect.length;
  return table;
}
