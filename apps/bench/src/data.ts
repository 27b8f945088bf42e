import { existsSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { DataValidationError, type Example } from "@lmcot/core";
import {
  attachAliases,
  getDataset,
  type LocalDataset,
  readAliases,
  readDataset,
  reservoirSample,
  sample,
  samplePath,
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
 * One dataset entry's examples as a run takes them: which ones (their ids), and a way to read them
 * from the file again, so a run holds the examples its items have in flight, not the dataset.
 */
export interface ExampleSource {
  dataset: string;
  /** The ids of the examples taken, in the order `read` yields them (the file's order). */
  ids: readonly string[];
  /** Streams the examples taken from the file, in its order (aliases attached). */
  read(): AsyncGenerator<Example>;
}

/** What an entry takes from its file: the file's ids, the positions taken in run order, a reader. */
async function select(entry: DatasetEntry, options: LoadExamplesOptions) {
  const cached = entry.source ? await fromCache(entry, options) : undefined;
  const aliases = entry.aliases ?? (cached ? besideIfThere(cached.path, "id_aliases.json") : undefined);
  const table = aliases ? await readAliases(aliases) : undefined;
  const readFile = (): AsyncGenerator<Example> =>
    cached
      ? cached.read()
      : readDataset(entry.file ?? samplePath(entry.name), entry.file ? { dataset: entry.name } : {});
  const ids: string[] = [];
  for await (const e of readFile()) ids.push(e.id);
  const taken = await positions(entry, ids.length, options);
  async function* read(): AsyncGenerator<Example> {
    const wanted = new Uint8Array(ids.length);
    for (const i of taken) wanted[i] = 1;
    let i = 0;
    for await (const e of readFile()) {
      if (e.id !== ids[i])
        throw new DataValidationError(
          `changed while the run was reading it: record ${i + 1} is ${e.id}, was ${ids[i] ?? "absent"}`,
          { file: basename(cached?.path ?? entry.file ?? samplePath(entry.name)) },
        );
      if (wanted[i++]) yield table ? attachAliases(e, table) : e;
    }
  }
  return { ids, taken, read };
}

/**
 * The positions in the file an entry takes, in run order: all of them, one side of the seeded
 * train / eval split, and a seeded sample of those; a sample of a whole cached split is drawn as
 * reservoir sampling draws it while reading. A `sample` larger than what there is fails, or with
 * `allowSmaller` takes all of it with a warning.
 */
async function positions(
  entry: DatasetEntry,
  total: number,
  options: LoadExamplesOptions,
): Promise<number[]> {
  let all = Array.from({ length: total }, (_, i) => i);
  if (entry.source !== undefined && entry.sample !== undefined && entry.split === "all") {
    all = (await reservoirSample(fromArray(all), entry.sample, entry.sampleSeed)).examples;
    if (all.length === entry.sample) return all;
  }
  if (entry.split !== "all") all = trainEvalSplit(all, entry.evalSize, 0)[entry.split];
  if (!entry.sample) return all;
  if (entry.sample > all.length) {
    const message = shortfall(entry, all.length);
    if (!options.allowSmaller)
      throw new DataValidationError(
        `${message}: ask for at most ${all.length}, or run on all of them with --allow-smaller (allowSmaller: true)`,
      );
    options.onWarning?.(`${message}: running on all ${all.length} (--allow-smaller)`);
  }
  return sample(all, entry.sample, entry.sampleSeed);
}

async function* fromArray<T>(items: readonly T[]): AsyncGenerator<T> {
  yield* items;
}

/**
 * An entry's examples as a stream (see `ExampleSource`): the file is read once to learn its ids and
 * check every record, and again by each `read`. Bundled sample unless a file is given, sub-sampled by seed.
 */
export async function openExamples(
  entry: DatasetEntry,
  options: LoadExamplesOptions = {},
): Promise<ExampleSource> {
  const { ids, taken, read } = await select(entry, options);
  const sorted = Int32Array.from(taken).sort();
  return { dataset: entry.name, ids: Array.from(sorted, (i) => ids[i]!), read };
}

/**
 * The examples of one dataset entry, all in memory, in run order (a seeded sample's order): a
 * bundled sample unless a file is given. See `openExamples` for a run that streams them.
 */
export async function loadExamples(
  entry: DatasetEntry,
  options: LoadExamplesOptions = {},
): Promise<Example[]> {
  const { taken, read } = await select(entry, options);
  const sorted = Int32Array.from(taken).sort();
  const at = new Map<number, Example>();
  let k = 0;
  for await (const e of read()) at.set(sorted[k++]!, e);
  return taken.map((i) => at.get(i)!);
}

/**
 * Hands out a source's examples to items started in the order of `source.ids`, reading the file once,
 * forward: an example is held only until its item takes it. Items of the order may be left out
 * (resumed ones); an id asked for out of order is an error.
 */
export function exampleCursor(source: ExampleSource) {
  const reader = source.read();
  let queue: Promise<unknown> = Promise.resolve();
  return {
    take(id: string): Promise<Example> {
      const found = queue.then(async () => {
        for (let next = await reader.next(); !next.done; next = await reader.next())
          if (next.value.id === id) return next.value;
        throw new Error(`${source.dataset}: example ${id} was asked for after the file was read past it`);
      });
      queue = found.catch(() => undefined);
      return found;
    },
    close: async () => {
      await queue;
      await reader.return(undefined);
    },
  };
}

/** A `source` entry's split from the cache (or downloaded with `download`); missing: an error naming `lmcot data get`. */
function fromCache(entry: DatasetEntry, options: LoadExamplesOptions): Promise<LocalDataset> {
  return getDataset(entry.name, entry.source!, {
    download: options.download === true,
    ...(options.download ? { onProgress: stderrProgress() } : {}),
  });
}

/** 2WikiMultiHopQA's release archive holds id_aliases.json next to the splits. */
function besideIfThere(path: string, name: string): string | undefined {
  const file = join(dirname(path), name);
  return existsSync(file) ? file : undefined;
}
