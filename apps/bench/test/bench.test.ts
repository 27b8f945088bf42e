import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  buildReport,
  cells,
  defaultConfig,
  defaultRunDir,
  estimateBench,
  loadConfig,
  parseConfig,
  runBench,
} from "../src/index";
import { offlineConfig, tempDir } from "./helpers";

describe("config", () => {
  it("validates with errors naming the file and field", () => {
    const dir = tempDir("lmcot-bench-cfg-");
    const file = join(dir, "bench.yaml");
    writeFileSync(
      file,
      "datasets:\n  - name: hotpotqa\nmethods: [standard, magic]\nlarge: [extractive:reader]\n",
    );
    expect(() => loadConfig(file)).toThrow(/^bench\.yaml: methods\[1\] /);
    writeFileSync(file, "datasets: [\n");
    expect(() => loadConfig(file)).toThrow(/^bench\.yaml is not valid YAML or JSON/);
    writeFileSync(
      file,
      JSON.stringify({
        datasets: [{ name: "hotpotqa", sample: 5 }],
        methods: ["standard"],
        large: ["extractive:reader"],
        budget: 1,
      }),
    );
    expect(loadConfig(file)).toMatchObject({ concurrency: 4, seeds: [0], budget: 1 });
  });

  it("gives a key left out its default, and refuses unknown keys with the nearest known one", () => {
    const config = parseConfig({}, "bench.yaml");
    expect(config.methods).toEqual(["standard", "cot", "lm-guided"]);
    expect(config.datasets.map((d) => d.name)).toEqual(["hotpotqa", "2wikimultihopqa"]);
    expect(config.small).toEqual([{ id: "extractive:selector", label: "selector" }]);
    expect(config.large).toHaveLength(1);
    expect(parseConfig({ methods: ["lm-guided"] }).small).toHaveLength(1);
    expect(() => parseConfig({ methods: ["lm-guided"], small: [] }, "b.yaml")).toThrow(
      /^b\.yaml: small is empty, but methods has lm-guided/,
    );
    expect(() => parseConfig({ budgetUSD: 1, context: { paragrahs: "all" } }, "bench.yaml")).toThrow(
      "bench.yaml: budgetUSD: unknown key; did you mean budget?\nbench.yaml: context.paragrahs: unknown key; did you mean paragraphs?",
    );
    expect(() => parseConfig({ datasets: [{ name: "hotpotqa", smaple: 3 }] }, "b.yaml")).toThrow(
      "b.yaml: datasets[0].smaple: unknown key; did you mean sample?",
    );
  });

  it("defaults to the offline stand-ins without keys, and to a real provider with one", () => {
    expect(defaultConfig({}).large).toEqual(["extractive:reader"]);
    expect(defaultConfig({ OPENAI_API_KEY: "sk-test" }).large).toEqual(["openai:gpt-4o-mini"]);
    expect(defaultConfig({ ANTHROPIC_API_KEY: "x" }).large?.[0]).toMatch(/^anthropic:/);
  });

  it("expands the grid and keeps the run directory stable for the same grid", () => {
    const config = offlineConfig("unused", {
      out: undefined,
      small: [
        { id: "extractive:selector", label: "kd" },
        { id: "extractive:selector-3", label: "kd+rl" },
      ],
    });
    expect(cells(config).map((c) => c.id)).toContain(
      "lm-guided · kd+rl · 2wikimultihopqa · extractive:reader · seed0",
    );
    expect(cells(config)).toHaveLength(2 * (2 + 2));
    expect(defaultRunDir(config)).toBe(defaultRunDir({ ...config, concurrency: 9 }));
    expect(defaultRunDir(config)).not.toBe(defaultRunDir({ ...config, seeds: [1] }));
  });

  it("estimates calls and tokens in a dry run", async () => {
    const estimates = await estimateBench(
      offlineConfig("x", { large: ["openai:gpt-4o-mini"], selfConsistency: 3 }),
      () => ({ input: 0.15, output: 0.6 }),
    );
    const guided = estimates.find((e) => e.cell.method === "lm-guided" && e.cell.dataset === "hotpotqa")!;
    expect(guided).toMatchObject({ examples: 12, calls: 36 });
    expect(guided.inputTokens).toBeGreaterThan(12 * 3 * 500);
    expect(guided.costUsd).toBeGreaterThan(0);
  });
});

