import { join } from "node:path";
import { KeySet, methodPromptVersion, type RunStore } from "@lmcot/core";
import { openFailureLog } from "@lmcot/datasets";
import { type BenchRecord, type Cell, itemKey } from "./grid";

/**
 * The run's errors.jsonl, keeping what is failing now: items of this grid (held as 64-bit hashes,
 * so 20k questions × 18 cells cost a few MB) that have not succeeded since.
 */
export async function openGridErrors(
  runDir: string,
  grid: readonly { cell: Cell; ids: readonly string[] }[],
  store: RunStore<BenchRecord>,
) {
  const keys = new KeySet();
  for (const { cell, ids } of grid) {
    const version = methodPromptVersion(cell.method);
    for (const id of ids) keys.add(itemKey(cell, id, version));
  }
  const log = await openFailureLog(join(runDir, "errors.jsonl"), {
    keep: (f) => keys.has(f.key) && !store.has(f.key),
  });
  return { log, total: keys.size };
}
