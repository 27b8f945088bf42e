import { basename } from "node:path";
import { DataValidationError } from "@lmcot/core";
import { readLines, validate } from "@lmcot/datasets";
import { z } from "zod";

/** One distillation pair: the small LM's input (rationale prompt) and the teacher's rationale. */
export interface DistillationPair {
  input: string;
  target: string;
}

const text = z.string().min(1, "must be a non-empty string");

/** Accepts `{input, target}`, TRL SFT `{prompt, completion}` and seq2seq `{source, target}` lines. */
const pairSchema = z.union([
  z.object({ input: text, target: text }).transform((r) => ({ input: r.input, target: r.target })),
  z.object({ prompt: text, completion: text }).transform((r) => ({ input: r.prompt, target: r.completion })),
  z.object({ source: text, target: text }).transform((r) => ({ input: r.source, target: r.target })),
]);

const shapeHint = "each line needs {input, target}, {prompt, completion} or {source, target} strings";

/** Reads a distillation JSONL file, validating every line (errors name the file, line and field). */
export async function readDistillation(path: string): Promise<DistillationPair[]> {
  const file = basename(path);
  const out: DistillationPair[] = [];
  try {
    for await (const { text: raw, line } of readLines(path)) {
      if (!raw.trim()) continue;
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch {
        throw new DataValidationError("is not valid JSON", { file, line });
      }
      if (typeof value !== "object" || value === null || Array.isArray(value))
        throw new DataValidationError(`is not a JSON object (${shapeHint})`, { file, line });
      const keys = Object.keys(value);
      const known = ["input", "prompt", "source"].some((k) => keys.includes(k));
      if (!known)
        throw new DataValidationError(`has none of input / prompt / source (${shapeHint})`, { file, line });
      const schema = keys.includes("input")
        ? pairSchema.options[0]
        : keys.includes("prompt")
          ? pairSchema.options[1]
          : pairSchema.options[2];
      out.push(validate(schema as z.ZodType<DistillationPair>, value, { file, line }));
    }
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === "ENOENT")
      throw new DataValidationError("file not found", { file: path });
    throw cause;
  }
  if (out.length === 0) throw new DataValidationError(`has no training pairs (${shapeHint})`, { file });
  return out;
}
