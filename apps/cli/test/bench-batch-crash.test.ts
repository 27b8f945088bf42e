import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BatchServer, batchServer } from "@lmcot/llm/testing";
import { afterEach, describe, expect, it } from "vitest";
import { bin, jsonl, lmcotEnv } from "./run-cli";

const KEY = "sk-test-batchcrash0123456789abcdef";
let server: BatchServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Seeded delays (xorshift), so a failure replays with the same kill points. */
function delays(seed: number) {
  let x = seed;
  return (max: number) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % max;
  };
}

/** Starts `lmcot bench` and SIGKILLs it once `ready()` holds (or it ends first); true if killed. */
async function killWhen(args: string[], env: Record<string, string>, ready: () => boolean): Promise<boolean> {
  const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, stdio: "ignore" });
  let ended = false;
  const exited = new Promise((r) => child.once("exit", r)).then(() => (ended = true));
  while (!ended && !ready()) await new Promise((r) => setTimeout(r, 5));
  if (ended) return false;
  child.kill("SIGKILL");
  await exited;
  return true;
}

describe("lmcot bench --batch killed at random points", () => {
  it("SIGKILL while uploading, polling, dispatching results and at random times: 0 lost, 0 duplicated, no request submitted twice", async () => {
    server = await batchServer({ apiKey: KEY, pollsToEnd: 3, shuffle: true });
    const s = server;
    const out = join(mkdtempSync(join(tmpdir(), "lmcot-bench-crash-")), "run");
    const env = { ...s.env(KEY), CI: "1" };
    const args = [
      "bench",
      "--batch",
      "--batch-poll",
      "0.05",
      "--large",
      "openai:gpt-4o-mini",
      "--datasets",
      "hotpotqa:8",
      "--concurrency",
      "2",
      "--out",
      out,
      "--no-cache",
    ];
    const count = (route: string) => s.calls[route] ?? 0;
    const after = (route: string) => {
      const base = count(route);
      return () => count(route) > base;
    };
    const random = delays(29);
    const points: (() => () => boolean)[] = [
      () => after("files.create"),
      () => after("batches.create"),
      () => after("batches.retrieve"),
      () => after("files.content"),
      ...Array.from({ length: 4 }, () => {
        return () => {
          const at = Date.now() + 150 + random(1500);
          return () => Date.now() >= at;
        };
      }),
    ];
    let kills = 0;
    for (const point of points) if (await killWhen(args, env, point())) kills++;
    expect(kills).toBeGreaterThanOrEqual(4);

    const done = await lmcotEnv(env, ...args);
    expect(done.code, done.stderr).toBe(0);
    const records = jsonl(join(out, "run.jsonl"));
    // 8 questions × standard, CoT and LM-guided CoT: every item once, none lost.
    expect(records).toHaveLength(24);
    expect(new Set(records.map((r) => r.key)).size).toBe(24);
    // No request went into two batches: nothing paid for twice.
    const sent = s.created.flatMap((b) => b.customIds);
    expect(new Set(sent).size).toBe(sent.length);
    expect(count("chat.completions")).toBe(0);
    // Every submission the journal began was settled: created (and recorded), or known not to be.
    const journal = jsonl(join(out, "batches.jsonl"));
    const begun = journal.filter((e) => e.event === "submitting").map((e) => e.submission);
    const settled = new Set(
      journal.filter((e) => e.event === "submitted" || e.event === "not-submitted").map((e) => e.submission),
    );
    expect(begun.every((id) => settled.has(id))).toBe(true);
    expect(new Set(journal.filter((e) => e.event === "submitted").map((e) => e.batchId)).size).toBe(
      s.created.length,
    );

    // A finished run re-run: nothing more sent.
    const before = JSON.stringify(s.calls);
    expect((await lmcotEnv(env, ...args)).code).toBe(0);
    expect(JSON.stringify(s.calls)).toBe(before);
  });
});
