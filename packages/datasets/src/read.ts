import { basename } from "node:path";
import type { Example } from "@lmcot/core";
import { readRaw } from "./raw";
import { examples, type ReadOptions } from "./read-records";

export type { ReadOptions } from "./read-records";

/**
 * Streams a HotpotQA or 2WikiMultiHopQA file (the official JSON array, or JSONL) as `Example`s,
 * validating every record. Memory stays bounded whatever the file size.
 */
export async function* readDataset(path: string, options: ReadOptions = {}): AsyncGenerator<Example> {
  const file = basename(path);
  const { signal, maxRecordBytes } = options;
  const records = readRaw(path, { signal, maxRecordBytes });
  try {
    yield* examples(records, file, options);
  } finally {
    // Stopped early by the caller: close the file now, not when the reader is garbage collected.
    await records.return(undefined);
  }
}

/** Reads a whole (small) file into memory. */
export async function readAll(path: string, options: ReadOptions = {}): Promise<Example[]> {
  const out: Example[] = [];
  for await (const example of readDataset(path, options)) out.push(example);
  return out;
}
