import { basename } from "node:path";
import { type DatasetName, DataValidationError, type Example } from "@lmcot/core";
import type { RawRecord } from "./json-scan";
import { readRaw } from "./raw";
import {
  detectFormat,
  exampleRecord,
  fromHotpot,
  fromTwoWiki,
  hotpotRecord,
  type RecordFormat,
  twoWikiRecord,
} from "./records";
import { validate } from "./validate";

export interface ReadOptions {
  /** Force the record format; by default each record's fields decide (HotpotQA, 2Wiki or lmcot Example). */
  dataset?: DatasetName | "example";
  /** What to do with a bad record: fail the read (default) or skip it and report through `onSkip`. */
  onError?: "throw" | "skip";
  onSkip?: (error: DataValidationError) => void;
  signal?: AbortSignal;
  /** The largest record, in bytes: default `LMCOT_MAX_RECORD_MB` or 64 MB. A larger one is an error. */
  maxRecordBytes?: number;
}

function toExample(raw: RawRecord, format: RecordFormat, file: string): Example {
  const at = { file, record: raw.record, line: raw.line };
  if (format === "2wikimultihopqa") return fromTwoWiki(validate(twoWikiRecord, raw.value, at));
  if (format === "example") return validate(exampleRecord, raw.value, at) as Example;
  return fromHotpot(validate(hotpotRecord, raw.value, at));
}

/**
 * Streams a HotpotQA or 2WikiMultiHopQA file (the official JSON array, or JSONL) as `Example`s,
 * validating every record. Memory stays bounded whatever the file size.
 */
export async function* readDataset(path: string, options: ReadOptions = {}): AsyncGenerator<Example> {
  const file = basename(path);
  const forced = options.dataset === undefined ? undefined : (options.dataset as RecordFormat);
  const { signal, maxRecordBytes } = options;
  const records = readRaw(path, { signal, maxRecordBytes });
  try {
    yield* examples(records, forced, file, options);
  } finally {
    // Stopped early by the caller: close the file now, not when the reader is garbage collected.
    await records.return(undefined);
  }
}

async function* examples(
  records: AsyncGenerator<RawRecord>,
  forced: RecordFormat | undefined,
  file: string,
  options: ReadOptions,
): AsyncGenerator<Example> {
  for (;;) {
    let next: IteratorResult<RawRecord>;
    try {
      next = await records.next();
    } catch (error) {
      // A broken file (truncated, not JSON) ends the read; in skip mode it is reported, not thrown.
      if (options.onError === "skip" && DataValidationError.isInstance(error)) {
        options.onSkip?.(error as DataValidationError);
        return;
      }
      throw error;
    }
    if (next.done) return;
    try {
      yield toExample(next.value, forced ?? detectFormat(next.value.value), file);
    } catch (error) {
      if (options.onError !== "skip" || !DataValidationError.isInstance(error)) throw error;
      options.onSkip?.(error as DataValidationError);
    }
  }
}

/** Reads a whole (small) file into memory. */
export async function readAll(path: string, options: ReadOptions = {}): Promise<Example[]> {
  const out: Example[] = [];
  for await (const example of readDataset(path, options)) out.push(example);
  return out;
}
