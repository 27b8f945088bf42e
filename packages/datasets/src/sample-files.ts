import type { Example } from "@lmcot/core";
import { z } from "zod";
import type { RawRecord } from "./json-scan";
import { validate } from "./validate";

/** The samples shipped inside this package (real dev records, with their licences). */
export type SampleName = "hotpotqa" | "2wikimultihopqa" | "2wikimultihopqa-qa";

/** Each sample's file under the package's `assets/data/`. */
export const SAMPLE_FILES: Record<SampleName, string> = {
  hotpotqa: "hotpotqa_dev_sample.jsonl",
  "2wikimultihopqa": "2wiki_dev_sample.jsonl",
  "2wikimultihopqa-qa": "2wiki_dev_qa_only.jsonl",
};

export function checkSampleName(name: string): asserts name is SampleName {
  if (!(name in SAMPLE_FILES))
    throw new Error(`unknown sample "${name}"; choose one of ${Object.keys(SAMPLE_FILES).join(", ")}`);
}

const qaOnly = z.object({
  dev_index: z.number().int(),
  question: z.string().min(1),
  answers: z.array(z.string()).min(1),
});

/** A record of the `2wikimultihopqa-qa` sample: a question with its answer aliases and no context. */
export function qaOnlyExample(raw: RawRecord): Example {
  const at = { file: SAMPLE_FILES["2wikimultihopqa-qa"], record: raw.record, line: raw.line };
  const r = validate(qaOnly, raw.value, at);
  return {
    id: `dev-${r.dev_index}`,
    dataset: "2wikimultihopqa",
    question: r.question,
    answer: r.answers[0]!,
    answerAliases: r.answers,
    context: [],
  };
}
