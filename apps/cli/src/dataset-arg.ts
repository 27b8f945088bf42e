import { existsSync } from "node:fs";
import type { Example } from "@lmcot/core";
import { isQuiet, note } from "./log";

/**
 * Whether a `--gold` / `--input` / `--data` value names a dataset of the cache (`hotpotqa:dev`,
 * `hotpotqa:dev:500`, `2wikimultihopqa:dev`) rather than a file: it is no existing path and reads
 * `name:split[:n]`.
 */
export function isDatasetId(value: string): boolean {
  return !existsSync(value) && /^[a-z0-9][\w.-]*:[a-z][\w.-]*(?::\d+)?$/i.test(value);
}

async function fetchOptions(download: boolean | undefined) {
  const { stderrProgress } = await import("@lmcot/datasets");
  return {
    download: download === true,
    ...(isQuiet() ? {} : { onProgress: stderrProgress() }),
    onNotice: (message: string) => note(`${message}\n`),
  };
}

/** The cached file of `name:split` (downloaded first with `download`); missing, an error naming `lmcot data get`. */
export async function datasetFile(
  id: string,
  download?: boolean,
): Promise<{ path: string; name: string; split: string; dir: string }> {
  const { getDataset } = await import("@lmcot/datasets");
  const { dirname } = await import("node:path");
  const [name = "", split = ""] = id.split(":");
  const local = await getDataset(name, split, await fetchOptions(download));
  return { path: local.path, name: local.source.name, split: local.source.split, dir: dirname(local.path) };
}

/** The examples `name:split[:n]` names: the split from the cache, or a seeded sample of `n` of it. */
export async function datasetExamples(
  id: string,
  options: { download?: boolean; seed?: number } = {},
): Promise<Example[]> {
  const { loadDatasetSpec } = await import("@lmcot/datasets");
  return loadDatasetSpec(id, { ...(await fetchOptions(options.download)), seed: options.seed ?? 0 });
}
