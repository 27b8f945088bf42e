import type { CacheEntry, CacheStore } from "./cache-store";

const STORE = "calls";

const done = <T>(request: IDBRequest<T>) =>
  new Promise<T>((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });

/**
 * A `CacheStore` in the browser's IndexedDB (database `name`, default `lmcot-cache`): cached calls
 * outlive the page. Where IndexedDB is missing or refused (private mode), every call is a miss and
 * the first write says why.
 */
export function indexedDbStore(options: { name?: string } = {}): CacheStore {
  let db: Promise<IDBDatabase> | undefined;
  const open = () => {
    db ??= (async () => {
      if (typeof indexedDB === "undefined") throw new Error("IndexedDB is not available here");
      const request = indexedDB.open(options.name ?? "lmcot-cache", 1);
      request.onupgradeneeded = () => request.result.createObjectStore(STORE);
      return done(request);
    })();
    return db;
  };
  const store = async (mode: IDBTransactionMode) =>
    (await open()).transaction(STORE, mode).objectStore(STORE);
  return {
    get: async (key) => (await done((await store("readonly")).get(key))) as CacheEntry | undefined,
    set: async (key, entry) => {
      await done((await store("readwrite")).put(entry, key));
    },
  };
}
