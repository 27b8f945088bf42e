import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { cacheKey, checkCacheDir, createModel, diskCache, getModel, wrapModel } from "../src/index";
import { faultServers, KEY } from "./helpers";

const start = faultServers();
const folder = () => mkdtempSync(join(tmpdir(), "lmcot-cache-"));
const entryPath = (dir: string, prompt: string) => {
  const key = cacheKey("openai:gpt-4o-mini", { prompt });
  return join(dir, key.slice(0, 2), `${key}.json`);
};
const cachedModel = async (dir: string, onWarning?: (message: string) => void) => {
  const s = await start({ reply: (r) => `answer to ${r.item}` });
  const adapter = getModel("openai:gpt-4o-mini", { apiKey: KEY, baseURL: `${s.url}/v1` });
  return { s, model: wrapModel(adapter, [diskCache({ dir, ...(onWarning ? { onWarning } : {}) })]) };
};
const files = (dir: string) => readdirSync(dir, { recursive: true }).map(String);

describe("disk cache entries", () => {
  it("carry their key and the checksum of their result", async () => {
    const dir = folder();
    const { model } = await cachedModel(dir);
    await model.generate({ prompt: "q1" });
    const entry = JSON.parse(readFileSync(entryPath(dir, "q1"), "utf8"));
    expect(entry.key).toBe(cacheKey("openai:gpt-4o-mini", { prompt: "q1" }));
    expect(entry.checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(entry.result.text).toBe("answer to q1");
  });

  it.each([
    ["hand-edited", (raw: string) => raw.replace("answer to q1", "a better answer")],
    ["truncated", (raw: string) => raw.slice(0, raw.length / 2)],
    ["not an entry", () => '{"result":{"text":"x","usage":{"inputTokens":1,"outputTokens":1}}}'],
  ])("a %s entry is a miss, recomputed and rewritten", async (_name, spoil) => {
    const dir = folder();
    const { s, model } = await cachedModel(dir);
    await model.generate({ prompt: "q1" });
    const path = entryPath(dir, "q1");
    writeFileSync(path, spoil(readFileSync(path, "utf8")));
    const again = await model.generate({ prompt: "q1" });
    expect(again).toMatchObject({ text: "answer to q1" });
    expect(again.cached).toBeFalsy();
    expect(s.seen).toHaveLength(2);
    expect((await model.generate({ prompt: "q1" })).cached).toBe(true);
    expect(s.seen).toHaveLength(2);
  });

  it("an entry for another call, put in this one's place, is a miss", async () => {
    const dir = folder();
    const { s, model } = await cachedModel(dir);
    await model.generate({ prompt: "q1" });
    mkdirSync(join(entryPath(dir, "q2"), ".."), { recursive: true });
    writeFileSync(entryPath(dir, "q2"), readFileSync(entryPath(dir, "q1")));
    expect((await model.generate({ prompt: "q2" })).text).toBe("answer to q2");
    expect(s.seen).toHaveLength(2);
  });
});

describe("a cache that cannot be written", () => {
  it("keeps the result and warns once, never throwing (folder under a regular file)", async () => {
    const parent = join(folder(), "not-a-folder");
    writeFileSync(parent, "");
    const warnings: string[] = [];
    const { s, model } = await cachedModel(join(parent, "cache"), (m) => warnings.push(m));
    expect((await model.generate({ prompt: "q1" })).text).toBe("answer to q1");
    expect((await model.generate({ prompt: "q2" })).text).toBe("answer to q2");
    expect(s.seen).toHaveLength(2);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /not-a-folder\/cache is not writable \(.*\); results are kept but not cached/,
    );
  });

  it("says so when the cache is made, before any call is paid for", () => {
    const parent = join(folder(), "not-a-folder");
    writeFileSync(parent, "");
    const warnings: string[] = [];
    createModel("extractive:reader", {
      cacheDir: join(parent, "cache"),
      onCacheWarning: (m) => warnings.push(m),
    });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/not-a-folder\/cache is not writable/);
  });

  it("keeps the result when the entry cannot be put in place, leaving no temporary file", async () => {
    const dir = folder();
    const warnings: string[] = [];
    const { model } = await cachedModel(dir, (m) => warnings.push(m));
    mkdirSync(entryPath(dir, "q1"), { recursive: true });
    expect((await model.generate({ prompt: "q1" })).text).toBe("answer to q1");
    expect(warnings).toHaveLength(1);
    expect(files(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("by default says so on stderr, one line per folder, through createModel with the meter counting", async () => {
    const s = await start();
    const parent = join(folder(), "file");
    writeFileSync(parent, "");
    const write = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      const model = createModel("openai:gpt-4o-mini", {
        apiKey: KEY,
        baseURL: `${s.url}/v1`,
        cacheDir: join(parent, "cache"),
      });
      await model.generate({ prompt: "q1" });
      await model.generate({ prompt: "q2" });
      expect(model.meter.calls).toBe(2);
      const lines = write.mock.calls.map(([chunk]) => String(chunk)).filter((l) => l.includes("file/cache"));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^warning: the cache folder .* is not writable .*\n$/);
    } finally {
      write.mockRestore();
    }
  });
});

describe("checkCacheDir", () => {
  it("says why a folder cannot serve as a cache, and nothing for one that can", () => {
    const dir = folder();
    expect(checkCacheDir(join(dir, "new", "cache"))).toBeUndefined();
    expect(files(dir)).toEqual(["new", join("new", "cache")]);
    writeFileSync(join(dir, "file"), "");
    expect(checkCacheDir(join(dir, "file", "cache"))).toMatch(/file\/cache is not writable/);
  });
});
