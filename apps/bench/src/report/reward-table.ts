import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { openRunStore } from "@lmcot/datasets";

/** One `lmcot rewards score --out` row, as far as the report reads it. */
interface RewardRow {
  key: string;
  aspectReward?: number | null;
  aspects?: Record<string, number | null>;
}

/**
 * The reward rows beside a run as columns: per row R_aspect and each aspect's score (NaN where a row
 * has none, or null), and each row's aspect names in its own order (the report lists aspects in the
 * order the scored items first name them). `index` maps a bench record's key to its row.
 */
export interface RewardTable {
  index: Map<string, number>;
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

/** `rewards*.jsonl` beside the run (`.errors.jsonl` aside), the last row of a key counting. */
export async function readRewardTable(runDir: string): Promise<RewardTable> {
  const table: RewardTable = {
    index: new Map(),
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
    const store = await openRunStore<RewardRow>(join(runDir, f));
    for await (const r of store.records()) {
      if (typeof r.key !== "string") continue;
      let row = table.index.get(r.key);
      if (row === undefined) {
        row = table.rAspect.length;
        table.index.set(r.key, row);
        table.rAspect.push(Number.NaN);
        table.shape.push(0);
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
    await store.close();
  }
  return table;
}