describe("runBench", () => {
  it("runs the offline grid, resumes without repeating work, and reports", async () => {
    const out = tempDir("lmcot-bench-run-");
    const config = offlineConfig(out);
    const first = await runBench(config);
    expect(first.cells).toHaveLength(6);
    const lines = readFileSync(join(out, "run.jsonl"), "utf8").trim().split("\n");
    expect(lines).toHaveLength(3 * 12 + 3 * 2);
    const second = await runBench(config);
    expect(second.cells.every((c) => c.progress.skipped === c.progress.total)).toBe(true);
    expect(readFileSync(join(out, "run.jsonl"), "utf8").trim().split("\n")).toHaveLength(lines.length);
    const { data, files } = await buildReport(out);
    expect(files.map((f) => f.split("/").pop())).toEqual(["report.json", "report.md", "report.html"]);
    expect(data.offlineNote).toMatch(/offline stand-ins/);
    expect(data.cells.find((c) => c.cell.method === "standard" && c.cell.dataset === "hotpotqa")!.n).toBe(12);
    expect(
      data.comparisons.some((c) => c.guided === "lm-guided (selector)" && c.baseline === "standard"),
    ).toBe(true);
    expect(data.claims.map((c) => c.verdict)).toContain("not tested in this run");
    const md = readFileSync(files[1]!, "utf8");
    expect(md).toContain("| lm-guided (selector) | hotpotqa | extractive:reader | 12 / 12 |");
  });

  it("stops before the budget is exceeded", async () => {
    const out = tempDir("lmcot-bench-budget-");
    const { ScriptedLanguageModel } = await import("@lmcot/core/testing");
    const { ExtractiveSelector } = await import("@lmcot/small-lm");
    const large = new ScriptedLanguageModel([{ text: "Answer: yes", costUsd: 0.01 }], "paid:model");
    const result = await runBench(
      offlineConfig(out, { large: ["paid:model"], budget: 0.05, concurrency: 1 }),
      {
        resolver: { large: () => large, small: () => new ExtractiveSelector() },
      },
    );
    expect(result.stopped).toBe("budget");
    expect(result.costUsd).toBeLessThanOrEqual(0.05 + 1e-9);
    expect(large.requests.length).toBe(5);
  });

  it("survives kill -9 mid-run: no torn or duplicated records, and the re-run finishes the rest", async () => {
    const out = tempDir("lmcot-bench-kill-");
    const script = `
      import { runBench, parseConfig } from ${JSON.stringify(join(__dirname, "..", "src", "index.ts"))};
      import { ExtractiveReader } from "@lmcot/llm";
      import { ExtractiveSelector } from "@lmcot/small-lm";
      const reader = new ExtractiveReader();
      const slow = { specificationVersion: "v1", id: "extractive:reader", generate: async (r) => { await new Promise((s) => setTimeout(s, 15)); return reader.generate(r); } };
      const config = parseConfig(${JSON.stringify({ datasets: [{ name: "hotpotqa" }], methods: ["standard", "lm-guided"], large: ["extractive:reader"], small: [{ id: "extractive:selector", label: "selector" }], concurrency: 3, out })});
      await runBench(config, { resolver: { large: () => slow, small: () => new ExtractiveSelector() }, onProgress: (c, p) => { if (p.done === 10) process.stdout.write("go\\n"); } });
    `;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: join(__dirname, ".."),
      stdio: ["ignore", "pipe", "inherit"],
    });
    await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    const before = readFileSync(join(out, "run.jsonl"), "utf8");
    const complete = before.split("\n").filter((l) => l.endsWith("}"));
    expect(complete.length).toBeGreaterThanOrEqual(10);
    expect(complete.length).toBeLessThan(114);
    const config = parseConfig({
      datasets: [{ name: "hotpotqa" }],
      methods: ["standard", "lm-guided"],
      large: ["extractive:reader"],
      small: [{ id: "extractive:selector", label: "selector" }],
      out,
    });
    const resumed = await runBench(config);
    expect(resumed.cells[0]!.progress.skipped).toBeGreaterThanOrEqual(10);
    const keys = readFileSync(join(out, "run.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).key as string);
    expect(keys).toHaveLength(114);
    expect(new Set(keys).size).toBe(114);
  });
});
