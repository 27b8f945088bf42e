import { createHash, randomBytes } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { GenerateRequest, GenerateResult } from "@lmcot/core";
import { type Middleware, withGenerate } from "./types";

export interface DiskCacheOptions {
  dir: string;
  /** Read and write (default), only read, or neither (`--no-cache`). */
  mode?: "read-write" | "read-only" | "off";
}

/** The content address of a call: model id + the full request (minus the signal) + prompt version. */
export function cacheKey(modelId: string, request: GenerateRequest): string {
  const { signal: _signal, ...rest } = request;
  const canonical = JSON.stringify({ model: modelId, request: rest }, (_k, v) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
  return createHash("sha256").update(canonical).digest("hex");
}

/**
 * A content-addressed disk cache: one JSON file per call under `dir/ab/<sha256>.json`, written to a
 * temporary file and renamed into place (atomic, so several processes can share the folder). Hits
 * are marked `cached: true` and cost 0; errors are never cached. Only the request and the result are
 * stored — never keys or headers.
 */
export function diskCache(options: DiskCacheOptions): Middleware {
  const mode = options.mode ?? "read-write";
  const made = new Set<string>();
  return (model) =>
    mode === "off"
      ? model
      : withGenerate(model, async (request) => {
          const key = cacheKey(model.id, request);
          const path = join(options.dir, key.slice(0, 2), `${key}.json`);
          try {
            const hit = JSON.parse(await readFile(path, "utf8")) as { result?: GenerateResult };
            if (typeof hit.result?.text === "string" && hit.result.usage)
              return { ...hit.result, cached: true, costUsd: 0 };
          } catch {
            // a miss (or an unreadable entry, which is simply recomputed)
          }
          const result = await model.generate(request);
          if (mode === "read-write") {
            const folder = dirname(path);
            if (!made.has(folder)) {
              await mkdir(folder, { recursive: true });
              made.add(folder);
            }
            const tmp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
            const { signal: _s, ...stored } = request;
            await writeFile(
              tmp,
              JSON.stringify({ model: model.id, request: stored, result: { ...result, cached: undefined } }),
            );
            await rename(tmp, path);
          }
          return result;
        });
}
