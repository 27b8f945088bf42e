import { basename } from "node:path";
import { DataValidationError } from "@lmcot/core";
import { firstChar, type RawRecord, type ScanOptions, scanJsonArrayBatches } from "./json-scan";
import { scanJsonl } from "./jsonl";

/** The raw records of a JSON-array or JSONL file, streamed. */
export async function* readRaw(path: string, options: ScanOptions = {}): AsyncGenerator<RawRecord> {
  for await (const batch of readRawBatches(path, options)) yield* batch;
}

/**
 * `readRaw` in batches (a JSON array's records a read buffer at a time, a JSONL file's one by one):
 * for a reader that keeps many small records, as `lmcot eval` keeps a gold file's answers.
 */
export async function* readRawBatches(path: string, options: ScanOptions = {}): AsyncGenerator<RawRecord[]> {
  const first = await firstChar(path);
  if (first === undefined) throw new DataValidationError("is empty", { file: basename(path) });
  if (first === "[") yield* scanJsonArrayBatches(path, options);
  else {
    for await (const raw of scanJsonl(path, options)) {
      if (options.skipKeys?.length && typeof raw.value === "object" && raw.value !== null) {
        for (const k of options.skipKeys) delete (raw.value as Record<string, unknown>)[k];
      }
      yield [raw];
    }
  }
}
