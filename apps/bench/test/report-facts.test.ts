import { describe, expect, it } from "vitest";
import { buildReport, runBench } from "../src/index";
import { type Comparison, judgeClaims } from "../src/report/data";
import { pairedBootstrap } from "../src/report/paired";
import { offlineConfig, tempDir } from "./helpers";

const same = (n: number): Comparison => {
  const test = {
    meanDiff: 0,
    ci: { mean: 0, low: 0, high: 0, level: 0.95 },
    pValue: 1,
    method: "paired-bootstrap" as const,
    n,
  };
  return {
    dataset: "hotpotqa",
    large: "x",
    seed: 0,
    guided: "lm-guided (kd)",
    baseline: "standard",
    metric: "f1",
    n,
    test,
    longContext: { ...test, n: n / 2 },
  };
};

describe("reports hide nothing and do not contradict themselves", () => {
  it("shows tokens per cell (small and large), the run configuration and how CI and p were computed", async () => {
    const out = tempDir("lmcot-bench-facts-");
    await runBench(offlineConfig(out, { datasets: [{ name: "hotpotqa", sample: 4 }] }));
    const { data } = await buildReport(out);
    const guided = data.cells.find((c) => c.cell.method === "lm-guided")!;
    expect(guided.tokens.largeIn).toBeGreaterThan(0);
    expect(guided.tokens.smallOut).toBeGreaterThan(0);
    expect(data.cells.find((c) => c.cell.method === "standard")!.tokens.smallOut).toBe(0);
    expect(data.runInfo?.versions["@lmcot/bench"]).toBeDefined();
    expect(data.examples.every((e) => !("prompts" in e))).toBe(true);
    const { renderMarkdown } = await import("../src/index");
    const md = renderMarkdown(data);
    for (const text of [
      "## Tokens per cell",
      "## Run configuration",
      "@lmcot/core",
      "prompt versions",
      "paired bootstrap",
    ])
      expect(md).toContain(text);
    expect(data.comparisons.every((c) => c.test.method === "paired-bootstrap")).toBe(true);
  }, 60_000);

  it("the CI excludes 0 exactly when p < 0.05 on a borderline comparison (one resampling scheme)", () => {
    // 30 questions, the guided method right on 6 more: the old CI-by-bootstrap / p-by-randomisation split disagreed here.
    for (let extra = 1; extra <= 12; extra++) {
      const a = Array.from({ length: 30 }, (_, i) => (i < 10 + extra ? 1 : 0));
      const b = Array.from({ length: 30 }, (_, i) => (i < 10 ? 1 : 0));
      const t = pairedBootstrap(a, b, extra);
      expect(t.ci.low > 0, `extra ${extra}: CI [${t.ci.low}, ${t.ci.high}], p ${t.pValue}`).toBe(
        t.pValue < 0.05,
      );
    }
  });

  it("identical numbers (ΔF1 0, p = 1) get the same verdict for every claim", () => {
    const claims = judgeClaims([same(200), { ...same(200), baseline: "cot" }], 100);
    const judged = claims.filter((c) => c.verdict !== "not tested in this run").map((c) => c.verdict);
    expect(judged.length).toBeGreaterThan(1);
    expect(new Set(judged)).toEqual(new Set(["inconclusive"]));
  });
});
