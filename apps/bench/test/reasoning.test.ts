import { readFileSync } from "node:fs";
import { join } from "node:path";
import { priceOf } from "@lmcot/llm";
import { faultServer } from "@lmcot/llm/testing";
import { afterEach, describe, expect, it } from "vitest";
import {
  type BenchRecord,
  buildReport,
  buildViewData,
  cells,
  estimateBench,
  parseConfig,
  parseLarge,
  runBench,
} from "../src/index";
import { tempDir } from "./helpers";

const THOUGHT = "The bridge entity is named in both paragraphs, so yes.";
const THOUGHT_TOKENS = THOUGHT.split(" ").length;

const servers: { close(): Promise<void> | void }[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function reasoningServer() {
  const server = await faultServer({ reply: "Answer: yes", reasoning: THOUGHT });
  servers.push(server);
  return server;
}

const records = (dir: string): BenchRecord[] =>
  readFileSync(join(dir, "run.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as BenchRecord);

const grid = (out: string, large: string[], overrides: Record<string, unknown> = {}) =>
  parseConfig({
    datasets: [{ name: "hotpotqa", sample: 3 }],
    methods: ["standard"],
    large,
    cache: false,
    retries: 0,
    concurrency: 2,
    out,
    ...overrides,
  });

describe("reasoning in the bench", () => {
  it("keeps each call's reasoning text and tokens in run.jsonl, report.json, report.md and the view", async () => {
    const server = await reasoningServer();
    const out = tempDir("lmcot-bench-reasoning-");
    const large = `openai-compatible:${server.url}/v1#deepseek-reasoner`;
    const result = await runBench(grid(out, [large]));
    expect(result.cells[0]!.progress).toMatchObject({ done: 3, failed: 0 });
    const rs = records(out);
    expect(rs).toHaveLength(3);
    for (const r of rs) {
      expect(r.prompts).toHaveLength(1);
      expect(r.prompts![0]).toMatchObject({ step: "answer", output: "Answer: yes", reasoning: THOUGHT });
      expect(r.prompts![0]!.usage?.reasoningTokens).toBe(THOUGHT_TOKENS);
      expect(r.usage.reasoningTokens).toBe(THOUGHT_TOKENS);
    }
    const { data, files } = await buildReport(out);
    const json = JSON.parse(readFileSync(files[0]!, "utf8"));
    expect(json.cells[0].tokens.largeReasoning).toBe(3 * THOUGHT_TOKENS);
    expect(data.cells[0]!.tokens.largeOut).toBe(3 * (THOUGHT_TOKENS + 2));
    const md = readFileSync(files[1]!, "utf8");
    expect(md).toContain("| method | dataset | large LM | large in | large out | large reasoning |");
    expect(md).toMatch(
      new RegExp(
        `\\| standard \\| hotpotqa \\| \\S+ \\| [\\d,]+ \\| ${3 * (THOUGHT_TOKENS + 2)} \\| ${3 * THOUGHT_TOKENS} \\|`,
      ),
    );
    expect(readFileSync(files[2]!, "utf8")).toContain("<th>large reasoning</th>");
    const { detail } = await buildViewData([out]);
    expect(detail(0).cells[0]!.prompts![0]!.reasoning).toBe(THOUGHT);
  });

  it("shows no reasoning column for runs without reasoning tokens (older runs included)", async () => {
    const out = tempDir("lmcot-bench-noreasoning-");
    await runBench(grid(out, ["extractive:reader"], { cache: true, cacheDir: join(out, "cache") }));
    const { data, files } = await buildReport(out);
    expect(data.cells[0]!.tokens).not.toHaveProperty("largeReasoning");
    expect(readFileSync(files[1]!, "utf8")).not.toContain("large reasoning");
  });

  it("runs one cell per reasoning effort, each call carrying its effort, under distinct run keys and labels", async () => {
    const server = await reasoningServer();
    const out = tempDir("lmcot-bench-effort-");
    const base = `openai-compatible:${server.url}/v1#deepseek-reasoner`;
    const config = grid(out, [`${base}@low`, `${base}@high`], {
      methods: ["standard", "lm-guided"],
      datasets: [{ name: "hotpotqa", sample: 2 }],
    });
    const planned = cells(config);
    expect(planned.map((c) => [c.method, c.large, c.effort])).toEqual([
      ["standard", `${base}@low`, "low"],
      ["lm-guided", `${base}@low`, "low"],
      ["standard", `${base}@high`, "high"],
      ["lm-guided", `${base}@high`, "high"],
    ]);
    expect(new Set(planned.map((c) => c.id)).size).toBe(4);

    // The dry run's estimate lists the four cells, priced by the model id without the suffix.
    const asked: string[] = [];
    const estimates = await estimateBench(config, (id) => {
      asked.push(id);
      return priceOf(id);
    });
    expect(estimates.map((e) => e.cell.id)).toEqual(planned.map((c) => c.id));
    expect(new Set(asked)).toEqual(new Set([base]));

    const result = await runBench(config);
    expect(result.cells.map((c) => c.progress.done)).toEqual([2, 2, 2, 2]);
    const efforts = server.seen.map((s) => s.body.reasoning_effort);
    expect(efforts.filter((e) => e === "low")).toHaveLength(4);
    expect(efforts.filter((e) => e === "high")).toHaveLength(4);
    expect(server.seen.every((s) => String(s.body.model) === "deepseek-reasoner")).toBe(true);
    const rs = records(out);
    expect(new Set(rs.map((r) => r.key)).size).toBe(8);
    expect(rs.filter((r) => r.cell.effort === "high")).toHaveLength(4);

    const { data, files } = await buildReport(out);
    expect(data.cells.map((c) => c.cell.large)).toEqual(planned.map((c) => c.large));
    const md = readFileSync(files[1]!, "utf8");
    expect(md).toContain(`| standard | hotpotqa | ${base}@low |`);
    expect(md).toContain(`| standard | hotpotqa | ${base}@high |`);
    // Comparisons stay within one effort.
    expect(new Set(data.comparisons.map((c) => c.large))).toEqual(new Set([`${base}@low`, `${base}@high`]));

    // Re-running resumes both cells: nothing is asked again.
    const before = server.seen.length;
    await runBench(config);
    expect(server.seen.length).toBe(before);
  });

  it("reads an effort suffix only as low / medium / high, and refuses a misspelt one", () => {
    expect(parseLarge("openai:o4-mini@high")).toEqual({ id: "openai:o4-mini", effort: "high" });
    expect(parseLarge("openai:o4-mini")).toEqual({ id: "openai:o4-mini" });
    expect(parseLarge("vertex-anthropic:claude-3-5-sonnet-v2@20241022")).toEqual({
      id: "vertex-anthropic:claude-3-5-sonnet-v2@20241022",
    });
    expect(() => parseConfig({ large: ["openai:o4-mini@hgh"] }, "bench.yaml")).toThrow(
      /^bench\.yaml: large\[0\] .*unknown reasoning effort "@hgh" \(low, medium or high\); did you mean high\?/,
    );
    expect(() => parseConfig({ large: ["openai:o4-mini@hihg"] })).toThrow(/did you mean high\?/);
    expect(() => parseConfig({ large: ["openai:o4-mini@HIGH"] })).toThrow(/did you mean high\?/);
    expect(parseConfig({ large: ["vertex:text-bison@latest"] }).large).toEqual(["vertex:text-bison@latest"]);
  });
});
