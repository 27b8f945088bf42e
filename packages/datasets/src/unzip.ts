import { createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { basename, join } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Entry, ZipFile } from "yauzl";
import { DataFetchError } from "./data-errors";
import { overLimit } from "./download-limits";

function nextEntry(zip: ZipFile): Promise<Entry | undefined> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      zip.off("entry", onEntry);
      zip.off("end", onEnd);
      zip.off("error", onError);
    };
    const onEntry = (entry: Entry) => {
      cleanup();
      resolve(entry);
    };
    const onEnd = () => {
      cleanup();
      resolve(undefined);
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    zip.on("entry", onEntry).on("end", onEnd).on("error", onError);
    zip.readEntry();
  });
}

/** A member's name, refused when it would land outside the folder it is unpacked into (zip slip). */
function memberName(yauzl: typeof import("yauzl"), entry: Entry, label: string): string {
  const name = yauzl.getFileNameLowLevel(
    entry.generalPurposeBitFlag,
    entry.fileNameRaw,
    entry.extraFields,
    false,
  );
  const problem = yauzl.validateFileName(name);
  if (problem)
    throw new DataFetchError(
      "archive_unsafe",
      `${label} holds a member named ${JSON.stringify(name)}, a path that points outside the folder it is unpacked into (zip slip: ${problem.replace(/:.*$/, "")}); the archive was refused and nothing of it was cached`,
    );
  return name;
}

/** Counts a member's bytes as they stream out and stops it past its limit. */
function capped(what: string, limit: number): Transform {
  let bytes = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      done(overLimit(what, bytes, limit), chunk);
    },
  });
}

/**
 * Extracts the members of a zip archive whose file names pass `wanted` into `dest` (flat, by file
 * name), with yauzl (loaded on first use). A member over `maxBytes`, or expanding more than
 * `MAX_EXPANSION`× (judged from the central directory before a byte is written, then counted), is
 * `too_large`; a member whose path leaves the folder is `archive_unsafe`; a truncated or corrupt
 * archive is `archive_corrupt`. Returns the extracted file names; on an error, what was extracted stays
 * in `dest` for the caller to remove.
 */
export async function extractZip(
  archive: string,
  dest: string,
  wanted: (name: string) => boolean,
  options: { label?: string; maxBytes: number },
): Promise<string[]> {
  const yauzl = await import("yauzl");
  const label = options.label ?? basename(archive);
  const out: string[] = [];
  const paths: string[] = [];
  let zip: ZipFile | undefined;
  try {
    zip = await yauzl.openPromise(archive, {
      lazyEntries: true,
      validateEntrySizes: true,
      decodeStrings: false,
    });
    await mkdir(dest, { recursive: true });
    for (let entry = await nextEntry(zip); entry; entry = await nextEntry(zip)) {
      const path = memberName(yauzl, entry, label);
      const name = basename(path);
      if (path.endsWith("/") || name.startsWith(".") || !wanted(name)) continue;
      const earlier = out.indexOf(name);
      if (earlier >= 0)
        throw new DataFetchError(
          "archive_unsafe",
          `${label} holds two members named ${name} (${paths[earlier]} and ${path}); the archive was refused and nothing of it was cached`,
        );
      const what = `${label}: member ${path}`;
      const declared = overLimit(what, entry.uncompressedSize, options.maxBytes, entry.compressedSize);
      if (declared) throw declared;
      await pipeline(
        await zip.openReadStreamPromise(entry),
        capped(what, options.maxBytes),
        createWriteStream(join(dest, name)),
      );
      out.push(name);
      paths.push(path);
    }
  } catch (error) {
    if (DataFetchError.is(error)) throw error;
    throw new DataFetchError(
      "archive_corrupt",
      `${label} is not a readable zip archive (${(error as Error).message}); it may be truncated`,
      { cause: error },
    );
  } finally {
    if (zip?.isOpen) zip.close();
  }
  return out;
}
