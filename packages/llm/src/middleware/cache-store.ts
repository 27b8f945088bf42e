import type { GenerateResult } from "@lmcot/core";
import { z } from "zod";
import { canonicalRequest } from "./cache-key";
import { type Middleware, withGenerate } from "./types";

/** One cached call: what `storeCache` writes and reads back. */
export interface CacheEntry {
  key: string;
  model: string;
  result: GenerateResult;
}

/**
 * Where `storeCache` keeps results: memory (`memoryStore`), IndexedDB in browsers (`indexedDbStore`),
 * or your own (a KV binding, Redis). A store that throws is a miss on read and a warning on write.
 */
export interface CacheStore {
  get(key: string): Promise<CacheEntry | undefined>;
  set(key: string, entry: CacheEntry): Promise<void>;
}

export interface StoreCacheOptions {
  store: CacheStore;
  /** Read and write (default), only read, or neither. */
  mode?: "read-write" | "read-only" | "off";
  /** Told once when a result could not be stored; the result is returned all the same. */
  onWarning?: (message: string) => void;
}

/** A store in this process's memory, lost when it ends; `maxEntries` drops the oldest first. */
export function memoryStore(options: { maxEntries?: number } = {}): CacheStore {
  const entries = new Map<string, CacheEntry>();
  const max = options.maxEntries ?? Number.POSITIVE_INFINITY;
  return {
    get: async (key) => entries.get(key),
    set: async (key, entry) => {
      entries.delete(key);
      entries.set(key, structuredClone(entry));
      for (const oldest of entries.keys()) {
        if (entries.size <= max) break;
        entries.delete(oldest);
      }
    },
  };
}

/** The sha256 (hex) of a call's canonical request: the same key `diskCache` files a call under. */
export async function storeCacheKey(modelId: string, request: Parameters<typeof canonicalRequest>[1]) {
  const bytes = new TextEncoder().encode(canonicalRequest(modelId, request));
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

const entrySchema = z.object({
  key: z.string(),
  result: z.looseObject({
    text: z.string(),
    usage: z.looseObject({ inputTokens: z.number(), outputTokens: z.number() }),
  }),
});

/**
 * A content-addressed cache over any `CacheStore`, on every platform (Web Crypto for the key). Hits
 * are marked `cached: true` and cost 0; errors are never cached; an entry for another key or of
 * another shape is a miss. Only the request's result is stored — never keys or headers.
 */
export function storeCache(options: StoreCacheOptions): Middleware {
  const mode = options.mode ?? "read-write";
  let warned = false;
  const warn = (error: unknown) => {
    if (warned) return;
    warned = true;
    (options.onWarning ?? console.warn)(
      `results are kept but not cached: the cache store failed (${(error as Error)?.message ?? error})`,
    );
  };
  return (model) =>
    mode === "off"
      ? model
      : withGenerate(model, async (request) => {
          const key = await storeCacheKey(model.id, request);
          const stored = await options.store.get(key).catch(() => undefined);
          const hit = entrySchema.safeParse(stored);
          if (hit.success && hit.data.key === key)
            return { ...(stored as CacheEntry).result, cached: true, costUsd: 0 };
          const result = await model.generate(request);
          if (mode === "read-write")
            await options.store
              .set(key, { key, model: model.id, result: { ...result, cached: undefined } })
              .catch(warn);
          return result;
        });
}
