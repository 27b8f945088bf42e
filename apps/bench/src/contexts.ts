import { appendFileSync, existsSync, readFileSync, truncateSync } from "node:fs";
import { join } from "node:path";
import { DataValidationError, type Example, type PromptRecord } from "@lmcot/core";
import { parseJsonLine, readLines, validate } from "@lmcot/datasets";
import { z } from "zod";
import { contextRecordSchema } from "./record-schema";

const contextKeySchema = z.looseObject({ dataset: z.string(), exampleId: z.string() });

/** One example's context as the run showed it, stored once per example in `contexts.jsonl`. */
export interface ContextRecord {
  dataset: string;
  exampleId: string;
  /** The context text as formatted into the prompts (replaced there by `CONTEXT_MARK`). */
  text: string;
  paragraphs: Example["context"];
  supportingFacts?: Example["supportingFacts"];
}

/** Stands for the example's context text inside a stored prompt. */
export const CONTEXT_MARK = "{{context}}";

export const contextKey = (dataset: string, exampleId: string) => `${dataset}\u0000${exampleId}`;

/** Every context of a run directory by `contextKey` (empty for runs older than `contexts.jsonl`). */
export function readContexts(runDir: string): Map<string, ContextRecord> {
  const file = join(runDir, "contexts.jsonl");
  const out = new Map<string, ContextRecord>();
  if (!existsSync(file)) return out;
  const lines = readFileSync(file, "utf8").split("\n");
  lines.forEach((text, i) => {
    if (text.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      // A torn last line: the example is written again by the next run that needs it.
      if (i === lines.length - 1) return;
      throw new DataValidationError("is not valid JSON", { file: "contexts.jsonl", line: i + 1 });
    }
    const c = validate(contextRecordSchema, value, { file: "contexts.jsonl", line: i + 1 });
    out.set(contextKey(c.dataset, c.exampleId), c);
  });
  return out;
}

/**
 * The `contextKey`s of a run directory's `contexts.jsonl`, streamed (the texts are not kept). A torn
 * last line, cut by a kill, is removed, so the next append starts on a line of its own.
 */
async function storedContextKeys(runDir: string): Promise<Set<string>> {
  const file = join(runDir, "contexts.jsonl");
  const out = new Set<string>();
  if (!existsSync(file)) return out;
  let goodEnd = 0;
  for await (const { text, line, end, terminated } of readLines(file)) {
    if (!terminated) {
      truncateSync(file, goodEnd);
      break;
    }
    goodEnd = end;
    if (text.trim() === "") continue;
    const c = parseJsonLine(text, contextKeySchema, { file: "contexts.jsonl", line });
    out.add(contextKey(c.dataset, c.exampleId));
  }
  return out;
}

/** Appends an example's context to `contexts.jsonl` the first time it is seen. */
export async function openContexts(runDir: string) {
  const seen = await storedContextKeys(runDir);
  return {
    add(example: Example, text: string): void {
      const key = contextKey(example.dataset, example.id);
      if (seen.has(key)) return;
      seen.add(key);
      const record: ContextRecord = {
        dataset: example.dataset,
        exampleId: example.id,
        text,
        paragraphs: example.context,
        ...(example.supportingFacts ? { supportingFacts: example.supportingFacts } : {}),
      };
      appendFileSync(join(runDir, "contexts.jsonl"), `${JSON.stringify(record)}\n`);
    },
  };
}

/** The prompts with the context text replaced by `CONTEXT_MARK`, so a cell's record does not repeat it. */
export function compactPrompts(prompts: PromptRecord[], contextText: string): PromptRecord[] {
  if (!contextText) return prompts;
  return prompts.map((p) => ({ ...p, prompt: p.prompt.split(contextText).join(CONTEXT_MARK) }));
}
