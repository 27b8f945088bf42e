import { existsSync } from "node:fs";
import { join } from "node:path";
import { dataDir, type FileRecord, readManifest } from "./data-cache";
import { type GetDatasetOptions, getDataset, type LocalDataset } from "./get-dataset";
import { describeParse, type ParseResult, parseCheck } from "./parse-check";
import type { DataSource } from "./registry";
import { listSources, type RegistryOptions } from "./user-registry";

export interface DatasetStatus {
  source: DataSource;
  /** Where the file is, or would be once downloaded. */
  path: string;
  cached: boolean;
  /** The manifest's record (sha256, size, when) once it has been downloaded or first used. */
  record?: FileRecord;
}

/** Every known dataset split and whether it is in the cache (no hashing: see `verifyDataset`). */
export async function listDatasets(
  options: RegistryOptions & { dataDir?: string } = {},
): Promise<DatasetStatus[]> {
  const dir = dataDir(options.dataDir);
  const manifest = readManifest(dir);
  return (await listSources(dir, options)).map((source) => {
    const path = join(dir, source.file);
    const record = manifest.files[source.file];
    return { source, path, cached: existsSync(path), ...(record ? { record } : {}) };
  });
}

/** A cached split checked end to end: its sha256 against the pin or the first-use record, and a full parse. */
export interface VerifiedDataset extends LocalDataset {
  parse: ParseResult;
  /** What was checked, in words: `sha256 … matches the one recorded at its first download (…); parsed: 7405 hotpotqa records`. */
  checked: string;
}

/**
 * Re-hashes a cached split against its pin or first-use record and parses it whole with its
 * format's reader (never downloads); `dataset_missing` when it is not there, `checksum_mismatch`
 * when it changed, `data_invalid` when it does not parse.
 */
export async function verifyDataset(
  id: string,
  options: Omit<GetDatasetOptions, "download"> = {},
): Promise<VerifiedDataset> {
  const [name = "", split = ""] = id.split(":");
  const local = await getDataset(name, split, { ...options, download: false });
  const parse = await parseCheck(
    local.path,
    local.source.format ?? "records",
    local.path,
    "the cached file was left as it is; delete it and run `lmcot data get` again",
    options.signal,
  );
  const sha = local.pinnedBy
    ? `sha256 ${local.sha256} matches the pinned one (${local.pinnedBy})`
    : `sha256 ${local.sha256} matches the one recorded at its first download (${local.recordedAt}; not pinned)`;
  return { ...local, parse, checked: `${sha}; parsed: ${describeParse(parse)}` };
}
