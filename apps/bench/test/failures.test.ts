import { readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { AuthenticationError, type GenerateRequest, ServerError } from "@lmcot/core";
import { ScriptedLanguageModel } from "@lmcot/core/testing";
import { type RunLock, RunLockedError } from "@lmcot/datasets";
import { ExtractiveSelector } from "@lmcot/small-lm";
import { describe, expect, it } from "vitest";
import { buildReport, loadExamples, parseConfig, runBench } from "../src/index";
import { tempDir } from "./helpers";

const config = (out: string) =>
  parseConfig({
    datasets: [{ name: "hotpotqa", sample: 10 }],
    methods: ["standard"],
    large: ["paid:model"],
    concurrency: 2,
    out,
  });

/** A large LM that fails (500) on the questions given, and answers the rest. */
async function failingOn(count: number) {
  const examples = await loadExamples(config("x").datasets[0]!);
  const bad = examples.slice(0, count).map((e) => e.question);
  return new ScriptedLanguageModel([
    (request: GenerateRequest) => {
      const text = JSON.stringify(request);
      if (bad.some((q) => text.includes(q))) throw new ServerError("upstream 500", { status: 500 });
      return "Answer: yes";
    },
  ]);
}

const resolver = (large: ScriptedLanguageModel) => ({
  large: () => large,
  small: () => new ExtractiveSelector(),
});
const lines = (path: string) => readFileSync(path, "utf8").trim().split("\n").filter(Boolean);

describe("failures in a bench run", () => {
  it("writes each failed item to errors.jsonl and the report shows n / expected and the failures", async () => {
    const out = tempDir("lmcot-bench-fail-");
    const result = await runBench(config(out), { resolver: resolver(await failingOn(3)) });
    expect(result.stopped).toBeUndefined();
    expect(result.cells[0]!.errors).toHaveLength(3);
    const errors = lines(join(out, "errors.jsonl")).map((l) => JSON.parse(l));
    expect(errors).toHaveLength(3);
    expect(errors[0]).toMatchObject({ cell: result.cells[0]!.cell.id, errorClass: "server", status: 500 });
    const { data, files } = await buildReport(out);
    expect(data.cells[0]).toMatchObject({ n: 7, expected: 10, failed: 3 });
    expect(data.failures).toMatchObject({ total: 3, byClass: [{ errorClass: "server", count: 3 }] });
    const md = readFileSync(files[1]!, "utf8");
    expect(md).toContain("| standard | hotpotqa | paid:model | 7 / 10 (3 failed) |");
    expect(md).toMatch(/## Failures\n\n3 of 10 items failed/);
    expect(md).toContain("| server (HTTP 500) | 3 | upstream 500 |");
    expect(readFileSync(files[2]!, "utf8")).toContain('id="failures"');

    // The re-run succeeds: the stale failures leave errors.jsonl and the report.
    const rerun = await runBench(config(out), { resolver: resolver(await failingOn(0)) });
    expect(rerun.cells[0]!.progress).toMatchObject({ skipped: 7, failed: 0, done: 10 });
    expect(lines(join(out, "errors.jsonl"))).toHaveLength(0);
    const after = await buildReport(out);
    expect(after.data.cells[0]).toMatchObject({ n: 10, expected: 10, failed: 0 });
    expect(after.data.failures.total).toBe(0);
    expect(readFileSync(after.files[1]!, "utf8")).not.toContain("## Failures");
  });

  it("stops at once on an error a re-run cannot fix, and the empty cells still show", async () => {
    const out = tempDir("lmcot-bench-fatal-");
    const large = new ScriptedLanguageModel([
      () => {
        throw new AuthenticationError("401 Incorrect API key provided", { status: 401 });
      },
    ]);
    const result = await runBench(parseConfig({ ...config(out), methods: ["standard", "cot"] }), {
      resolver: resolver(large),
    });
    expect(result.stopped).toBe("fatal");
    expect(result.fatal?.failure).toMatchObject({ errorClass: "authentication", status: 401 });
    expect(result.cells).toHaveLength(1);
    expect(large.requests.length).toBeLessThanOrEqual(2);
    const { data } = await buildReport(out);
    expect(data.cells.map((c) => [c.cell.method, c.n, c.expected])).toEqual([
      ["standard", 0, 10],
      ["cot", 0, 10],
    ]);
    expect(data.failures.byClass[0]).toMatchObject({ errorClass: "authentication" });
  });

  it("one process per run directory: a live holder is named, a dead one's lock is taken over", async () => {
    const out = tempDir("lmcot-bench-lock-");
    const holder = { pid: process.ppid, host: hostname(), command: "lmcot bench", startedAt: "then" };
    writeFileSync(join(out, ".lock"), JSON.stringify(holder));
    const large = await failingOn(0);
    const error = await runBench(config(out), { resolver: resolver(large) }).catch((e) => e);
    expect(RunLockedError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain(`lmcot bench (pid ${process.ppid}`);
    expect(large.requests).toHaveLength(0);

    writeFileSync(join(out, ".lock"), JSON.stringify({ ...holder, pid: 2 ** 22 + 7 }));
    const locks: RunLock[] = [];
    const result = await runBench(config(out), { resolver: resolver(large), onLock: (l) => locks.push(l) });
    expect(result.cells[0]!.progress.done).toBe(10);
    expect(locks[0]!.tookOver).toMatchObject({ pid: 2 ** 22 + 7, command: "lmcot bench" });
  });
});
