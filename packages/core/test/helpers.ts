import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Example } from "../src/index";

export const examples = JSON.parse(
  readFileSync(join(__dirname, "fixtures", "hotpotqa-3.json"), "utf8"),
) as Example[];
export const nationality = examples[0]!;
export const corliss = examples[1]!;
