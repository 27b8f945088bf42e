import { basename } from "node:path";
import { DataValidationError } from "@lmcot/core";
import { readLines, validate } from "@lmcot/datasets";
import type { z } from "zod";

/** Each non-blank line of a JSONL file, parsed; bad JSON or a missing file is an error naming file and line. */
export async function* jsonLines(
  path: string,
): AsyncGenerator<{ value: unknown; file: string; line: number }> {
  const file = basename(path);
  try {
    for await (const { text, line } of readLines(path)) {
      if (!text.trim()) continue;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        throw new DataValidationError("is not valid JSON", { file, line });
      }
      yield { value, file, line };
    }
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === "ENOENT")
      throw new DataValidationError("file not found", { file: path });
    throw cause;
  }
}

/** Each line validated by `schema`; the first bad line is an error naming file, line and field. */
export async function* validatedLines<T>(path: string, schema: z.ZodType<T>): AsyncGenerator<T> {
  for await (const { value, file, line } of jsonLines(path)) yield validate(schema, value, { file, line });
}
