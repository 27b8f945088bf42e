import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Example } from "@lmcot/core";
import { checkFile, mb, parseAs, pinOf } from "./cache-trust";
import { dataDir, type FileRecord } from "./data-cache";
import { DataFetchError } from "./data-errors";
import type { DownloadOptions, DownloadProgress } from "./download";
import { fetchSource } from "./fetch-source";
import { type ReadOptions, readDataset } from "./read";
import { canonicalId, type DataSource } from "./registry";
import { findSource, type RegistryOptions } from "./user-registry";

export interface GetDatasetOptions extends RegistryOptions, Omit<DownloadOptions, "onProgress"> {
  /** The cache folder; default `$LMCOT_DATA_DIR`, else the XDG cache folder (see `dataDir`). */
  dataDir?: string;
  /** Download a missing file (default false: a missing file is an error naming the command to run). */
  download?: boolean;
  /** Pin the sha256 of the downloaded file (the archive, for 2WikiMultiHopQA); wins over the registry's. */
  sha256?: string;
  onProgress?: (progress: DownloadProgress & { id: string }) => void;
  /** One-line notices: a checksum recorded on first use, a wait for another download, a redirect to another host. */
  onNotice?: (message: string) => void;
}

/** A dataset split in the cache, verified. */
export interface LocalDataset {
  id: string;
  source: DataSource;
  path: string;
  sha256: string;
  bytes: number;
  /** Who pinned the checksum the file was checked against; undefined when it was the one recorded on first use. */
  pinnedBy?: string;
  /** When the manifest recorded the file. */
  recordedAt?: string;
  /** Streams its records as `Example`s (see `readDataset`). */
  read(options?: ReadOptions): AsyncGenerator<Example>;
}

/**
 * A dataset split from the cache, verified against its pinned or first-use checksum; with
 * `download: true` a missing one is downloaded (streamed, resumed, retried, locked against
 * concurrent gets) and, for an archive, unpacked. `getDataset("hotpotqa", "dev")`.
 */
export async function getDataset(
  name: string,
  split: string,
  options: GetDatasetOptions = {},
): Promise<LocalDataset> {
  const dir = dataDir(options.dataDir);
  const source = await findSource(canonicalId(`${name}:${split}`), dir, options);
  const path = join(dir, source.file);
  let record: FileRecord | undefined;
  if (!existsSync(path)) {
    if (!options.download) throw missingError(source, dir);
    record = await fetchSource(source, dir, options);
  }
  const direct = source.file === source.download.file;
  const pin = direct ? pinOf(source, options) : {};
  record ??= await checkFile(dir, source.file, pin, parseAs(source), options.onNotice);
  return {
    id: source.id,
    source,
    path,
    sha256: record.sha256,
    bytes: record.bytes,
    ...(pin.pin ? { pinnedBy: pin.pinnedBy } : {}),
    recordedAt: record.recordedAt,
    read: (readOptions = {}) =>
      readDataset(path, { ...(source.format ? { dataset: source.format } : {}), ...readOptions }),
  };
}

/** Not in the cache: says the command that gets it. */
export function missingError(source: DataSource, dir: string): DataFetchError {
  const size = source.download.bytes ? `, ${mb(source.download.bytes)}` : "";
  return new DataFetchError(
    "dataset_missing",
    `${source.id} is not downloaded (expected at ${join(dir, source.file)}): run \`lmcot data get ${source.id}\` (from ${source.download.urls[0]}${size}), or pass --download`,
  );
}
