import { basename } from "node:path";
import { DataValidationError } from "@lmcot/core";
import { validate } from "@lmcot/datasets";
import { z } from "zod";
import { jsonLines } from "../jsonl";

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
  const out: DistillationPair[] = [];
  for await (const { value, file, line } of jsonLines(path)) {
    if (typeof value !== "object" || value === null || Array.isArray(value))
      throw new DataValidationError(`is not a JSON object (${shapeHint})`, { file, line });
    const keys = Object.keys(value);
    const schema = keys.includes("input")
      ? pairSchema.options[0]
      : keys.includes("prompt")
        ? pairSchema.options[1]
        : keys.includes("source")
          ? pairSchema.options[2]
          : undefined;
    if (schema === undefined)
      throw new DataValidationError(`has none of input / prompt / source (${shapeHint})`, { file, line });
    out.push(validate(schema as z.ZodType<DistillationPair>, value, { file, line }));
  }
  if (out.length === 0)
    throw new DataValidationError(`has no training pairs (${shapeHint})`, { file: basename(path) });
  return out;
}
