import { existsSync, readFileSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Example } from "@lmcot/core";
import {
  dataDir,
  type FileRecord,
  hashFile,
  moveInto,
  readManifest,
  recordFiles,
  withFileLock,
} from "./data-cache";
import { DataFetchError } from "./data-errors";
import { type DownloadOptions, type DownloadProgress, discardPart, downloadFile } from "./download";
import { type ReadOptions, readDataset } from "./read";
import { canonicalId, type DataSource } from "./registry";
import { extractZip } from "./unzip";
import { findSource, type RegistryOptions } from "./user-registry";

export interface GetDatasetOptions extends RegistryOptions, Omit<DownloadOptions, "onProgress"> {
  /** The cache folder; default `$LMCOT_DATA_DIR`, else the XDG cache folder (see `dataDir`). */
  dataDir?: string;
  /** Download a missing file (default false: a missing file is an error naming the command to run). */
  download?: boolean;
  /** Pin the sha256 of the downloaded file (the archive, for 2WikiMultiHopQA); wins over the registry's. */
  sha256?: string;
  onProgress?: (progress: DownloadProgress & { id: string }) => void;
  /** One-line notices: a checksum recorded on first use, a wait for another download. */
  onNotice?: (message: string) => void;
}

/** A dataset split in the cache, verified. */
export interface LocalDataset {
  id: string;
  source: DataSource;
  path: string;
  sha256: string;
  bytes: number;
  /** Streams its records as `Example`s (see `readDataset`). */
  read(options?: ReadOptions): AsyncGenerator<Example>;
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

function mismatch(
  what: string,
  path: string,
  actual: FileRecord,
  expected: string,
  why: string,
  after: string,
) {
  return new DataFetchError(
    "checksum_mismatch",
    `checksum mismatch for ${what}: ${path} has sha256 ${actual.sha256} (${actual.bytes} bytes), expected ${expected} (${why}); ${after}`,
  );
}

interface Pin {
  pin?: string;
  pinnedBy?: string;
}

/** Throws `checksum_mismatch` unless the file matches its pin, else the manifest's record of it. */
function judge(
  what: string,
  where: string,
  actual: FileRecord,
  known: FileRecord | undefined,
  pin: Pin,
  after: string,
) {
  const expected = pin.pin?.toLowerCase() ?? known?.sha256;
  if (!expected) return;
  const same = actual.sha256 === expected && (pin.pin !== undefined || known?.bytes === actual.bytes);
  if (same) return;
  const why = pin.pin
    ? (pin.pinnedBy ?? "pinned")
    : `recorded at its first download, ${known?.recordedAt}, ${known?.bytes} bytes`;
  throw mismatch(what, where, actual, expected, why, after);
}

async function measure(path: string, url?: string): Promise<FileRecord> {
  return { ...(await hashFile(path)), ...(url ? { source: url } : {}), recordedAt: new Date().toISOString() };
}

/**
 * Checks a cached file against its pin, else against the manifest's record (trust on first use:
 * a file with no record, placed by hand, is recorded now).
 */
async function checkFile(
  dir: string,
  rel: string,
  pin: Pin,
  onNotice?: (m: string) => void,
): Promise<FileRecord> {
  const path = join(dir, rel);
  const actual = await measure(path);
  const known = readManifest(dir).files[rel];
  judge(rel, path, actual, known, pin, CACHED_AFTER);
  if (known?.sha256 === actual.sha256) return known;
  await recordFiles(dir, { [rel]: actual });
  if (!pin.pin)
    onNotice?.(`${rel}: recorded sha256 ${actual.sha256} (${mb(actual.bytes)}), trusted on first use`);
  return actual;
}

function pinOf(source: DataSource, options: GetDatasetOptions): Pin {
  if (options.sha256) return { pin: options.sha256, pinnedBy: "pinned by --sha256" };
  if (source.download.sha256) return { pin: source.download.sha256, pinnedBy: "the registry's checksum" };
  return {};
}

const CACHED_AFTER =
  "the cached file was left as it is; if the source really changed, delete it and its line in manifest.json, or pin the new checksum with --sha256";
const DOWNLOAD_AFTER = "the download was discarded and the cache left as it was";

function handPlacement(source: DataSource, dir: string): string {
  const url = source.download.urls.at(-1) ?? source.download.urls[0];
  return `to place it by hand, download ${url} on a machine with internet access and copy it to ${join(dir, source.download.file)}, then run \`lmcot data verify ${source.id}\``;
}

async function downloadAny(
  source: DataSource,
  part: string,
  options: GetDatasetOptions,
  dir: string,
): Promise<string> {
  const marker = `${part}.url`;
  const errors: unknown[] = [];
  for (const url of source.download.urls) {
    // A part from another URL may hold other bytes: only the same URL's part is resumed.
    if (!existsSync(marker) || readFileSync(marker, "utf8") !== url) {
      await discardPart(part);
      await writeFile(marker, url);
    }
    try {
      await downloadFile(url, part, {
        ...options,
        onProgress: (p) => options.onProgress?.({ ...p, id: source.id }),
      });
      return url;
    } catch (error) {
      if (options.signal?.aborted) throw error;
      errors.push(error);
    }
  }
  const lines = errors.map((e) => `  ${(e as Error).message}`).join("\n");
  const offline = errors.every((e) => DataFetchError.is(e, "dataset_offline"));
  throw new DataFetchError(
    offline ? "dataset_offline" : "download_failed",
    `cannot download ${source.id}${offline ? " (offline?)" : ""}:\n${lines}\nThe cache is ${dir}; ${handPlacement(source, dir)}`,
    { cause: errors.at(-1) },
  );
}

/** Unpacks the archive's JSON members next to the source's file and records each. */
async function unpack(source: DataSource, dir: string, archive: string, work: string): Promise<void> {
  const out = join(work, "extracted");
  await rm(out, { recursive: true, force: true });
  try {
    const wanted = basename(source.file);
    const names = await extractZip(
      archive,
      out,
      (n) => n === wanted || /\.jsonl?$/.test(n),
      source.download.file,
    );
    if (!names.includes(wanted))
      throw new DataFetchError(
        "archive_corrupt",
        `${source.download.file} has no ${wanted} (it holds ${names.join(", ") || "no JSON files"})`,
      );
    const records: Record<string, FileRecord> = {};
    for (const name of names) {
      const rel = join(dirname(source.file), name);
      if (existsSync(join(dir, rel))) continue;
      records[rel] = await measure(join(out, name));
      await moveInto(join(out, name), join(dir, rel));
    }
    await recordFiles(dir, records);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

async function fetchSource(
  source: DataSource,
  dir: string,
  options: GetDatasetOptions,
): Promise<FileRecord | undefined> {
  const work = join(dir, ".partial", source.download.file.replace(/[/\\]/g, "__"));
  const notice = (holder: { pid: number; host: string }) =>
    options.onNotice?.(
      `waiting for pid ${holder.pid} on ${holder.host}, which is downloading ${source.download.file}`,
    );
  return withFileLock(
    work,
    `lmcot data get ${source.id}`,
    async () => {
      if (existsSync(join(dir, source.file))) return undefined;
      const artifact = join(dir, source.download.file);
      const pin = pinOf(source, options);
      if (existsSync(artifact)) {
        // Placed by hand, or unpacked members deleted: check it, then unpack.
        await checkFile(dir, source.download.file, pin, options.onNotice);
        if (source.download.archive) await unpack(source, dir, artifact, work);
        return undefined;
      }
      const part = join(work, "download.part");
      const url = await downloadAny(source, part, options, dir);
      try {
        const record = await measure(part, url);
        const expected = source.download.bytes;
        if (!pin.pin && expected !== undefined && record.bytes !== expected)
          throw new DataFetchError(
            "checksum_mismatch",
            `${url} gave ${record.bytes} bytes, the registry expects ${expected}; ${DOWNLOAD_AFTER}`,
          );
        judge(source.id, url, record, readManifest(dir).files[source.download.file], pin, DOWNLOAD_AFTER);
        if (source.download.archive) await unpack(source, dir, part, work);
        await moveInto(part, artifact);
        await recordFiles(dir, { [source.download.file]: record });
        await discardPart(part);
        if (!pin.pin)
          options.onNotice?.(
            `${source.download.file}: recorded sha256 ${record.sha256} (${mb(record.bytes)}), trusted on first use`,
          );
        return source.download.archive ? undefined : record;
      } catch (error) {
        await discardPart(part);
        throw error;
      }
    },
    notice,
  );
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
  record ??= await checkFile(dir, source.file, direct ? pinOf(source, options) : {}, options.onNotice);
  return {
    id: source.id,
    source,
    path,
    sha256: record.sha256,
    bytes: record.bytes,
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
