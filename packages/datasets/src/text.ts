import { basename } from "node:path";
import { DataValidationError } from "@lmcot/core";
import { jsonSyntaxErrorAt } from "./json-syntax";
import type { LineOptions } from "./jsonl";
import { maxRecordBytes, recordTooLarge } from "./limits";
import { readChunks } from "./utf8";

/**
 * Reads a whole UTF-8 text file (a byte order mark skipped). The file is one record: over the size
 * limit (`LMCOT_MAX_RECORD_MB`, 64 MB) it is an error raised before it is all read.
 */
export async function readText(path: string, options: LineOptions = {}): Promise<string> {
  const limit = maxRecordBytes(options.maxRecordBytes);
  const parts: Buffer[] = [];
  let size = 0;
  for await (const { bytes } of readChunks(path, options.signal)) {
    size += bytes.length;
    if (size > limit) throw recordTooLarge(limit, { file: basename(path) });
    parts.push(Buffer.from(bytes));
  }
  return Buffer.concat(parts).toString("utf8");
}

/** 1-based line of the character at `pos`. */
function lineAt(text: string, pos: number): number {
  let line = 1;
  for (let nl = text.indexOf("\n"); nl >= 0 && nl < pos; nl = text.indexOf("\n", nl + 1)) line++;
  return line;
}

const position = (error: unknown) => {
  const at = /at position (\d+)/.exec((error as Error).message);
  return at ? Number(at[1]) : undefined;
};

/** Whether `JSON.parse` rejected `text` only because it stops too soon (a truncated document). */
export function endsEarly(text: string, error: unknown): boolean {
  const pos = position(error);
  return (
    (error as Error).message.includes("end of JSON input") ||
    (pos !== undefined && pos >= text.trimEnd().length)
  );
}

/** The error for JSON that `JSON.parse` rejected: the line where it broke, or that the file is truncated. */
export function jsonError(text: string, error: unknown, file: string): DataValidationError {
  if (endsEarly(text, error))
    return new DataValidationError("ends before its JSON is complete (the file is truncated)", {
      file,
      line: lineAt(text, text.trimEnd().length),
    });
  // V8 names no position for some errors ("Unexpected token '}', … is not valid JSON"): find it.
  const found = jsonSyntaxErrorAt(text);
  const pos = position(error) ?? (found >= 0 ? found : undefined);
  const short = (error as Error).message.replace(/\s+/g, " ");
  const column = pos === undefined ? "" : ` at column ${pos - text.lastIndexOf("\n", pos - 1)}`;
  return new DataValidationError(
    `is not valid JSON${column} (${short.length > 160 ? `${short.slice(0, 160)}…` : short})`,
    { file, ...(pos !== undefined ? { line: lineAt(text, pos) } : {}) },
  );
}

/** Reads a whole JSON file; an empty, truncated or malformed one is a `DataValidationError` naming the line. */
export async function readJson(path: string, options: LineOptions = {}): Promise<unknown> {
  const file = basename(path);
  const text = await readText(path, options);
  if (text.trim() === "") throw new DataValidationError("is empty", { file });
  try {
    return JSON.parse(text);
  } catch (error) {
    throw jsonError(text, error, file);
  }
}
