import { spawn } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openRunStore } from "../src/index";

const dir = mkdtempSync(join(tmpdir(), "lmcot-runstore-"));

describe("openRunStore", () => {
  it("appends, knows its keys, never duplicates, and reads back", async () => {
    const path = join(dir, "a", "run.jsonl");
    const store = await openRunStore<{ key: string; n: number }>(path);
    await Promise.all([1, 2, 3].map((n) => store.append({ key: `k${n}`, n })));
    await store.append({ key: "k2", n: 99 });
    expect(store.has("k2")).toBe(true);
    expect(store.has("k4")).toBe(false);
    const rows = [];
    for await (const r of store.records()) rows.push(r);
    expect(rows.map((r) => r.key).sort()).toEqual(["k1", "k2", "k3"]);
    await store.close();
    const again = await openRunStore(path);
    expect(again.info).toEqual({ existing: 3, droppedTornLine: false });
    await again.close();
  });

  it("drops a torn last line on open and keeps appending cleanly", async () => {
    const path = join(dir, "torn.jsonl");
    writeFileSync(path, `${JSON.stringify({ key: "a" })}\n${JSON.stringify({ key: "b" })}\n{"key":"c","te`);
    const store = await openRunStore(path);
    expect(store.info).toEqual({ existing: 2, droppedTornLine: true });
    expect(store.has("c")).toBe(false);
    await store.append({ key: "c" });
    await store.close();
    expect(readFileSync(path, "utf8")).toBe('{"key":"a"}\n{"key":"b"}\n{"key":"c"}\n');
  });

  it("refuses a file damaged in the middle, naming the line", async () => {
    const path = join(dir, "bad.jsonl");
    writeFileSync(path, '{"key":"a"}\nnot json\n{"key":"b"}\n');
    await expect(openRunStore(path)).rejects.toThrow("bad.jsonl: line 2 is not valid JSON");
    const nokey = join(dir, "nokey.jsonl");
    appendFileSync(nokey, '{"id":1}\n');
    await expect(openRunStore(nokey)).rejects.toThrow("nokey.jsonl: line 1: key has no string `key`");
  });

  it("survives kill -9 in the middle of a stream of appends", async () => {
    const path = join(dir, "killed.jsonl");
    const storeModule = join(__dirname, "..", "src", "run-store.ts");
    // A child process appends big records as fast as it can until it is killed.
    const script = `
      const { openRunStore } = await import(${JSON.stringify(storeModule)});
      const store = await openRunStore(${JSON.stringify(path)});
      const pad = "x".repeat(200000);
      for (let i = 0; ; i++) { await store.append({ key: "k" + i, pad }); if (i === 5) process.stdout.write("go\\n"); }
    `;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: join(__dirname, ".."),
      stdio: ["ignore", "pipe", "inherit"],
    });
    await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
    await new Promise((r) => setTimeout(r, 150));
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    const store = await openRunStore(path);
    const n = store.info.existing;
    expect(n).toBeGreaterThan(5);
    const keys: string[] = [];
    for await (const r of store.records()) keys.push(r.key);
    expect(keys).toEqual(Array.from({ length: n }, (_, i) => `k${i}`));
    await store.append({ key: `k${n}` });
    await store.close();
    const text = readFileSync(path, "utf8");
    expect(text.endsWith("\n")).toBe(true);
    expect(
      text
        .trim()
        .split("\n")
        .every((l) => JSON.parse(l).key),
    ).toBe(true);
  });
});
