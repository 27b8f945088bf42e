import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Example } from "@lmcot/core";
import { z } from "zod";
import { readRaw } from "./raw";
import { readAll } from "./read";
import { validate } from "./validate";

/** The samples shipped inside this package (real dev records, with their licences). */
export type SampleName = "hotpotqa" | "2wikimultihopqa" | "2wikimultihopqa-qa";

const FILES: Record<SampleName, string> = {
  hotpotqa: "hotpotqa_dev_sample.jsonl",
  "2wikimultihopqa": "2wiki_dev_sample.jsonl",
  "2wikimultihopqa-qa": "2wiki_dev_qa_only.jsonl",
};

/** The folder holding the bundled samples and their licence notices. */
export function samplesDir(): string {
  // From src/ (tests) or dist/ (installed) alike, the assets sit one level up.
  const here = dirname(fileURLToPath(import.meta.url));
  const dir = join(here, "..", "assets", "data");
  if (!existsSync(dir))
    throw new Error(`@lmcot/datasets: bundled samples missing at ${dir}; reinstall the package`);
  return dir;
}

/** The path of a bundled sample file. */
export function samplePath(name: SampleName): string {
  return join(samplesDir(), FILES[name]);
}

const qaOnly = z.object({
  dev_index: z.number().int(),
  question: z.string().min(1),
  answers: z.array(z.string()).min(1),
});

/**
 * Loads a bundled sample, offline:
 * - `hotpotqa`: 57 HotpotQA distractor dev records (CC BY-SA 4.0);
 * - `2wikimultihopqa`: 2 full 2WikiMultiHopQA dev records (Apache-2.0);
 * - `2wikimultihopqa-qa`: the first 1,000 2Wiki dev questions with answer aliases and **no context**.
 */
export async function loadSample(name: SampleName): Promise<Example[]> {
  if (!(name in FILES))
    throw new Error(`unknown sample "${name}"; choose one of ${Object.keys(FILES).join(", ")}`);
  if (name !== "2wikimultihopqa-qa") return readAll(samplePath(name));
  const out: Example[] = [];
  for await (const raw of readRaw(samplePath(name))) {
    const r = validate(qaOnly, raw.value, { file: FILES[name], record: raw.record, line: raw.line });
    out.push({
      id: `dev-${r.dev_index}`,
      dataset: "2wikimultihopqa",
      question: r.question,
      answer: r.answers[0]!,
      answerAliases: r.answers,
      context: [],
    });
  }
  return out;
}
