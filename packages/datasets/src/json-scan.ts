import { createReadStream } from "node:fs";
import { basename } from "node:path";
import { DataValidationError } from "@lmcot/core";

/** One raw record out of a file, with where it came from. */
export interface RawRecord {
  value: unknown;
  /** 0-based record index. */
  record: number;
  /** 1-based line where the record starts. */
  line: number;
}

const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const QUOTE = 34;
const BACKSLASH = 92;
const NEWLINE = 10;
const COMMA = 44;

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/**
 * Streams the elements of a top-level JSON array without parsing the whole file: a byte-level
 * scanner finds each element's extent (tracking strings and nesting), and only that element is
 * handed to `JSON.parse`. Memory stays at one record plus one read buffer.
 */
export async function* scanJsonArray(path: string, signal?: AbortSignal): AsyncGenerator<RawRecord> {
  const file = basename(path);
  let depth = 0;
  let inString = false;
  let escaped = false;
  let started = false;
  let ended = false;
  let line = 1;
  let record = 0;
  let recordLine = 1;
  let pieces: string[] = [];
  let pieceStart = -1;

  const parse = (text: string): unknown => {
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new DataValidationError(`is not valid JSON (${(error as Error).message})`, {
        file,
        record,
        line: recordLine,
      });
    }
  };

  for await (const chunk of createReadStream(path, { encoding: "utf8", highWaterMark: 1 << 20 })) {
    if (signal?.aborted) return;
    const text = chunk as string;
    pieceStart = depth >= 2 ? 0 : -1;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === NEWLINE) line++;
      if (inString) {
        if (escaped) escaped = false;
        else if (c === BACKSLASH) escaped = true;
        else if (c === QUOTE) inString = false;
        continue;
      }
      if (isSpace(c)) continue;
      if (ended)
        throw new DataValidationError("has data after the closing `]` of the top-level array", {
          file,
          line,
        });
      if (!started) {
        if (c !== OPEN_BRACKET)
          throw new DataValidationError("must start with `[` (a JSON array of records)", { file, line });
        started = true;
        depth = 1;
        continue;
      }
      if (depth === 1) {
        if (c === COMMA) continue;
        if (c === CLOSE_BRACKET) {
          depth = 0;
          ended = true;
          continue;
        }
        if (c !== OPEN_BRACE) {
          throw new DataValidationError("must be an object", { file, record, line });
        }
        depth = 2;
        recordLine = line;
        pieces = [];
        pieceStart = i;
        continue;
      }
      if (c === QUOTE) inString = true;
      else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        depth--;
        if (depth === 1) {
          pieces.push(text.slice(pieceStart, i + 1));
          pieceStart = -1;
          const value = parse(pieces.length === 1 ? pieces[0]! : pieces.join(""));
          pieces = [];
          yield { value, record, line: recordLine };
          record++;
        }
      }
    }
    if (pieceStart >= 0) pieces.push(text.slice(pieceStart));
  }
  if (!started) throw new DataValidationError("is empty", { file });
  if (!ended) {
    throw new DataValidationError(
      depth > 1
        ? "ends inside a record (the file is truncated)"
        : "ends before the closing `]` (the file is truncated)",
      { file, record, line: depth > 1 ? recordLine : line },
    );
  }
}

/** The first non-whitespace character of a file, or undefined when it has none. */
export async function firstChar(path: string): Promise<string | undefined> {
  for await (const chunk of createReadStream(path, { encoding: "utf8", highWaterMark: 1 << 16 })) {
    const m = /\S/.exec(chunk as string);
    if (m) return m[0];
  }
  return undefined;
}
