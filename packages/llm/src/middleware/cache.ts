import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { errorMessage, type GenerateRequest, type GenerateResult } from "@lmcot/core";
import { z } from "zod";
import { canonicalRequest } from "./cache-key";
import { type Middleware, withGenerate } from "./types";

export interface DiskCacheOptions {
  dir: string;
  /** Read and write (default), only read, or neither (`--no-cache`). */
  mode?: "read-write" | "read-only" | "off";
  /**
   * Told, once per cache folder, that a result could not be cached (unwritable folder, full disk);
   * the result is returned all the same. Default: one line on stderr, once per folder per process.
   */
  onWarning?: (message: string) => void;
}

// The last key of each request object: the disk cache and a batch wrapper beneath it address the
// same call, and hashing a prompt with its whole context twice per call showed in batch runs' profiles.
const lastKeys = new WeakMap<GenerateRequest, { modelId: string; key: string }>();

/** The content address of a call: model id + the full request (minus the signal) + prompt version. */
export function cacheKey(modelId: string, request: GenerateRequest): string {
  const last = lastKeys.get(request);
  if (last?.modelId === modelId) return last.key;
  const key = sha256(canonicalRequest(modelId, request));
  lastKeys.set(request, { modelId, key });
  return key;
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

const entrySchema = z.object({
  key: z.string(),
  checksum: z.string(),
  result: z.looseObject({
    text: z.string(),
    usage: z.looseObject({ inputTokens: z.number(), outputTokens: z.number() }),
  }),
});

/** The stored result when the entry is whole, is the one for `key`, and was not edited since written. */
function storedResult(raw: string, key: string): GenerateResult | undefined {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return undefined;
  }
  const entry = entrySchema.safeParse(json);
  if (!entry.success || entry.data.key !== key) return undefined;
  const result = (json as { result: GenerateResult }).result;
  return sha256(JSON.stringify(result)) === entry.data.checksum ? result : undefined;
}

const warnedOnStderr = new Set<string>();

function stderrOncePerDir(dir: string): (message: string) => void {
  return (message) => {
    if (warnedOnStderr.has(dir)) return;
    warnedOnStderr.add(dir);
    process.stderr.write(`warning: ${message}\n`);
  };
}

const unusable = (dir: string, error: unknown) =>
  `the cache folder ${dir} is not writable (${errorMessage(error)}); results are kept but not cached`;

/**
 * Why `dir` cannot serve as a cache (it cannot be created, or a file cannot be written in it), or
 * undefined when it can: for commands to say so before they start.
 */
export function checkCacheDir(dir: string): string | undefined {
  const probe = join(dir, `.probe.${process.pid}.${randomBytes(4).toString("hex")}`);
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(probe, "");
    rmSync(probe, { force: true });
    return undefined;
  } catch (error) {
    return unusable(dir, error);
  }
}

/**
 * A content-addressed disk cache: one JSON file per call under `dir/ab/<sha256>.json`, holding its
 * key and the sha256 of its result, written to a temporary file and renamed into place (atomic, so
 * several processes can share the folder). A corrupt, edited or misplaced entry is a miss, and is
 * recomputed and rewritten. Hits are marked `cached: true` and cost 0; errors are never cached.
 * Only the request and the result are stored — never keys or headers. An unusable folder is
 * reported when the cache is made; a result that cannot be written is still returned, with one
 * warning per folder.
 */
export function diskCache(options: DiskCacheOptions): Middleware {
  const mode = options.mode ?? "read-write";
  const warn = options.onWarning ?? stderrOncePerDir(options.dir);
  // Said at start, when the model is made, not first after a paid call.
  const problem = mode === "read-write" ? checkCacheDir(options.dir) : undefined;
  if (problem) warn(problem);
  let warned = problem !== undefined;
  const made = new Set<string>();

  const store = async (path: string, entry: object) => {
    const folder = dirname(path);
    const tmp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    try {
      if (!made.has(folder)) {
        await mkdir(folder, { recursive: true });
        made.add(folder);
      }
      await writeFile(tmp, JSON.stringify(entry));
      await rename(tmp, path);
    } catch (error) {
      made.delete(folder);
      await rm(tmp, { force: true }).catch(() => undefined);
      if (!warned) warn(unusable(options.dir, error));
      warned = true;
    }
  };

  return (model) =>
    mode === "off"
      ? model
      : withGenerate(model, async (request) => {
          const key = cacheKey(model.id, request);
          const path = join(options.dir, key.slice(0, 2), `${key}.json`);
          // A miss is one stat (microseconds) rather than an asynchronous open that fails.
          const hit = existsSync(path)
            ? await readFile(path, "utf8").then(
                (raw) => storedResult(raw, key),
                () => undefined,
              )
            : undefined;
          if (hit) return { ...hit, cached: true, costUsd: 0 };
          const result = await model.generate(request);
          if (mode === "read-write") {
            const { signal: _s, ...stored } = request;
            const kept = { ...result, cached: undefined };
            await store(path, {
              key,
              model: model.id,
              request: stored,
              result: kept,
              checksum: sha256(JSON.stringify(kept)),
            });
          }
          return result;
        });
}
