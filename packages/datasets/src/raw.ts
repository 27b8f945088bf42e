import { basename } from "node:path";
import { DataValidationError } from "@lmcot/core";
import { firstChar, type RawRecord, type ScanOptions, scanJsonArray } from "./json-scan";
import { scanJsonl } from "./jsonl";

/** The raw records of a JSON-array or JSONL file, streamed. */
export async function* readRaw(path: string, options: ScanOptions = {}): AsyncGenerator<RawRecord> {
  const first = await firstChar(path);
  if (first === undefined) throw new DataValidationError("is empty", { file: basename(path) });
  if (first === "[") yield* scanJsonArray(path, options);
  else {
    for await (const raw of scanJsonl(path, options)) {
      if (options.skipKeys?.length && typeof raw.value === "object" && raw.value !== null) {
        for (const k of options.skipKeys) delete (raw.value as Record<string, unknown>)[k];
      }
      yield raw;
    }
  }
}
