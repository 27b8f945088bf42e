import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkBench, estimateBench, loadExamples, parseConfig, totalEstimate } from "../src/index";
import { tempDir } from "./helpers";

describe("checkBench", () => {
  it("finds every problem at once without calling a model", async () => {
    const dir = tempDir("lmcot-check-");
    mkdirSync(join(dir, "not-a-model"));
    const config = parseConfig({
      large: ["opneai:gpt-4o", "openai:gpt-4o-mini", "extractive:reader"],
      small: [
        { label: "gone", id: `transformers:${join(dir, "gone")}` },
        { label: "bare", id: `transformers:${join(dir, "not-a-model")}` },
        { label: "typo", id: "extractiv:selector" },
      ],
      datasets: [
        { name: "hotpotqa", sample: 100 },
        { name: "2wikimultihopqa", file: join(dir, "none.json") },
      ],
    });
    const { errors } = await checkBench(config, { env: {} });
    expect(errors).toHaveLength(7);
    expect(errors[0]).toMatch(/^large opneai:gpt-4o: unknown provider opneai.*did you mean openai\?/);
    expect(errors[1]).toMatch(/^large openai:gpt-4o-mini: .*OPENAI_API_KEY/);
    expect(errors[2]).toMatch(/^small gone: no such folder/);
    expect(errors[3]).toMatch(/^small bare: .* is not a model folder \(no config\.json\)/);
    expect(errors[4]).toMatch(/^small typo: unknown backend extractiv .*did you mean extractive\?/);
    expect(errors[5]).toMatch(/^datasets: hotpotqa:100 asks for 100 examples, but the bundled sample has 57/);
    expect(errors[6]).toMatch(/^datasets: .*none\.json/);
  });

  it("passes a model folder and a hosted model whose key is set", async () => {
    const dir = tempDir("lmcot-check-ok-");
    writeFileSync(join(dir, "config.json"), "{}");
    const config = parseConfig({
      large: ["openai:gpt-4o-mini"],
      small: [{ label: "kd", id: `transformers:${dir}` }],
      datasets: [{ name: "hotpotqa", sample: 5 }],
    });
    const check = await checkBench(config, { env: { OPENAI_API_KEY: "sk-test" } });
    expect(check.errors).toEqual([]);
    expect(check.examples.get("hotpotqa")).toHaveLength(5);
  });
});

describe("sample sizes", () => {
  it("asking for more examples than there are fails, or warns with allowSmaller", async () => {
    const entry = parseConfig({ datasets: [{ name: "2wikimultihopqa", sample: 50 }] }).datasets[0]!;
    await expect(loadExamples(entry)).rejects.toThrow(/2wikimultihopqa:50 asks for 50 examples.*has 2/);
    const warnings: string[] = [];
    const all = await loadExamples(entry, { allowSmaller: true, onWarning: (w) => warnings.push(w) });
    expect(all).toHaveLength(2);
    expect(warnings[0]).toMatch(/running on all 2/);
  });
});

describe("totalEstimate", () => {
  it("adds up the cells, counting those with no price", async () => {
    const config = parseConfig({ large: ["extractive:reader", "unpriced:model"], methods: ["standard"] });
    const estimates = await estimateBench(config, () => undefined);
    const total = totalEstimate(estimates);
    expect(total.calls).toBe(estimates.reduce((a, e) => a + e.calls, 0));
    expect(total.unpriced).toBe(2);
    expect(total.costUsd).toBe(0);
  });
});
