import { existsSync, readFileSync } from "node:fs";
import { rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Example } from "@lmcot/core";
import {
  dataDir,
  type FileRecord,
  fileSize,
  hashFile,
  moveInto,
  readManifest,
  recordFiles,
  withFileLock,
} from "./data-cache";
import { DataFetchError } from "./data-errors";
import {
  type Downloaded,
  type DownloadOptions,
  type DownloadProgress,
  discardPart,
  downloadFile,
} from "./download";
import { type DownloadLimits, downloadLimits } from "./download-limits";
import { type ParseAs, parseCheck } from "./parse-check";
import { type ReadOptions, readDataset } from "./read";
import { canonicalId, type DataSource } from "./registry";
import { extractZip } from "./unzip";
import { findSource, listSources, type RegistryOptions } from "./user-registry";

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

/** A download, with the URL it was asked from (`url` is where the bytes came from, after redirects). */
type Fetched = Downloaded & { requested: string };

async function measure(path: string, got?: Fetched): Promise<FileRecord> {
  return {
    ...(await hashFile(path)),
    ...(got ? { source: got.url } : {}),
    ...(got && got.url !== got.requested ? { requested: got.requested } : {}),
    recordedAt: new Date().toISOString(),
  };
}

/** How the readers parse a file of `source`: its records in its format, detected per record without one. */
const parseAs = (source: DataSource): ParseAs => source.format ?? "records";

/**
 * Checks a cached file against its pin, else against the manifest's record (trust on first use:
 * a file with no record, placed by hand, is parsed as `as` and recorded now).
 */
async function checkFile(
  dir: string,
  rel: string,
  pin: Pin,
  as: ParseAs | undefined,
  onNotice?: (m: string) => void,
): Promise<FileRecord> {
  const path = join(dir, rel);
  const actual = await measure(path);
  const known = readManifest(dir).files[rel];
  judge(rel, path, actual, known, pin, CACHED_AFTER);
  if (known?.sha256 === actual.sha256) return known;
  if (as) await parseCheck(path, as, path, "it was not recorded; replace it with the official file");
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

/** Tries each URL in turn, all of them within the total timeout; the download's bytes are capped. */
async function downloadAny(
  source: DataSource,
  part: string,
  options: GetDatasetOptions,
  dir: string,
  limits: DownloadLimits,
): Promise<Fetched> {
  const marker = `${part}.url`;
  const errors: unknown[] = [];
  const started = performance.now();
  try {
    return await tryEach();
  } finally {
    // Nothing kept to resume (a failure that cannot be resumed, an abort of one): no note of the URL either.
    if (!(await fileSize(part))) await discardPart(part);
  }
  async function tryEach(): Promise<Fetched> {
    for (const url of source.download.urls) {
      const left = limits.totalTimeoutMs - (performance.now() - started);
      if (left <= 0) break;
      // A part from another URL may hold other bytes: only the same URL's part is resumed.
      if (!existsSync(marker) || readFileSync(marker, "utf8") !== url) {
        await discardPart(part);
        await writeFile(marker, url);
      }
      try {
        const got = await downloadFile(url, part, {
          ...options,
          stallTimeoutMs: limits.stallTimeoutMs,
          totalTimeoutMs: left,
          // A size the registry knows is the most the download may be.
          maxBytes: Math.min(source.download.bytes ?? limits.maxBytes, limits.maxBytes),
          onProgress: (p) => options.onProgress?.({ ...p, id: source.id }),
        });
        return { ...got, requested: url };
      } catch (error) {
        if (options.signal?.aborted) throw error;
        errors.push(error);
      }
    }
    const lines = errors.map((e) => `  ${(e as Error).message}`).join("\n");
    const offline = errors.every((e) => DataFetchError.is(e, "dataset_offline"));
    const first = errors.find((e) => !DataFetchError.is(e, "dataset_offline"));
    const code = offline ? "dataset_offline" : DataFetchError.is(first) ? first.code : "download_failed";
    throw new DataFetchError(
      code,
      `cannot download ${source.id}${offline ? " (offline?)" : ""}:\n${lines}\nThe cache is ${dir}; ${handPlacement(source, dir)}`,
      { cause: errors.at(-1) },
    );
  }
}

/**
 * Unpacks the archive's JSON members next to the source's file, parses each (a split of the archive
 * as its format's records, any other member as JSON or JSONL), and records them. Nothing of an
 * archive that fails is cached.
 */
async function unpack(
  source: DataSource,
  dir: string,
  archive: string,
  work: string,
  options: GetDatasetOptions,
  limits: DownloadLimits,
): Promise<void> {
  const out = join(work, "extracted");
  await rm(out, { recursive: true, force: true });
  try {
    const wanted = basename(source.file);
    const label = source.download.file;
    const names = await extractZip(archive, out, (n) => n === wanted || /\.jsonl?$/.test(n), {
      label,
      maxBytes: limits.maxBytes,
    });
    if (!names.includes(wanted))
      throw new DataFetchError(
        "archive_corrupt",
        `${label} has no ${wanted} (it holds ${names.join(", ") || "no JSON files"})`,
      );
    const splits = (await listSources(dir, options)).filter((s) => s.download.file === source.download.file);
    const records: Record<string, FileRecord> = {};
    for (const name of names) {
      const rel = join(dirname(source.file), name);
      if (existsSync(join(dir, rel))) continue;
      const split = splits.find((s) => s.file === rel);
      const as = split ? parseAs(split) : "json";
      await parseCheck(join(out, name), as, `${label}: member ${name}`, DOWNLOAD_AFTER, options.signal);
      records[rel] = await measure(join(out, name));
    }
    for (const rel of Object.keys(records)) await moveInto(join(out, basename(rel)), join(dir, rel));
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
  const limits = downloadLimits(options, source.download);
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
        const archive = source.download.archive !== undefined;
        await checkFile(
          dir,
          source.download.file,
          pin,
          archive ? undefined : parseAs(source),
          options.onNotice,
        );
        if (archive) await unpack(source, dir, artifact, work, options, limits);
        return undefined;
      }
      const part = join(work, "download.part");
      // The whole download under its own name, so the readers' messages name the file.
      const staged = join(work, basename(source.download.file));
      const got = await downloadAny(source, part, options, dir, limits);
      try {
        const record = await measure(part, got);
        const expected = source.download.bytes;
        if (!pin.pin && expected !== undefined && record.bytes !== expected)
          throw new DataFetchError(
            "checksum_mismatch",
            `${got.url} gave ${record.bytes} bytes, the registry expects ${expected}; ${DOWNLOAD_AFTER}`,
          );
        judge(source.id, got.url, record, readManifest(dir).files[source.download.file], pin, DOWNLOAD_AFTER);
        if (source.download.archive) await unpack(source, dir, part, work, options, limits);
        else {
          await rename(part, staged);
          await parseCheck(staged, parseAs(source), got.url, DOWNLOAD_AFTER, options.signal);
        }
        await moveInto(source.download.archive ? part : staged, artifact);
        await recordFiles(dir, { [source.download.file]: record });
        await discardPart(part);
        if (!pin.pin)
          options.onNotice?.(
            `${source.download.file}: recorded sha256 ${record.sha256} (${mb(record.bytes)}), trusted on first use`,
          );
        return source.download.archive ? undefined : record;
      } catch (error) {
        await discardPart(part);
        await rm(staged, { force: true });
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
