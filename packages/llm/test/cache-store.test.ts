import { describe, expect, it } from "vitest";
import * as browser from "../src/browser";
import * as node from "../src/index";
import { faultServers, KEY } from "./helpers";

const { cacheKey, createModel, getModel, indexedDbStore, memoryStore, storeCache, storeCacheKey, wrapModel } =
  node;
const start = faultServers();

const cachedModel = async (store: node.CacheStore, extra: Partial<node.StoreCacheOptions> = {}) => {
  const s = await start({ reply: (r) => `answer to ${r.item}` });
  const adapter = getModel("openai:gpt-4o-mini", { apiKey: KEY, baseURL: `${s.url}/v1` });
  return { s, model: wrapModel(adapter, [storeCache({ store, ...extra })]) };
};

describe("storeCache over a pluggable store", () => {
  it("answers a repeated call from the store, free and marked cached, under diskCache's key", async () => {
    const { s, model } = await cachedModel(memoryStore());
    const first = await model.generate({ prompt: "q1", maxTokens: 20 });
    const again = await model.generate({ maxTokens: 20, prompt: "q1" });
    expect(s.seen).toHaveLength(1);
    expect(first.cached).toBeUndefined();
    expect(again).toMatchObject({ text: first.text, cached: true, costUsd: 0 });
    const request = { prompt: "q1", maxTokens: 20 };
    expect(await storeCacheKey("openai:gpt-4o-mini", request)).toBe(cacheKey("openai:gpt-4o-mini", request));
  });

  it("never caches an error, and reads only in read-only mode", async () => {
    const s = await start({ reply: () => "ok", failFirst: 1, fault: 400 });
    const store = memoryStore();
    const model = wrapModel(getModel("openai:gpt-4o-mini", { apiKey: KEY, baseURL: `${s.url}/v1` }), [
      storeCache({ store }),
    ]);
    await expect(model.generate({ prompt: "q" })).rejects.toThrow();
    expect((await model.generate({ prompt: "q" })).cached).toBeUndefined();
    const readOnly = await cachedModel(memoryStore(), { mode: "read-only" });
    await readOnly.model.generate({ prompt: "q" });
    await readOnly.model.generate({ prompt: "q" });
    expect(readOnly.s.seen).toHaveLength(2);
  });

  it("keeps at most maxEntries in memory, dropping the oldest", async () => {
    const store = memoryStore({ maxEntries: 2 });
    const entry = (key: string) => ({
      key,
      model: "m",
      result: { text: key, usage: { inputTokens: 1, outputTokens: 1 }, finishReason: "stop" as const },
    });
    for (const key of ["a", "b", "c"]) await store.set(key, entry(key));
    expect([await store.get("a"), (await store.get("b"))?.key, (await store.get("c"))?.key]).toEqual([
      undefined,
      "b",
      "c",
    ]);
  });

  it("returns results and warns once when the store fails (IndexedDB where there is none)", async () => {
    const warnings: string[] = [];
    const { s, model } = await cachedModel(indexedDbStore(), { onWarning: (m) => warnings.push(m) });
    expect((await model.generate({ prompt: "q1" })).text).toBe("answer to q1");
    expect((await model.generate({ prompt: "q2" })).text).toBe("answer to q2");
    expect(s.seen).toHaveLength(2);
    expect(warnings).toEqual([expect.stringMatching(/not cached.*IndexedDB is not available/)]);
  });

  it("is createModel's cacheStore option", async () => {
    const s = await start({ reply: (r) => `answer to ${r.item}` });
    const model = createModel("openai:gpt-4o-mini", {
      apiKey: KEY,
      baseURL: `${s.url}/v1`,
      cacheStore: memoryStore(),
    });
    await model.generate({ prompt: "q" });
    expect((await model.generate({ prompt: "q" })).cached).toBe(true);
    expect(model.meter.cacheHits).toBe(1);
  });
});

describe("the browser entry", () => {
  it("has every export of the Node entry but the disk cache and the batch journal, sessions and rounds", () => {
    const nodeOnly = [
      "BatchRounds",
      "BatchSession",
      "isBatchDeferred",
      "batchStatuses",
      "cacheKey",
      "cancelBatches",
      "checkCacheDir",
      "diskCache",
      "journalPaths",
      "listBatches",
      "readJournal",
    ];
    const missing = Object.keys(node).filter((name) => !(name in browser));
    expect(missing.sort()).toEqual(nodeOnly.sort());
  });
});
