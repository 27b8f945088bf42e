import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { DataValidationError, type Example } from "@lmcot/core";
import {
  attachAliases,
  getDataset,
  type LocalDataset,
  loadSample,
  readAliases,
  readAll,
  reservoirSample,
  sample,
  stderrProgress,
  trainEvalSplit,
} from "@lmcot/datasets";
import type { BenchConfig } from "./config";

type DatasetEntry = BenchConfig["datasets"][number];

export interface LoadExamplesOptions {
  /** A `sample` larger than the dataset runs on all of it (with `onWarning`) instead of failing. */
  allowSmaller?: boolean;
  onWarning?: (message: string) => void;
  /** Download a `source` dataset missing from the cache (progress on stderr). */
  download?: boolean;
}

/** `hotpotqa:200 asks for 200 examples, but the bundled sample has 57`. */
function shortfall(entry: DatasetEntry, available: number): string {
  const source = entry.file ?? (entry.source ? `${entry.name}:${entry.source}` : "the bundled sample");
  const side = entry.split === "all" ? "" : ` (its ${entry.split} split)`;
  const spec = entry.source ? `${entry.name}:${entry.source}` : entry.name;
  return `${spec}:${entry.sample} asks for ${entry.sample} examples, but ${source}${side} has ${available}`;
}

/**
 * The examples of one dataset entry: a bundled sample unless a file is given, sub-sampled by seed.
 * A `sample` larger than what there is fails, or with `allowSmaller` runs on all of it with a warning.
 */
export async function loadExamples(
  entry: DatasetEntry,
  options: LoadExamplesOptions = {},
): Promise<Example[]> {
  const cached = entry.source ? await fromCache(entry, options) : undefined;
  // A sample of the whole split is drawn while reading, holding only the sample (the train split is 566 MB).
  const drawn = cached !== undefined && entry.sample !== undefined && entry.split === "all";
  let examples = cached
    ? drawn
      ? (await reservoirSample(cached.read(), entry.sample!, entry.sampleSeed)).examples
      : await collect(cached.read())
    : entry.file
      ? await readAll(entry.file, { dataset: entry.name })
      : await loadSample(entry.name);
  const aliases = entry.aliases ?? (cached ? besideIfThere(cached.path, "id_aliases.json") : undefined);
  if (aliases) {
    const table = await readAliases(aliases);
    examples = examples.map((e) => attachAliases(e, table));
  }
  if (entry.split !== "all") examples = trainEvalSplit(examples, entry.evalSize, 0)[entry.split];
  if (!entry.sample) return examples;
  if (drawn && examples.length === entry.sample) return examples;
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

/** A `source` entry's split from the cache (or downloaded with `download`); missing: an error naming `lmcot data get`. */
function fromCache(entry: DatasetEntry, options: LoadExamplesOptions): Promise<LocalDataset> {
  return getDataset(entry.name, entry.source!, {
    download: options.download === true,
    ...(options.download ? { onProgress: stderrProgress() } : {}),
  });
}

async function collect(records: AsyncIterable<Example>): Promise<Example[]> {
  const out: Example[] = [];
  for await (const e of records) out.push(e);
  return out;
}

/** 2WikiMultiHopQA's release archive holds id_aliases.json next to the splits. */
function besideIfThere(path: string, name: string): string | undefined {
  const file = join(dirname(path), name);
  return existsSync(file) ? file : undefined;
}
