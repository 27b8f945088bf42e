import { createReadStream } from "node:fs";
import { basename } from "node:path";
import { DataValidationError } from "@lmcot/core";
import type { RawRecord } from "./json-scan";

/** A line of a JSONL file as text, with its 1-based number and whether a newline ended it. */
export interface JsonlLine {
  text: string;
  line: number;
  /** Byte offset just past this line (and its newline). */
  end: number;
  terminated: boolean;
}

/** Splits a file into lines, streaming, tracking byte offsets. */
export async function* readLines(path: string, signal?: AbortSignal): AsyncGenerator<JsonlLine> {
  let carry = Buffer.alloc(0);
  let offset = 0;
  let line = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    if (signal?.aborted) return;
    let buffer = carry.length ? Buffer.concat([carry, chunk as Buffer]) : (chunk as Buffer);
    let start = 0;
    for (let nl = buffer.indexOf(10, start); nl >= 0; nl = buffer.indexOf(10, start)) {
      line++;
      offset += nl + 1 - start;
      yield {
        text: buffer.toString("utf8", start, nl).replace(/\r$/, ""),
        line,
        end: offset,
        terminated: true,
      };
      start = nl + 1;
    }
    buffer = buffer.subarray(start);
    carry = Buffer.from(buffer);
  }
  if (carry.length) {
    line++;
    offset += carry.length;
    yield { text: carry.toString("utf8"), line, end: offset, terminated: false };
  }
}

/**
 * Streams the records of a JSONL file (blank lines skipped). A line that is not valid JSON is a
 * `DataValidationError` naming the line; a torn last line (no newline, invalid JSON) says so.
 */
export async function* scanJsonl(path: string, signal?: AbortSignal): AsyncGenerator<RawRecord> {
  const file = basename(path);
  let record = 0;
  for await (const { text, line, terminated } of readLines(path, signal)) {
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
