import { basename } from "node:path";
import { DataValidationError } from "@lmcot/core";
import { maxRecordBytes, recordTooLarge } from "./limits";
import { type SkipKernel, skipKernel } from "./skip-kernel";
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

/** Bytes read at a time: more when the kernel skips most of them (fewer chunk ends and awaits per file). */
const CHUNK = 1 << 20;
export const SKIPPING_CHUNK = 4 << 20;
const FIRST_READ = 1 << 12;

/** A record's text, found in a chunk, waiting to be parsed. */
interface Found {
  text: string;
  record: number;
  line: number;
}

/**
 * The end of a string that starts at `from` (just after its opening quote, or at the top of a chunk):
 * the index of its closing quote, or -1 when it runs past the end of `bytes`. A quote is closing when
 * an even number of backslashes precedes it.
 */
function stringEnd(bytes: Buffer, from: number): number {
  for (let q = bytes.indexOf(QUOTE, from); q >= 0; q = bytes.indexOf(QUOTE, q + 1)) {
    let j = q - 1;
    while (j >= from && bytes[j] === BACKSLASH) j--;
    if (((q - 1 - j) & 1) === 0) return q;
  }
  return -1;
}

/** Whether the chunk ends on an unpaired backslash of a string that started at `from`. */
function endsEscaped(bytes: Buffer, from: number): boolean {
  let j = bytes.length - 1;
  while (j >= from && bytes[j] === BACKSLASH) j--;
  return ((bytes.length - 1 - j) & 1) === 1;
}

/**
 * The scanner's state between chunks, and its loop over one chunk. It finds each element's extent
 * (tracking strings and nesting; UTF-8 continuation bytes are never ASCII, so bytes are safe to
 * scan) and cuts a skipped key's value out of it while stepping over it.
 */
class ArrayScanner {
  depth = 0;
  inString = false;
  escaped = false;
  started = false;
  ended = false;
  line = 1;
  record = 0;
  recordLine = 1;
  /** File offset of the current record's `{`. */
  recordStart = 0;
  /** The current record's bytes from earlier chunks, copied. */
  carried: Buffer[] = [];
  /** Inside the current chunk: [start, end) pairs of the record's bytes so far. */
  pieces: number[] = [];
  skipping = false;
  /** The WebAssembly skipper over the current chunk, where there is one. */
  skipper: ReturnType<SkipKernel["over"]> | undefined;
  skipDepth = 0;
  /** The nesting inside the value being skipped. */
  skipNesting = 0;

  constructor(
    readonly file: string,
    readonly skip: readonly Buffer[],
    readonly limit: number,
    /** Where the chunks are read into when keys are skipped, and WebAssembly is there. */
    readonly kernel?: SkipKernel,
  ) {}

  fail(message: string, withRecord = true): DataValidationError {
    return new DataValidationError(message, {
      file: this.file,
      ...(withRecord ? { record: this.record } : {}),
      line: this.line,
    });
  }

  tooLarge(): DataValidationError {
    return recordTooLarge(this.limit, { file: this.file, record: this.record, line: this.recordLine });
  }

  /** Whether bytes[start, end] (a quoted key) is one of the keys to skip. */
  isSkipped(bytes: Buffer, start: number, end: number): boolean {
    for (const key of this.skip) {
      if (key.length !== end + 1 - start) continue;
      let k = 0;
      while (k < key.length && key[k] === bytes[start + k]) k++;
      if (k === key.length) return true;
    }
    return false;
  }

  /** The record that ends at `end` (exclusive) of this chunk, as text. */
  text(bytes: Buffer, end: number, partStart: number): string {
    const pieces = this.pieces;
    if (partStart >= 0) pieces.push(partStart, end);
    let text = "";
    if (this.carried.length === 0) {
      // The common case, a record inside one chunk: its pieces are cut at ASCII bytes, so each decodes alone.
      for (let p = 0; p < pieces.length; p += 2) text += bytes.toString("utf8", pieces[p], pieces[p + 1]);
    } else {
      const parts = this.carried;
      for (let p = 0; p < pieces.length; p += 2) parts.push(bytes.subarray(pieces[p], pieces[p + 1]));
      text = Buffer.concat(parts).toString("utf8");
      parts.length = 0;
    }
    pieces.length = 0;
    return text;
  }

