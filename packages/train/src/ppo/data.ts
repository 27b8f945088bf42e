import { basename } from "node:path";
import {
  type ContextOptions,
  DataValidationError,
  type Example,
  fnv1a,
  parsePrompt,
  rationalePrompt,
} from "@lmcot/core";
import { readLines, validate } from "@lmcot/datasets";
import { z } from "zod";
import type { PpoQuery } from "./trainer";

/** PPO queries from examples: the input is the rationale prompt the KD model was trained on. */
export function rlQueries(examples: readonly Example[], context?: ContextOptions): PpoQuery<Example>[] {
  return examples.map((example) => ({ input: rationalePrompt.render(example, { context }), data: example }));
}

const rlLine = z.object({
  prompt: z.string().min(1, "must be a non-empty string"),
  label: z.string(),
  labels: z.array(z.string()).optional(),
});

/**
 * Reads `rl-prompts.jsonl` (from `lmcot distill`): question and context are read back from each
 * prompt, the gold answer from `label` / `labels`. Errors name the file, line and field.
 */
export async function readRlPrompts(path: string): Promise<PpoQuery<Example>[]> {
  const file = basename(path);
  const out: PpoQuery<Example>[] = [];
  try {
    for await (const { text, line } of readLines(path)) {
      if (!text.trim()) continue;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        throw new DataValidationError("is not valid JSON", { file, line });
      }
      const row = validate(rlLine, value, { file, line });
      const parsed = parsePrompt(row.prompt);
      if (!parsed?.question)
        throw new DataValidationError("has no `Question: …` line (expected lmcot's rationale prompt)", {
          file,
          line,
          field: "prompt",
        });
      const aliases = row.labels ?? [row.label];
      out.push({
        input: row.prompt,
        data: {
          id: fnv1a(row.prompt),
          dataset: "custom",
          question: parsed.question,
          answer: row.label,
          ...(aliases.length > 1 ? { answerAliases: aliases } : {}),
          context: parsed.context,
        },
      });
    }
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === "ENOENT")
      throw new DataValidationError("file not found", { file: path });
    throw cause;
  }
  if (out.length === 0) throw new DataValidationError("has no prompts", { file });
  return out;
}
