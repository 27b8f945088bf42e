import type { DatasetName, EvidenceTriple, Example } from "@lmcot/core";
import { z } from "zod";
import { datasetOf } from "./shape";

const sentences = z.array(z.string());
const paragraph = z.tuple([z.string(), sentences]);
const fact = z.tuple([z.string(), z.number().int().nonnegative()]);

/** A record of the official HotpotQA files (distractor or fullwiki). */
export const hotpotRecord = z.object({
  _id: z.string().min(1),
  question: z.string().min(1),
  answer: z.string(),
  type: z.string().optional(),
  level: z.string().optional(),
  supporting_facts: z.array(fact).optional(),
  context: z.array(paragraph),
});

/** A record of the official 2WikiMultiHopQA files. */
export const twoWikiRecord = z.object({
  _id: z.string().min(1),
  question: z.string().min(1),
  answer: z.string(),
  type: z.string().optional(),
  supporting_facts: z.array(fact).optional(),
  context: z.array(paragraph),
  evidences: z.array(z.tuple([z.string(), z.string(), z.string()])).optional(),
  entity_ids: z.string().nullable().optional(),
  evidences_id: z.unknown().optional(),
  answer_id: z.string().nullable().optional(),
});

/** lmcot's own `Example` written as JSON (e.g. by `lmcot` tools). */
export const exampleRecord = z.object({
  id: z.string().min(1),
  dataset: z.string().min(1),
  question: z.string().min(1),
  answer: z.string(),
  answerAliases: z.array(z.string()).optional(),
  context: z.array(z.object({ title: z.string(), sentences })),
  supportingFacts: z
    .array(z.object({ title: z.string(), sentence: z.number().int().nonnegative() }))
    .optional(),
  type: z.string().optional(),
  level: z.string().optional(),
  evidences: z.array(z.tuple([z.string(), z.string(), z.string()])).optional(),
  extra: z.record(z.string(), z.unknown()).optional(),
});

export type RecordFormat = "hotpotqa" | "2wikimultihopqa" | "example";

/** Which format a raw record is in, from its fields. */
export function detectFormat(value: unknown): RecordFormat {
  if (typeof value !== "object" || value === null) return "hotpotqa";
  if ("id" in value && "dataset" in value && !("_id" in value)) return "example";
  return datasetOf(value)?.dataset === "2wikimultihopqa" ? "2wikimultihopqa" : "hotpotqa";
}

function common(r: z.infer<typeof hotpotRecord>, dataset: DatasetName): Example {
  return {
    id: r._id,
    dataset,
    question: r.question,
    answer: r.answer,
    context: r.context.map(([title, s]) => ({ title, sentences: s })),
    ...(r.supporting_facts
      ? { supportingFacts: r.supporting_facts.map(([title, sentence]) => ({ title, sentence })) }
      : {}),
    ...(r.type !== undefined ? { type: r.type } : {}),
  };
}

export function fromHotpot(r: z.infer<typeof hotpotRecord>): Example {
  return { ...common(r, "hotpotqa"), ...(r.level !== undefined ? { level: r.level } : {}) };
}

export function fromTwoWiki(r: z.infer<typeof twoWikiRecord>): Example {
  const extra: Record<string, unknown> = {};
  if (r.answer_id != null) extra.answer_id = r.answer_id;
  if (r.entity_ids != null) extra.entity_ids = r.entity_ids;
  if (r.evidences_id !== undefined) extra.evidences_id = r.evidences_id;
  return {
    ...common(r, "2wikimultihopqa"),
    ...(r.evidences ? { evidences: r.evidences as EvidenceTriple[] } : {}),
    ...(Object.keys(extra).length ? { extra } : {}),
  };
}