  /** Drops a comma (and the spaces after it) that ends the record's bytes so far. */
  trimTrailingComma(bytes: Buffer): void {
    const pieces = this.pieces;
    for (let p = pieces.length - 2; p >= 0; p -= 2) {
      let end = pieces[p + 1]!;
      while (end > pieces[p]! && isSpace(bytes[end - 1]!)) end--;
      if (end === pieces[p]) continue;
      if (bytes[end - 1] === COMMA) pieces[p + 1] = end - 1;
      return;
    }
    const parts = this.carried;
    for (let p = parts.length - 1; p >= 0; p--) {
      const part = parts[p]!;
      let end = part.length;
      while (end > 0 && isSpace(part[end - 1]!)) end--;
      if (end === 0) continue;
      if (part[end - 1] === COMMA) parts[p] = part.subarray(0, end - 1);
      return;
    }
  }

  /** `stringEnd`, remembering a string cut by the end of the chunk for the next one. */
  stringEnd(bytes: Buffer, from: number): number {
    const end = stringEnd(bytes, from);
    this.inString = end < 0;
    this.escaped = end < 0 && endsEscaped(bytes, from);
    return end;
  }

  /**
   * Steps over the skipped value from `i` to the byte that ends it (a comma, or the record's closing
   * brace, left to the caller), tracking only nesting, strings and lines; `bytes.length` when the
   * chunk ends first. Most of a gold file's bytes pass through this small loop.
   */
  skipValue(bytes: Buffer, i: number): number {
    if (this.skipper) {
      const r = this.skipper(i, this.skipNesting);
      this.skipNesting = r.nesting;
      this.line += r.lines;
      this.inString = r.inString;
      this.escaped = r.escaped;
      return r.end;
    }
    const n = bytes.length;
    let nesting = this.skipNesting;
    let line = this.line;
    for (; i < n; i++) {
      const c = bytes[i]!;
      if (c === QUOTE) {
        const end = this.stringEnd(bytes, i + 1);
        if (end < 0) {
          i = n;
          break;
        }
        i = end;
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) nesting++;
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (nesting === 0) break;
        nesting--;
      } else if (c === COMMA) {
        if (nesting === 0) break;
      } else if (c === NEWLINE) line++;
    }
    this.skipNesting = nesting;
    this.line = line;
    return i;
  }

  /** Scans one chunk, appending the records that end in it to `out`. */
  scan(bytes: Buffer, offset: number, out: Found[]): void {
    const n = bytes.length;
    const skipAny = this.skip.length > 0;
    this.skipper = this.kernel?.over(bytes);
    let { depth, skipping } = this;
    let partStart = depth >= 2 && !skipping ? 0 : -1;
    let i = 0;
    if (this.inString) {
      // A string cut by the chunk boundary; a key cut so is simply not skipped.
      const end = this.stringEnd(bytes, this.escaped ? 1 : 0);
      i = end < 0 ? n : end + 1;
    }
    for (; i < n; i++) {
      if (skipping) {
        i = this.skipValue(bytes, i);
        if (i === n) break;
      }
      const c = bytes[i]!;
      if (c === QUOTE && depth >= 2) {
        const key = skipAny && depth === 2 && !skipping && isKeyPosition(bytes, i);
        const end = this.stringEnd(bytes, i + 1);
        if (end < 0) {
          i = n;
          break;
        }
        if (key && this.isSkipped(bytes, i, end)) {
          // Drop `"key": value` from the record: close the current piece before the key.
          if (partStart >= 0) this.pieces.push(partStart, i);
          partStart = -1;
          skipping = true;
          this.skipDepth = depth;
          this.skipNesting = 0;
        }
        i = end;
        continue;
      }
      if (c === NEWLINE) {
        this.line++;
        continue;
      }
      if (c === 32 || c === 9 || c === 13) continue;
      if (depth >= 2) {
        if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
        else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
        else if (skipping && c === COMMA && depth === this.skipDepth) {
          // End of a skipped value: resume after its comma.
          skipping = false;
          partStart = i + 1;
          continue;
        }
        if (depth !== 1) continue;
        if (skipping) {
          // The skipped key was the record's last: drop a dangling comma before closing.
          skipping = false;
          partStart = i;
          this.trimTrailingComma(bytes);
        }
        if (offset + i + 1 - this.recordStart > this.limit) throw this.tooLarge();
        out.push({ text: this.text(bytes, i + 1, partStart), record: this.record, line: this.recordLine });
        partStart = -1;
        this.record++;
        continue;
      }
      if (this.ended) throw this.fail("has data after the closing `]` of the top-level array", false);
      if (!this.started) {
        if (c !== OPEN_BRACKET) throw this.fail("must start with `[` (a JSON array of records)", false);
        this.started = true;
        depth = 1;
        continue;
      }
      if (c === COMMA) continue;
      if (c === CLOSE_BRACKET) {
        depth = 0;
        this.ended = true;
        continue;
      }
      if (c !== OPEN_BRACE) throw this.fail("must be an object");
      depth = 2;
      this.recordLine = this.line;
      this.recordStart = offset + i;
      partStart = i;
    }
    this.depth = depth;
    this.skipping = skipping;
    if (depth >= 2 && offset + n - this.recordStart > this.limit) throw this.tooLarge();
    if (partStart >= 0) this.pieces.push(partStart, n);
    // The chunk's buffer is reused for the next one: copy what the record still needs from it.
    if (depth >= 2) {
      const pieces = this.pieces;
      for (let p = 0; p < pieces.length; p += 2)
        this.carried.push(Buffer.from(bytes.subarray(pieces[p], pieces[p + 1])));
    }
    this.pieces.length = 0;
  }
}

