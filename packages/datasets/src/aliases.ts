import { basename } from "node:path";
import type { Example } from "@lmcot/core";
import { z } from "zod";
import { readRaw } from "./raw";
import { validate } from "./validate";

const aliasRecord = z.object({
  Q_id: z.string().min(1),
  aliases: z.array(z.string()).default([]),
  demonyms: z.array(z.string()).default([]),
});

/** Reads 2WikiMultiHopQA's `id_aliases.json` (one JSON object per line) into `Q_id → aliases + demonyms`. */
export async function readAliases(path: string): Promise<Map<string, string[]>> {
  const file = basename(path);
  const out = new Map<string, string[]>();
  for await (const raw of readRaw(path)) {
    const r = validate(aliasRecord, raw.value, { file, record: raw.record, line: raw.line });
    out.set(r.Q_id, [...r.aliases, ...r.demonyms]);
  }
  return out;
}

/**
 * Sets `answerAliases` from the alias table by the example's `answer_id` (2WikiMultiHopQA): the gold
 * answer first, then its aliases, as the official script scores them.
 */
export function attachAliases(example: Example, aliases: Map<string, string[]>): Example {
  const id = example.extra?.answer_id;
  if (typeof id !== "string") return example;
  const found = aliases.get(id);
  if (!found) return example;
  return { ...example, answerAliases: [example.answer, ...found.filter((a) => a !== example.answer)] };
}
