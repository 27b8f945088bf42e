import { type DatasetName, DataValidationError, type Example } from "@lmcot/core";
import type { RawRecord } from "./json-scan";
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

// Raw records → validated Examples, whatever they were read from (a file on Node, a stream in browsers).

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

/** The validated Examples of `records` (read from `file`), a bad one thrown or skipped as `options` say. */
export async function* examples(
  records: AsyncGenerator<RawRecord>,
  file: string,
  options: ReadOptions,
): AsyncGenerator<Example> {
  const forced = options.dataset === undefined ? undefined : (options.dataset as RecordFormat);
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
