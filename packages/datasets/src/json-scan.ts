import { basename } from "node:path";
import { DataValidationError } from "@lmcot/core";
import { maxRecordBytes, recordTooLarge } from "./limits";
import { readChunks } from "./utf8";

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

export interface ScanOptions {
  signal?: AbortSignal;
  /**
   * Top-level keys of each record to leave out before parsing (e.g. `["context"]` when only answers
   * and supporting facts are needed): their bytes are never decoded.
   */
  skipKeys?: readonly string[];
  /** The largest record, in bytes: default `LMCOT_MAX_RECORD_MB` or 64 MB. A larger one is an error. */
  maxRecordBytes?: number;
}

/**
 * Streams the elements of a top-level JSON array without parsing the whole file: a byte-level
 * scanner finds each element's extent (tracking strings and nesting; UTF-8 continuation bytes are
 * never ASCII, so bytes are safe to scan), and only that element is handed to `JSON.parse`. Memory
 * stays at one record plus one read buffer.
 */
export async function* scanJsonArray(
  path: string,
  options: ScanOptions | AbortSignal = {},
): AsyncGenerator<RawRecord> {
  const { signal, skipKeys = [], ...rest } = options instanceof AbortSignal ? { signal: options } : options;
  const limit = maxRecordBytes(rest.maxRecordBytes);
  const skip = skipKeys.map((k) => Buffer.from(JSON.stringify(k)));
  const file = basename(path);
  let depth = 0;
  let inString = false;
  let escaped = false;
  let started = false;
  let ended = false;
  let line = 1;
  let record = 0;
  let recordLine = 1;
  let recordStart = 0; // file offset of the current record's `{`
  // The current record's bytes, kept as parts; `skipping` drops a skipped key's value.
  let parts: Buffer[] = [];
  let partStart = -1;
  let keyStart = -1;
  let skipping = false;
  let skipDepth = 0;

  const parse = (): unknown => {
    const text = Buffer.concat(parts).toString("utf8");
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

  const tooLarge = () => recordTooLarge(limit, { file, record, line: recordLine });

  for await (const { bytes, offset } of readChunks(path, signal)) {
    partStart = depth >= 2 && !skipping ? 0 : -1;
    keyStart = -1; // a key cut by the chunk boundary is simply not skipped
    let backslash = bytes.indexOf(BACKSLASH);
    for (let i = 0; i < bytes.length; i++) {
      const c = bytes[i]!;
      if (inString) {
        // Jump to the next quote or backslash instead of stepping through the string.
        if (!escaped) {
          const q = bytes.indexOf(QUOTE, i);
          if (backslash >= 0 && backslash < i) backslash = bytes.indexOf(BACKSLASH, i);
          const b = backslash;
          const next = q < 0 ? b : b < 0 ? q : Math.min(q, b);
          if (next < 0) {
            i = bytes.length;
            break;
          }
          i = next;
          if (bytes[i] === BACKSLASH) escaped = true;
          else inString = false;
          if (!inString && keyStart >= 0 && depth === 2 && !skipping) {
            const key = bytes.subarray(keyStart, i + 1);
            if (skip.some((k) => k.equals(key))) {
              // Drop `"key": value` from the record: close the current part before the key.
              if (partStart >= 0) parts.push(bytes.subarray(partStart, keyStart));
              skipping = true;
              skipDepth = depth;
              partStart = -1;
            }
          }
          keyStart = -1;
        } else escaped = false;
        continue;
      }
      if (c === NEWLINE) {
        line++;
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
        if (c !== OPEN_BRACE) throw new DataValidationError("must be an object", { file, record, line });
        depth = 2;
        recordLine = line;
        recordStart = offset + i;
        parts = [];
        partStart = i;
        continue;
      }
      if (c === QUOTE) {
        inString = true;
        if (depth === 2 && !skipping && skip.length && isKeyPosition(bytes, i)) keyStart = i;
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
      else if (skipping && depth === skipDepth && c === COMMA) {
        // End of a skipped value: resume after its comma.
        skipping = false;
        partStart = i + 1;
        continue;
      }
      if (skipping && depth === 1) {
        // The skipped key was the record's last: drop a dangling comma before closing.
        skipping = false;
        partStart = i;
        trimTrailingComma(parts);
      }
      if (depth === 1) {
        if (offset + i + 1 - recordStart > limit) throw tooLarge();
        parts.push(bytes.subarray(partStart, i + 1));
        partStart = -1;
        const value = parse();
        parts = [];
        yield { value, record, line: recordLine };
        record++;
      }
    }
    if (depth >= 2 && offset + bytes.length - recordStart > limit) throw tooLarge();
    if (partStart >= 0) parts.push(bytes.subarray(partStart));
    // The chunk's buffer is reused for the next one: copy what the record still needs from it.
    if (depth >= 2) parts = parts.map((p) => (p.buffer === bytes.buffer ? Buffer.from(p) : p));
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

/** Whether the quote at `i` opens an object key: the previous non-space byte is `{` or `,`. */
function isKeyPosition(bytes: Buffer, i: number): boolean {
  for (let j = i - 1; j >= 0; j--) {
    const c = bytes[j]!;
    if (isSpace(c)) continue;
    return c === OPEN_BRACE || c === COMMA;
  }
  return false;
}

function trimTrailingComma(parts: Buffer[]): void {
  for (let p = parts.length - 1; p >= 0; p--) {
    const part = parts[p]!;
    let end = part.length;
    while (end > 0 && isSpace(part[end - 1]!)) end--;
    if (end === 0) continue;
    if (part[end - 1] === COMMA) parts[p] = part.subarray(0, end - 1);
    return;
  }
}

/** The first non-whitespace character of a file (after a byte order mark), or undefined when it has none. */
export async function firstChar(path: string): Promise<string | undefined> {
  for await (const { bytes } of readChunks(path)) {
    const i = bytes.findIndex((c) => !isSpace(c));
    if (i >= 0) return bytes.toString("utf8", i, i + 4)[0];
  }
  return undefined;
}
