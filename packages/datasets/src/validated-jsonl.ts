import { existsSync } from "node:fs";
import { basename } from "node:path";
import { DataValidationError } from "@lmcot/core";
import type { z } from "zod";
import { readLines } from "./jsonl";
import { validate } from "./validate";

/**
 * The records of a JSONL file the project wrote (a run's `run.jsonl`, `errors.jsonl`, …), each checked
 * by `schema` (a missing file has none). A torn last line (a kill in the middle of an append) is
 * ignored; a line that is not JSON, or a record with a bad field, is an error naming the file, line
 * and field: the file may have been edited by hand, and what it holds is rendered in pages.
 */
export async function* readValidatedJsonl<T>(
  path: string,
  schema: z.ZodType<T>,
): AsyncGenerator<{ value: T; line: number }> {
  if (!existsSync(path)) return;
  const file = basename(path);
  for await (const { text, line, terminated } of readLines(path)) {
    if (text.trim() === "" || !terminated) continue;
    yield { value: parseJsonLine(text, schema, { file, line }), line };
  }
}

/** One JSONL line checked by `schema`; not JSON, or a bad field, is an error naming the file and line. */
export function parseJsonLine<T>(text: string, schema: z.ZodType<T>, at: { file: string; line: number }): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new DataValidationError("is not valid JSON", at);
  }
  return validate(schema, value, at);
}
