import type { Example } from "@lmcot/core";
import { attachAliases, loadSample, readAliases, readAll, sample, trainEvalSplit } from "@lmcot/datasets";
import type { BenchConfig } from "./config";

/** The examples of one dataset entry: a bundled sample unless a file is given, sub-sampled by seed. */
export async function loadExamples(entry: BenchConfig["datasets"][number]): Promise<Example[]> {
  let examples = entry.file
    ? await readAll(entry.file, { dataset: entry.name })
    : await loadSample(entry.name);
  if (entry.aliases) {
    const table = await readAliases(entry.aliases);
    examples = examples.map((e) => attachAliases(e, table));
  }
  if (entry.split !== "all") examples = trainEvalSplit(examples, entry.evalSize, 0)[entry.split];
  return entry.sample ? sample(examples, entry.sample, entry.sampleSeed) : examples;
}
