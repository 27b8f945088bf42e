import { BadRequestError } from "@lmcot/core";
import type { DiskCacheOptions } from "./cache";
import type { Middleware } from "./types";

// The browser build's stand-in for cache.ts: there is no disk, so createModel's cacheDir says what to use.
const NO_DISK =
  "the disk cache (cacheDir) is Node-only; in a browser pass cacheStore: indexedDbStore() or memoryStore()";

export function checkCacheDir(_dir: string): string | undefined {
  return NO_DISK;
}

export function diskCache(_options: DiskCacheOptions): Middleware {
  throw new BadRequestError(NO_DISK);
}
