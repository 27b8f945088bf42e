import { createHash } from "node:crypto";
import { createReadStream, existsSync, readFileSync } from "node:fs";
import { mkdir, rename, stat, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { sleep } from "@lmcot/core";
import { z } from "zod";
import { DataFetchError } from "./data-errors";
import { lockRunDir, type RunLock, RunLockedError, type RunLockHolder } from "./run-lock";

/** `$LMCOT_DATA_DIR`, else `$XDG_CACHE_HOME/lmcot/data`, else `~/.cache/lmcot/data`. */
export function dataDir(explicit?: string): string {
  if (explicit) return explicit;
  if (process.env.LMCOT_DATA_DIR) return process.env.LMCOT_DATA_DIR;
  const cache = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(cache, "lmcot", "data");
}

const fileRecord = z.object({
  sha256: z.string(),
  bytes: z.number(),
  /** The URL the bytes came from, after redirects. */
  source: z.string().optional(),
  /** The URL asked for, when a redirect led elsewhere. */
  requested: z.string().optional(),
  recordedAt: z.string(),
});
const manifestSchema = z.object({ version: z.literal(1), files: z.record(z.string(), fileRecord) });

/** What the cache knows about one file: recorded when it was first downloaded (or first used, when placed by hand). */
export type FileRecord = z.infer<typeof fileRecord>;
export type Manifest = z.infer<typeof manifestSchema>;

const MANIFEST = "manifest.json";

export function readManifest(dir: string): Manifest {
  const path = join(dir, MANIFEST);
  if (!existsSync(path)) return { version: 1, files: {} };
  const parsed = manifestSchema.safeParse(JSON.parse(readFileSync(path, "utf8")));
  if (!parsed.success)
    throw new DataFetchError(
      "manifest_invalid",
      `${path} is not a valid lmcot data manifest; move it away to start over`,
    );
  return parsed.data;
}

/** Records files in the manifest (read, merge, atomic write), under the manifest's lock. */
export async function recordFiles(dir: string, files: Record<string, FileRecord>): Promise<void> {
  await withFileLock(join(dir, ".locks", "manifest"), "lmcot data (manifest)", async () => {
    const manifest = readManifest(dir);
    Object.assign(manifest.files, files);
    const path = join(dir, MANIFEST);
    const temp = `${path}.${process.pid}.tmp`;
    await writeFile(temp, `${JSON.stringify(manifest, null, 2)}\n`);
    await rename(temp, path);
  });
}

/** sha256 (hex) and size of a file, streamed. */
export async function hashFile(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest("hex"), bytes };
}

export async function fileSize(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch {
    return undefined;
  }
}

/** Moves a finished file into place; the rename is atomic on one file system, so readers never see half a file. */
export async function moveInto(from: string, to: string): Promise<void> {
  await mkdir(dirname(to), { recursive: true });
  await rename(from, to);
}

// The file lock lets one process in; this chain lets one caller in per process (the file lock
// cannot tell two callers of the same process apart).
const chains = new Map<string, Promise<unknown>>();

/**
 * Runs `fn` holding the lock of `lockDir` (run-lock's `.lock` file), waiting while another process
 * or another caller in this one holds it; `onWait` is told once who it waits for.
 */
export async function withFileLock<T>(
  lockDir: string,
  command: string,
  fn: () => Promise<T>,
  onWait?: (holder: RunLockHolder) => void,
): Promise<T> {
  const previous = chains.get(lockDir) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(() => holdingLock(lockDir, command, fn, onWait));
  chains.set(lockDir, run);
  try {
    return await run;
  } finally {
    if (chains.get(lockDir) === run) chains.delete(lockDir);
  }
}

async function holdingLock<T>(
  lockDir: string,
  command: string,
  fn: () => Promise<T>,
  onWait?: (holder: RunLockHolder) => void,
): Promise<T> {
  let told = false;
  for (;;) {
    let lock: RunLock;
    try {
      lock = lockRunDir(lockDir, command);
    } catch (error) {
      if (!(error instanceof RunLockedError) || error.code !== "run_locked") throw error;
      if (!told) onWait?.(error.holder);
      told = true;
      await sleep(200);
      continue;
    }
    try {
      return await fn();
    } finally {
      lock.release();
    }
  }
}
