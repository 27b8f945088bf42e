import { createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { basename, join } from "node:path";
import { pipeline } from "node:stream/promises";
import type { Entry, ZipFile } from "yauzl";
import { DataFetchError } from "./data-errors";

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

/**
 * Extracts the members of a zip archive whose file names pass `wanted` into `dest` (flat, by file
 * name), with yauzl (loaded on first use). A truncated or corrupt archive is a `DataFetchError`
 * (`archive_corrupt`) naming it. Returns the extracted file names.
 */
export async function extractZip(
  archive: string,
  dest: string,
  wanted: (name: string) => boolean,
  label = basename(archive),
): Promise<string[]> {
  const yauzl = await import("yauzl");
  const out: string[] = [];
  let zip: ZipFile | undefined;
  try {
    zip = await yauzl.openPromise(archive, { lazyEntries: true, validateEntrySizes: true });
    await mkdir(dest, { recursive: true });
    for (let entry = await nextEntry(zip); entry; entry = await nextEntry(zip)) {
      const name = basename(entry.fileName);
      if (entry.fileName.endsWith("/") || name.startsWith(".") || !wanted(name)) continue;
      await pipeline(await zip.openReadStreamPromise(entry), createWriteStream(join(dest, name)));
      out.push(name);
    }
  } catch (error) {
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
