import type { PromptRecord } from "@lmcot/core";
import { z } from "zod";
import type { ContextRecord } from "./contexts";
import type { BenchRecord } from "./grid";

/**
 * The schemas of what a run directory holds, checked on every read: run.jsonl may be edited by hand,
 * and its values end up in report.html and `lmcot view`.
 */
const count = z.number().nonnegative();
const share = z.number().min(0).max(1);

const usageSchema = z.object({
  inputTokens: count,
  outputTokens: count,
  reasoningTokens: count.optional(),
});

export const promptRecordSchema: z.ZodType<PromptRecord> = z.object({
  step: z.enum(["rationale", "answer", "cot", "teacher", "judge"]),
  model: z.string(),
  system: z.string().optional(),
  prompt: z.string(),
  output: z.string(),
  reasoning: z.string().optional(),
  usage: usageSchema.optional(),
});

/** A grid cell as run.jsonl and plan.json hold it. */
export const cellSchema = z.object({
  id: z.string(),
  method: z.enum(["standard", "cot", "lm-guided"]),
  dataset: z.string(),
  large: z.string(),
  effort: z.enum(["low", "medium", "high"]).optional(),
  small: z.object({ id: z.string(), label: z.string() }).optional(),
  seed: z.number().int(),
});

export const benchRecordSchema: z.ZodType<BenchRecord> = z.object({
  key: z.string(),
  cell: cellSchema,
  exampleId: z.string(),
  type: z.string().optional(),
  question: z.string(),
  gold: z.array(z.string()),
  contextChars: z.number().int().nonnegative(),
  answer: z.string(),
  rationale: z.string().optional(),
  em: share,
  f1: share,
  costUsd: count,
  latencyMs: count,
  cached: z.boolean(),
  usage: usageSchema.extend({ smallInputTokens: count.optional(), smallOutputTokens: count.optional() }),
  promptVersion: z.string(),
  prompts: z.array(promptRecordSchema).optional(),
  samples: z.array(z.object({ rationale: z.string(), answer: z.string() })).optional(),
});

export const contextRecordSchema: z.ZodType<ContextRecord> = z.object({
  dataset: z.string(),
  exampleId: z.string(),
  text: z.string(),
  paragraphs: z.array(z.object({ title: z.string(), sentences: z.array(z.string()) })),
  supportingFacts: z
    .array(z.object({ title: z.string(), sentence: z.number().int().nonnegative() }))
    .optional(),
});

/** A line of `lmcot rewards score --out`, as the viewer shows it. */
export const rewardLineSchema = z.object({
  key: z.string(),
  reward: z.number(),
  taskReward: z.number().nullable().optional(),
  aspectReward: z.number().nullable().optional(),
  aspects: z.record(z.string(), z.number().nullable()).optional(),
});
