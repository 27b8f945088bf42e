import { type Example, seededRandom } from "@lmcot/core";
import { DataFetchError } from "./data-errors";
import { type GetDatasetOptions, getDataset } from "./get-dataset";

/** `hotpotqa:dev:500` → the `hotpotqa:dev` split, a seeded sample of 500 of its questions. */
export interface DatasetSpec {
  id: string;
  name: string;
  split: string;
  sample?: number;
}

/** Parses `name:split[:n]`; undefined when the second part is not a split name (e.g. `hotpotqa:200`). */
export function parseDatasetSpec(spec: string): DatasetSpec | undefined {
  const m = /^([a-z0-9][\w.-]*):([a-z][\w.-]*)(?::(\d+))?$/i.exec(spec.trim());
  if (!m) return undefined;
  const [, name = "", split = "", n] = m;
  return { id: `${name}:${split}`, name, split, ...(n === undefined ? {} : { sample: Number(n) }) };
}

/**
 * A seeded sample of `n` records, in file order, read in one pass with memory for `n` records
 * (reservoir sampling); fewer than `n` in the file is an error.
 */
export async function sampleStream(
  records: AsyncIterable<Example>,
  n: number,
  seed: number,
  label: string,
): Promise<Example[]> {
  const random = seededRandom(seed);
  const kept: { index: number; example: Example }[] = [];
  let seen = 0;
  for await (const example of records) {
    if (seen < n) kept.push({ index: seen, example });
    else {
      const j = Math.floor(random() * (seen + 1));
      if (j < n) kept[j] = { index: seen, example };
    }
    seen++;
  }
  if (seen < n)
    throw new DataFetchError(
      "sample_too_large",
      `${label}:${n} asks for ${n} questions, but ${label} has ${seen}`,
    );
  return kept.sort((a, b) => a.index - b.index).map((k) => k.example);
}

/**
 * The examples a spec names, from the cache (or downloaded with `download: true`): the whole split,
 * or a seeded sample of `sample` of them.
 */
export async function loadDatasetSpec(
  spec: string | DatasetSpec,
  options: GetDatasetOptions & { seed?: number } = {},
): Promise<Example[]> {
  const parsed = typeof spec === "string" ? parseDatasetSpec(spec) : spec;
  if (!parsed)
    throw new DataFetchError(
      "dataset_unknown",
      `"${String(spec)}" is not name:split[:n], e.g. hotpotqa:dev:500`,
    );
  const local = await getDataset(parsed.name, parsed.split, options);
  if (parsed.sample === undefined) {
    const out: Example[] = [];
    for await (const example of local.read()) out.push(example);
    return out;
  }
  return sampleStream(local.read(), parsed.sample, options.seed ?? 0, local.id);
}