/**
 * Streams the elements of a top-level JSON array without parsing the whole file: a byte-level
 * scanner finds each element's extent, and only that element is handed to `JSON.parse`. Memory
 * stays at one read buffer plus the records that end in it.
 */
export async function* scanJsonArray(
  path: string,
  options: ScanOptions | AbortSignal = {},
): AsyncGenerator<RawRecord> {
  for await (const batch of scanJsonArrayBatches(path, options)) yield* batch;
}

/**
 * `scanJsonArray` a read buffer at a time: the records that end in each chunk of the file, in order
 * (for a reader that keeps many small records, one await per chunk instead of one per record).
 */
export async function* scanJsonArrayBatches(
  path: string,
  options: ScanOptions | AbortSignal = {},
): AsyncGenerator<RawRecord[]> {
  const { signal, skipKeys = [], ...rest } = options instanceof AbortSignal ? { signal: options } : options;
  const file = basename(path);
  const kernel = skipKeys.length ? skipKernel(SKIPPING_CHUNK) : undefined;
  const scanner = new ArrayScanner(
    file,
    skipKeys.map((k) => Buffer.from(JSON.stringify(k))),
    maxRecordBytes(rest.maxRecordBytes),
    kernel,
  );
  const found: Found[] = [];
  for await (const { bytes, offset } of readChunks(
    path,
    signal,
    kernel ? SKIPPING_CHUNK : CHUNK,
    kernel?.buffers,
  )) {
    let error: unknown;
    try {
      scanner.scan(bytes, offset, found);
    } catch (e) {
      error = e;
    }
    // The records before an error are still handed out, in order, before it.
    const values = parseAll(found);
    const batch: RawRecord[] = [];
    for (let k = 0; k < found.length; k++) {
      const f = found[k]!;
      try {
        batch.push({ value: values ? values[k] : JSON.parse(f.text), record: f.record, line: f.line });
      } catch (e) {
        error = new DataValidationError(`is not valid JSON (${(e as Error).message})`, {
          file,
          record: f.record,
          line: f.line,
        });
        break;
      }
    }
    found.length = 0;
    if (batch.length) yield batch;
    if (error) throw error;
  }
  if (!scanner.started) throw new DataValidationError("is empty", { file });
  if (!scanner.ended) {
    const inRecord = scanner.depth > 1;
    throw new DataValidationError(
      inRecord
        ? "ends inside a record (the file is truncated)"
        : "ends before the closing `]` (the file is truncated)",
      { file, record: scanner.record, line: inRecord ? scanner.recordLine : scanner.line },
    );
  }
}

/**
 * The chunk's records parsed in one `JSON.parse` (one call instead of one per record), or undefined
 * when that fails (or they are large): then each is parsed alone, naming the bad one. Each text is
 * one bracket-balanced element, so the array has exactly these elements whenever it parses.
 */
function parseAll(found: readonly Found[]): unknown[] | undefined {
  if (found.length < 2) return undefined;
  // Large records are parsed alone: joined, they would be held twice.
  let length = 0;
  for (const f of found) length += f.text.length;
  if (length > CHUNK) return undefined;
  try {
    const values = JSON.parse(`[${found.map((f) => f.text).join(",")}]`) as unknown[];
    return values.length === found.length ? values : undefined;
  } catch {
    return undefined;
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

/** The first non-whitespace character of a file (after a byte order mark), or undefined when it has none. */
export async function firstChar(path: string): Promise<string | undefined> {
  // Small reads: the answer is almost always in the first bytes, and the file is read again after.
  for await (const { bytes } of readChunks(path, undefined, FIRST_READ)) {
    const i = bytes.findIndex((c) => !isSpace(c));
    if (i >= 0) return bytes.toString("utf8", i, i + 4)[0];
  }
  return undefined;
}
