import { basename } from "node:path";
import { DataValidationError } from "@lmcot/core";
import { datasetOf, readRawBatches, validate } from "@lmcot/datasets/files";
import type { OfficialGold } from "@lmcot/metrics";
import { isPlainHotpotGold } from "./checks";
import { evalSchemas } from "./schemas";

export type EvalDataset = "hotpotqa" | "2wikimultihopqa";

/** What scoring never reads, left undecoded: the paragraphs (most of the file's bytes) and the question. */
const SKIPPED = ["context", "question"];

const NAMES: Record<EvalDataset, string> = { hotpotqa: "HotpotQA", "2wikimultihopqa": "2WikiMultiHopQA" };

/**
 * Reads the gold file's scoring fields only (contexts and questions are skipped, never decoded). A record that
 * shows it belongs to the other dataset (`level` is HotpotQA's, `evidences` 2Wiki's) is an error.
 */
export async function readGold(path: string, dataset: EvalDataset): Promise<OfficialGold[]> {
  const file = basename(path);
  const out: OfficialGold[] = [];
  for await (const batch of readRawBatches(path, { skipKeys: SKIPPED })) {
    for (const raw of batch) {
      const shape = datasetOf(raw.value);
      if (shape && shape.dataset !== dataset)
        throw new DataValidationError(
          `is a ${NAMES[shape.dataset]} record (it has ${shape.field}), but --dataset is ${dataset}`,
          { file, record: raw.record, line: raw.line },
        );
      if (isPlainHotpotGold(raw.value)) out.push(raw.value);
      else {
        const at = { file, record: raw.record, line: raw.line };
        out.push(validate((await evalSchemas()).gold, raw.value, at) as OfficialGold);
      }
    }
  }
  return out;
}
