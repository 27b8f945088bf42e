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
 * (reservoir sampling), and how many there were: all of them when there were no more than `n`.
 */
export async function reservoirSample<T = Example>(
  records: AsyncIterable<T>,
  n: number,
  seed: number,
): Promise<{ examples: T[]; total: number }> {
  const random = seededRandom(seed);
  const kept: { index: number; example: T }[] = [];
  let total = 0;
  for await (const example of records) {
    if (total < n) kept.push({ index: total, example });
    else {
      const j = Math.floor(random() * (total + 1));
      if (j < n) kept[j] = { index: total, example };
    }
    total++;
  }
  return { examples: kept.sort((a, b) => a.index - b.index).map((k) => k.example), total };
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
  const { examples, total } = await reservoirSample(local.read(), parsed.sample, options.seed ?? 0);
  if (total < parsed.sample)
    throw new DataFetchError(
      "sample_too_large",
      `${local.id}:${parsed.sample} asks for ${parsed.sample} questions, but ${local.id} has ${total}`,
    );
  return examples;
}
