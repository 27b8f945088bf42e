import { existsSync } from "node:fs";
import { join } from "node:path";
import { dataDir, type FileRecord, readManifest } from "./data-cache";
import { type GetDatasetOptions, getDataset, type LocalDataset } from "./get-dataset";
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

/**
 * Re-hashes a cached split against its pin or first-use record (never downloads); `dataset_missing`
 * when it is not there, `checksum_mismatch` when it changed.
 */
export function verifyDataset(
  id: string,
  options: Omit<GetDatasetOptions, "download"> = {},
): Promise<LocalDataset> {
  const [name = "", split = ""] = id.split(":");
  return getDataset(name, split, { ...options, download: false });
}
