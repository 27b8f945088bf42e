import { readFileSync } from "node:fs";
import { join } from "node:path";

/** The mini T5 / FLAN-T5 checkpoints made with Hugging Face transformers (see fixtures/t5/README.md). */
export const FIXTURE_DIR = join(import.meta.dirname, "fixtures", "t5");
export const FIXTURES = ["mini-flan-t5", "mini-flan-t5-sharded", "mini-t5-v1_0"] as const;
export type FixtureName = (typeof FIXTURES)[number];

export const fixture = (name: FixtureName) => join(FIXTURE_DIR, name);

export interface ReferenceInput {
  name: string;
  text: string;
  input_ids: number[];
  greedy: { sequence: number[]; new_tokens: number[] };
}

/** reference.json's inputs (the sharded copy shares mini-flan-t5's). */
export function referenceInputs(name: "mini-flan-t5" | "mini-t5-v1_0"): ReferenceInput[] {
  const reference = JSON.parse(readFileSync(join(fixture(name), "reference.json"), "utf8"));
  return reference.inputs as ReferenceInput[];
}
