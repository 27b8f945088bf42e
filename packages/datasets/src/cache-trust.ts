import { join } from "node:path";
import { type FileRecord, hashFile, readManifest, recordFiles } from "./data-cache";
import { DataFetchError } from "./data-errors";
import type { Downloaded } from "./download";
import { type ParseAs, parseCheck } from "./parse-check";
import type { DataSource } from "./registry";

export const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

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
export function judge(
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
export type Fetched = Downloaded & { requested: string };

export async function measure(path: string, got?: Fetched): Promise<FileRecord> {
  return {
    ...(await hashFile(path)),
    ...(got ? { source: got.url } : {}),
    ...(got && got.url !== got.requested ? { requested: got.requested } : {}),
    recordedAt: new Date().toISOString(),
  };
}

/** How the readers parse a file of `source`: its records in its format, detected per record without one. */
export const parseAs = (source: DataSource): ParseAs => source.format ?? "records";

/**
 * Checks a cached file against its pin, else against the manifest's record (trust on first use:
 * a file with no record, placed by hand, is parsed as `as` and recorded now).
 */
export async function checkFile(
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

export function pinOf(source: DataSource, options: { sha256?: string }): Pin {
  if (options.sha256) return { pin: options.sha256, pinnedBy: "pinned by --sha256" };
  if (source.download.sha256) return { pin: source.download.sha256, pinnedBy: "the registry's checksum" };
  return {};
}

const CACHED_AFTER =
  "the cached file was left as it is; if the source really changed, delete it and its line in manifest.json, or pin the new checksum with --sha256";
export const DOWNLOAD_AFTER = "the download was discarded and the cache left as it was";
