import { writeFileSync } from "node:fs";
import { type ContextOptions, type Example, rationalePrompt } from "@lmcot/core";
import { exampleRecord } from "@lmcot/datasets";
import { z } from "zod";
import { validatedLines } from "../jsonl";
import type { KeptRationale } from "./distill";

export type ExportFormat = "trl" | "openai" | "seq2seq" | "rl";

const keptRow = z.object({
  id: z.string().min(1),
  sample: z.number().int().nonnegative(),
  example: exampleRecord,
  rationale: z.string().min(1),
  prediction: z.string(),
  teacher: z.string(),
  promptVersion: z.string(),
});

/** The line schema of each export format (what the trainers read). */
export const exportSchemas = {
  /** Hugging Face TRL `SFTTrainer` prompt-completion format. */
  trl: z.object({ prompt: z.string().min(1), completion: z.string().min(1) }),
  /** OpenAI fine-tuning chat format. */
  openai: z.object({
    messages: z
      .array(z.object({ role: z.enum(["system", "user", "assistant"]), content: z.string().min(1) }))
      .min(2)
      .refine((m) => m.at(-1)?.role === "assistant", "must end with the assistant's message"),
  }),
  /** Plain seq2seq pairs (e.g. `Seq2SeqTrainer` on FLAN-T5). */
  seq2seq: z.object({ source: z.string().min(1), target: z.string().min(1) }),
  /**
   * RL prompts for the PPO step: the rationale prompt and the gold answer (`labels` holds every
   * accepted alias when there are several). OpenRLHF `--input_key prompt --label_key label`; TRL
   * passes `label` to reward functions; `lmcot rewards serve` reads both.
   */
  rl: z.object({
    prompt: z.string().min(1),
    label: z.string().min(1),
    labels: z.array(z.string().min(1)).min(2).optional(),
  }),
} as const;

/** Reads `kept.jsonl`, validating every line. */
export async function readKept(path: string): Promise<KeptRationale[]> {
  const out: KeptRationale[] = [];
  for await (const row of validatedLines(path, keptRow)) out.push(row as KeptRationale);
  return out;
}

/**
 * One training line. The input is exactly the small LM's rationale prompt from `@lmcot/core`
 * (same template, same context options), so the trained model sees at inference what it saw in training.
 */
export function exportLine(row: KeptRationale, format: ExportFormat, context?: ContextOptions): unknown {
  const prompt = rationalePrompt.render(row.example as Example, { context });
  if (format === "trl") return { prompt, completion: ` ${row.rationale}` };
  if (format === "openai")
    return {
      messages: [
        { role: "user", content: prompt },
        { role: "assistant", content: row.rationale },
      ],
    };
  if (format === "rl") {
    const aliases = row.example.answerAliases ?? [];
    return { prompt, label: row.example.answer, ...(aliases.length > 1 ? { labels: aliases } : {}) };
  }
  return { source: prompt, target: row.rationale };
}

/**
 * Writes one export file from kept rationales; returns the number of lines. The `rl` format writes
 * one line per question (not per kept sample).
 */
export function writeExport(
  rows: readonly KeptRationale[],
  format: ExportFormat,
  path: string,
  context?: ContextOptions,
): number {
  const seen = new Set<string>();
  const chosen = format === "rl" ? rows.filter((r) => !seen.has(r.id) && seen.add(r.id)) : rows;
  writeFileSync(path, chosen.map((r) => `${JSON.stringify(exportLine(r, format, context))}\n`).join(""));
  return chosen.length;
}

/** Checks an export file line by line; the first bad line is an error naming file, line and field. */
export async function validateExport(path: string, format: ExportFormat): Promise<number> {
  let count = 0;
  for await (const _ of validatedLines(path, exportSchemas[format] as z.ZodType<unknown>)) count++;
  return count;
}
