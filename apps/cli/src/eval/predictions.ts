import { basename } from "node:path";
import { DataValidationError } from "@lmcot/core";
import { endsEarly, readJson, readLines, validate } from "@lmcot/datasets/files";
import type { OfficialPrediction } from "@lmcot/metrics";
import { isOfficialPrediction } from "./checks";
import { evalSchemas, type RunLine } from "./schemas";

/** The predictions of one cell of a run (method, models, dataset, seed), or of a whole official file. */
export interface PredictionSet {
  /** The cell's id; absent for an official file or run lines that name no method. */
  cell?: string;
  dataset?: string;
  prediction: OfficialPrediction;
}

function cellOf(r: RunLine): { cell?: string; dataset?: string } {
  if (r.cell) return { cell: r.cell.id, ...(r.cell.dataset ? { dataset: r.cell.dataset } : {}) };
  if (r.method === undefined) return {};
  const seed = r.seed === undefined ? undefined : `seed${r.seed}`;
  const id = [r.method, r.models?.small, r.dataset, r.models?.large, seed].filter(Boolean).join(" · ");
  return { cell: id, ...(r.dataset ? { dataset: r.dataset } : {}) };
}

/** The official `{answer, sp, evidence}` object, told apart from a run line by its `answer` map. */
function isOfficial(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value) || "exampleId" in value)
    return false;
  const v = value as Record<string, unknown>;
  return "sp" in v || "evidence" in v || (typeof v.answer === "object" && v.answer !== null);
}

const notPredictions = (file: string) =>
  new DataValidationError(
    'is a JSON array, not predictions: --pred takes the official {"answer": …, "sp": …} object or an lmcot run JSONL',
    { file },
  );

async function official(value: unknown, file: string): Promise<PredictionSet> {
  if (Array.isArray(value)) throw notPredictions(file);
  if (isOfficialPrediction(value)) return { prediction: value };
  const { officialPrediction } = await evalSchemas();
  return { prediction: validate(officialPrediction, value, { file }) as OfficialPrediction };
}

/**
 * Reads predictions: the official `{"answer": {id: text}, "sp": …}` JSON (one line or pretty-printed),
 * or an lmcot run JSONL (`exampleId`, `answer`), one set per cell. An empty or truncated file, or an
 * example predicted twice in one cell, is an error; a torn last line of a run (still being written)
 * is left out with a warning.
 */
export async function readPredictions(
  path: string,
  warn: (message: string) => void = () => {},
): Promise<PredictionSet[]> {
  const file = basename(path);
  const sets = new Map<string, PredictionSet & { seen: Map<string, number> }>();
  let first: unknown;
  for await (const { text, line, terminated } of readLines(path)) {
    if (text.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      // The start of a pretty-printed official file, or a file that is one cut line: read it whole.
      if (first === undefined && (!terminated || endsEarly(text, error)))
        return [await official(await readJson(path), file)];
      if (!terminated) {
        warn(`${file}: line ${line}: a torn last line was left out (the run may still be going)`);
        break;
      }
      throw new DataValidationError(`is not valid JSON (${(error as Error).message})`, { file, line });
    }
    if (first === undefined) {
      first = value;
      if (isOfficial(value)) continue;
    } else if (isOfficial(first))
      throw new DataValidationError("holds more JSON after the prediction object", { file, line });
    if (Array.isArray(value)) throw notPredictions(file);
    const r = validate((await evalSchemas()).runLine, value, { file, line });
    const { cell, dataset } = cellOf(r);
    let set = sets.get(cell ?? "");
    if (!set) {
      set = {
        ...(cell ? { cell } : {}),
        ...(dataset ? { dataset } : {}),
        prediction: { answer: {} },
        seen: new Map(),
      };
      sets.set(cell ?? "", set);
    }
    const before = set.seen.get(r.exampleId);
    if (before !== undefined)
      throw new DataValidationError(
        `predicts example ${r.exampleId} again${cell ? ` in cell "${cell}"` : ""} (first at line ${before})`,
        { file, line },
      );
    set.seen.set(r.exampleId, line);
    set.prediction.answer![r.exampleId] = r.answer;
  }
  if (first === undefined) throw new DataValidationError("is empty: it holds no predictions", { file });
  if (isOfficial(first)) return [await official(first, file)];
  return [...sets.values()].map(({ seen: _, ...set }) => set);
}
