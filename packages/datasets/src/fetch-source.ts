import { existsSync, readFileSync } from "node:fs";
import { rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { checkFile, DOWNLOAD_AFTER, type Fetched, judge, mb, measure, parseAs, pinOf } from "./cache-trust";
import { type FileRecord, fileSize, moveInto, readManifest, recordFiles, withFileLock } from "./data-cache";
import { DataFetchError } from "./data-errors";
import { discardPart, downloadFile } from "./download";
import { type DownloadLimits, downloadLimits } from "./download-limits";
import type { GetDatasetOptions } from "./get-dataset";
import { parseCheck } from "./parse-check";
import type { DataSource } from "./registry";
import { extractZip } from "./unzip";
import { listSources } from "./user-registry";

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

/** Downloads (or unpacks) what `source` needs into the cache, under its lock; checked, parsed, capped. */
export async function fetchSource(
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
