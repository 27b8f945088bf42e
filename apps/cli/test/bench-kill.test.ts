import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GridServer, gridServer, writeSyntheticDev } from "../../bench/bench/grid-fixture";
import { bin, lmcot } from "./run-cli";

const QUESTIONS = 300;
const CONCURRENCY = 8;
let server: GridServer;
let file = "";

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), "lmcot-bench-kill-data-"));
  file = join(dir, "dev.json");
  server = await gridServer(await writeSyntheticDev(file, QUESTIONS), 4);
});
afterAll(() => server.close());

const lines = (path: string) =>
  existsSync(path)
    ? readFileSync(path, "utf8")
        .split("\n")
        .filter((l) => l.trim())
    : [];

describe("lmcot bench, SIGKILLed at a random point and run again", () => {
  it("ends with every item once and repeats only the large-LM calls in flight at the kill", async () => {
    const out = mkdtempSync(join(tmpdir(), "lmcot-bench-kill-"));
    const runFile = join(out, "run", "run.jsonl");
    const large = ["a", "b"].map((m) => `openai-compatible:${server.baseURL}#${m}`).join(",");
    const args = [
      "bench",
      "--datasets",
      `hotpotqa:${file}`,
      "--methods",
      "standard,cot",
      "--large",
      large,
      "--concurrency",
      String(CONCURRENCY),
      "--out",
      join(out, "run"),
      "--cache-dir",
      join(out, "cache"),
      "--quiet",
      "--json",
    ];
    const items = QUESTIONS * 4;
    // Somewhere in the first three cells (each cell is 300 items).
    const killAt = 30 + Math.floor(Math.random() * (items * 0.7));
    const child = spawn(process.execPath, [bin, ...args], { stdio: "ignore" });
    const exited = new Promise((r) => child.once("exit", r));
    while (lines(runFile).length < killAt) await new Promise((r) => setTimeout(r, 5));
    const inFlight = server.inFlight;
    child.kill("SIGKILL");
    await exited;
    const killedAt = Date.now();
    const before = lines(runFile).filter((l) => l.endsWith("}"));
    expect(before.length).toBeGreaterThanOrEqual(killAt);
    expect(before.length).toBeLessThan(items);

    const resumed = await lmcot(...args);
    expect(resumed.code, resumed.stderr).toBe(0);
    const after = lines(runFile).map((l) => JSON.parse(l) as { key: string; prompts: unknown[] });
    const keys = new Set(after.map((r) => r.key));
    // 0 lost, 0 duplicated.
    expect(keys.size).toBe(items);
    expect(after).toHaveLength(items);
    expect(JSON.parse(resumed.stdout).total).toBe(items);
    // Every finished item's calls were made once: the distinct requests are the calls the records hold.
    const calls = after.reduce((n, r) => n + r.prompts.length, 0);
    expect(server.seen.size).toBe(calls);
    // A request made again is one in flight at the kill: unanswered, or answered in the moment before
    // it and not yet in the disk cache. At most one per item in flight (an item's next call starts
    // after the previous one is cached); a call answered earlier comes from the cache or the run file.
    const repeated = [...server.seen].filter(([, n]) => n > 1);
    expect(repeated.length).toBe(server.repeated);
    expect(repeated.length).toBeLessThanOrEqual(CONCURRENCY);
    for (const [hash, n] of repeated) {
      expect(n).toBe(2);
      expect(server.answeredAt.get(hash) ?? killedAt).toBeGreaterThan(killedAt - 2000);
    }
    expect(inFlight).toBeLessThanOrEqual(CONCURRENCY);
    expect(lines(join(out, "run", "errors.jsonl"))).toEqual([]);
  }, 120_000);
});
