import { basename } from "node:path";
import { DataValidationError } from "@lmcot/core";
import type { RawRecord, ScanOptions } from "./json-scan";
import { maxRecordBytes, recordTooLarge } from "./limits";
import { readChunks } from "./utf8";

/** A line of a JSONL file as text, with its 1-based number and whether a newline ended it. */
export interface JsonlLine {
  text: string;
  line: number;
  /** Byte offset just past this line (and its newline). */
  end: number;
  terminated: boolean;
}

export interface LineOptions {
  signal?: AbortSignal;
  /** The longest line, in bytes: default `LMCOT_MAX_RECORD_MB` or 64 MB. A longer one is an error. */
  maxRecordBytes?: number;
}

/**
 * Splits a file into lines, streaming, tracking byte offsets. The file must be UTF-8 (a leading byte
 * order mark is skipped); a line over the size limit is an error raised before it is all read.
 */
export async function* readLines(
  path: string,
  options: LineOptions | AbortSignal = {},
): AsyncGenerator<JsonlLine> {
  const { signal, maxRecordBytes: max } = options instanceof AbortSignal ? { signal: options } : options;
  const limit = maxRecordBytes(max);
  const file = basename(path);
  // The start of the current line, from earlier chunks.
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let offset = -1;
  let line = 0;
  const take = (bytes: Buffer): string => {
    const text = pending.length
      ? Buffer.concat([...pending, bytes]).toString("utf8")
      : bytes.toString("utf8");
    offset += pendingBytes + bytes.length;
    pending = [];
    pendingBytes = 0;
    return text;
  };
  for await (const chunk of readChunks(path, signal)) {
    const bytes = chunk.bytes;
    if (offset < 0) offset = chunk.offset;
    let start = 0;
    for (let nl = bytes.indexOf(10); nl >= 0; nl = bytes.indexOf(10, start)) {
      line++;
      if (pendingBytes + nl - start > limit) throw recordTooLarge(limit, { file, line });
      const text = take(bytes.subarray(start, nl));
      offset++; // the newline
      yield { text: text.endsWith("\r") ? text.slice(0, -1) : text, line, end: offset, terminated: true };
      start = nl + 1;
    }
    if (start < bytes.length) {
      pending.push(Buffer.from(bytes.subarray(start)));
      pendingBytes += bytes.length - start;
      if (pendingBytes > limit) throw recordTooLarge(limit, { file, line: line + 1 });
    }
  }
  if (pendingBytes) {
    line++;
    yield { text: take(Buffer.alloc(0)), line, end: offset, terminated: false };
  }
}

/**
 * Streams the records of a JSONL file (blank lines skipped). A line that is not valid JSON is a
 * `DataValidationError` naming the line; a torn last line (no newline, invalid JSON) says so.
 */
export async function* scanJsonl(
  path: string,
  options: ScanOptions | AbortSignal = {},
): AsyncGenerator<RawRecord> {
  const file = basename(path);
  let record = 0;
  for await (const { text, line, terminated } of readLines(path, options)) {
    if (text.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      const problem = terminated
        ? `is not valid JSON (${(error as Error).message})`
        : "is a torn last line (no newline at the end and not valid JSON: the file was cut while being written)";
      throw new DataValidationError(problem, { file, line, record });
    }
    yield { value, record, line };
    record++;
  }
}
