import { DataValidationError, type Example } from "@lmcot/core";
import { attachAliases, loadSample, readAliases, readAll, sample, trainEvalSplit } from "@lmcot/datasets";
import type { BenchConfig } from "./config";

type DatasetEntry = BenchConfig["datasets"][number];

export interface LoadExamplesOptions {
  /** A `sample` larger than the dataset runs on all of it (with `onWarning`) instead of failing. */
  allowSmaller?: boolean;
  onWarning?: (message: string) => void;
}

/** `hotpotqa:200 asks for 200 examples, but the bundled sample has 57`. */
function shortfall(entry: DatasetEntry, available: number): string {
  const source = entry.file ?? "the bundled sample";
  const side = entry.split === "all" ? "" : ` (its ${entry.split} split)`;
  return `${entry.name}:${entry.sample} asks for ${entry.sample} examples, but ${source}${side} has ${available}`;
}

/**
 * The examples of one dataset entry: a bundled sample unless a file is given, sub-sampled by seed.
 * A `sample` larger than what there is fails, or with `allowSmaller` runs on all of it with a warning.
 */
export async function loadExamples(
  entry: DatasetEntry,
  options: LoadExamplesOptions = {},
): Promise<Example[]> {
  let examples = entry.file
    ? await readAll(entry.file, { dataset: entry.name })
    : await loadSample(entry.name);
  if (entry.aliases) {
    const table = await readAliases(entry.aliases);
    examples = examples.map((e) => attachAliases(e, table));
  }
  if (entry.split !== "all") examples = trainEvalSplit(examples, entry.evalSize, 0)[entry.split];
  if (!entry.sample) return examples;
  if (entry.sample > examples.length) {
    const message = shortfall(entry, examples.length);
    if (!options.allowSmaller)
      throw new DataValidationError(
        `${message}: ask for at most ${examples.length}, or run on all of them with --allow-smaller (allowSmaller: true)`,
      );
    options.onWarning?.(`${message}: running on all ${examples.length} (--allow-smaller)`);
  }
  return sample(examples, entry.sample, entry.sampleSeed);
}
