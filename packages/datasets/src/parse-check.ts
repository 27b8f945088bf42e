import { type DatasetName, DataValidationError, errorMessage } from "@lmcot/core";
import { DataFetchError } from "./data-errors";
import { readRaw } from "./raw";
import { readDataset } from "./read";

/** How a file is parsed: as records of a format (detected per record when undefined), or only as JSON / JSONL. */
export type ParseAs = DatasetName | "records" | "json";

/** What a parse found: the records it read, and how it read them. */
export interface ParseResult {
  records: number;
  as: ParseAs;
}

export const describeParse = (p: ParseResult) =>
  `${p.records} ${p.as === "json" ? "JSON values" : p.as === "records" ? "records" : `${p.as} records`}`;

/**
 * Reads a whole file once with the streaming readers (every record validated against its format's
 * schema), so a truncated body or a substituted file is caught before it is trusted. A failure is a
 * `DataFetchError` (`data_invalid`) naming `what`, the reader's line and field, and `after`.
 */
export async function parseCheck(
  path: string,
  as: ParseAs,
  what: string,
  after: string,
  signal?: AbortSignal,
): Promise<ParseResult> {
  let records = 0;
  try {
    if (as === "json") for await (const _ of readRaw(path, { signal })) records++;
    else
      for await (const _ of readDataset(path, { ...(as === "records" ? {} : { dataset: as }), signal }))
        records++;
  } catch (error) {
    if (!DataValidationError.isInstance(error)) throw error;
    const kind = as === "json" ? "JSON" : as === "records" ? "dataset" : as;
    throw new DataFetchError(
      "data_invalid",
      `${what} is not a valid ${kind} file: ${errorMessage(error)}; ${after}`,
      {
        cause: error,
      },
    );
  }
  return { records, as };
}
