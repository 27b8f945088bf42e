import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Example } from "@lmcot/core";
import { readRaw } from "./raw";
import { readAll } from "./read";
import { checkSampleName, qaOnlyExample, SAMPLE_FILES, type SampleName } from "./sample-files";

export type { SampleName } from "./sample-files";

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
  return join(samplesDir(), SAMPLE_FILES[name]);
}

/**
 * Loads a bundled sample, offline:
 * - `hotpotqa`: 57 HotpotQA distractor dev records (CC BY-SA 4.0);
 * - `2wikimultihopqa`: 2 full 2WikiMultiHopQA dev records (Apache-2.0);
 * - `2wikimultihopqa-qa`: the first 1,000 2Wiki dev questions with answer aliases and **no context**.
 */
export async function loadSample(name: SampleName): Promise<Example[]> {
  checkSampleName(name);
  if (name !== "2wikimultihopqa-qa") return readAll(samplePath(name));
  const out: Example[] = [];
  for await (const raw of readRaw(samplePath(name))) out.push(qaOnlyExample(raw));
  return out;
}
