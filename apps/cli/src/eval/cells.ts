import { basename } from "node:path";
import { DataValidationError } from "@lmcot/core";
import { UsageError } from "../usage-error";
import type { PredictionSet } from "./predictions";

/**
 * The prediction sets to score: the one `--cell` names (its exact id, or a part of one id only), else
 * every cell on `dataset`; cells on another dataset are left out with a warning.
 */
export function selectCells(
  sets: PredictionSet[],
  options: { dataset: string; pred: string; cell?: string },
  warn: (message: string) => void,
): PredictionSet[] {
  const file = basename(options.pred);
  const ids = sets.flatMap((s) => (s.cell ? [`"${s.cell}"`] : []));
  const wanted = options.cell;
  if (wanted !== undefined) {
    if (ids.length === 0) throw new UsageError(`--cell: ${file} has no cells (its lines name no method)`);
    const exact = sets.filter((s) => s.cell === wanted);
    const found = exact.length ? exact : sets.filter((s) => s.cell?.includes(wanted));
    if (found.length !== 1)
      throw new UsageError(
        `--cell "${wanted}" matches ${found.length ? `${found.length} cells` : "no cell"} of ${file}; its cells: ${ids.join(", ")}`,
      );
    const [set] = found as [PredictionSet];
    if (set.dataset && set.dataset !== options.dataset)
      throw new DataValidationError(
        `cell "${set.cell}" is on ${set.dataset}, but --dataset is ${options.dataset}`,
        {
          file,
        },
      );
    return found;
  }
  const kept = sets.filter((s) => !s.dataset || s.dataset === options.dataset);
  const other = sets.filter((s) => !kept.includes(s));
  if (kept.length === 0)
    throw new DataValidationError(
      `has no predictions on ${options.dataset}: its cells are on ${[...new Set(other.map((s) => s.dataset))].join(", ")}`,
      { file },
    );
  if (other.length)
    warn(
      `${file}: ${other.length} cell(s) on other datasets left out: ${other.map((s) => `"${s.cell}"`).join(", ")}`,
    );
  return kept;
}
