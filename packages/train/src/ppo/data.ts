import { basename } from "node:path";
import { type ContextOptions, DataValidationError, type Example, rationalePrompt } from "@lmcot/core";
import { validate } from "@lmcot/datasets";
import { exampleFromPrompt } from "@lmcot/rewards";
import { exportSchemas } from "../distill/export";
import { jsonLines } from "../jsonl";
import type { PpoQuery } from "./trainer";

/** PPO queries from examples: the input is the rationale prompt the KD model was trained on. */
export function rlQueries(examples: readonly Example[], context?: ContextOptions): PpoQuery<Example>[] {
  return examples.map((example) => ({ input: rationalePrompt.render(example, { context }), data: example }));
}

/**
 * Reads `rl-prompts.jsonl` (from `lmcot distill`): question and context are read back from each
 * prompt, the gold answer from `label` / `labels`. Errors name the file, line and field.
 */
export async function readRlPrompts(path: string): Promise<PpoQuery<Example>[]> {
  const out: PpoQuery<Example>[] = [];
  for await (const { value, file, line } of jsonLines(path)) {
    const row = validate(exportSchemas.rl, value, { file, line });
    const data = exampleFromPrompt(row.prompt, row.label, row.labels);
    if (!data)
      throw new DataValidationError("has no `Question: …` line (expected lmcot's rationale prompt)", {
        file,
        line,
        field: "prompt",
      });
    out.push({ input: row.prompt, data });
  }
  if (out.length === 0) throw new DataValidationError("has no prompts", { file: basename(path) });
  return out;
}
