import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { BenchRecord } from "../src/grid";
import { buildReport, buildViewData, FLAGS, viewFiles } from "../src/index";
import { pearson } from "../src/report/correlation";
import { writeGeneratedRun } from "./view-fixture";

const ASPECTS = ["factuality", "relevance", "fluency"];

/** A generated run with rewards for its LM-guided items: KD+RL's rationales score `lift` higher than KD's. */
function runWithRewards(n: number, lift: number, fromEm = true): { dir: string; records: BenchRecord[] } {
  const dir = mkdtempSync(join(tmpdir(), "lmcot-rq-"));
  writeGeneratedRun(dir, n);
  const records = readFileSync(join(dir, "run.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as BenchRecord);
  const rows = records
    .filter((r) => r.cell.method === "lm-guided")
    .map((r, i) => {
      const base = 0.3 + (fromEm ? 0.4 * r.em : 0) + 0.1 * ((i * 13) % 3);
      const score = Math.min(1, base + (r.cell.small!.label.includes("rl") ? lift : 0));
      const aspects = Object.fromEntries(ASPECTS.map((a) => [a, score]));
      return JSON.stringify({ key: r.key, reward: 3 * score, aspectReward: 3 * score, aspects });
    });
  writeFileSync(join(dir, "rewards.jsonl"), `${rows.join("\n")}\n`);
  return { dir, records };
}

describe("the report's rationale-quality section", () => {
  it("has per-cell aspect means, KD vs KD+RL paired per aspect, correlations, a claim and examples", async () => {
    const { dir } = runWithRewards(150, 0.2);
    const { data } = await buildReport(dir, { minClaimN: 100 });
    const q = data.rationaleQuality!;
    expect(q.aspects).toEqual(ASPECTS);
    expect(q.cells.map((c) => c.small).sort()).toEqual(["kd", "kd+rl", "kd+rl-2", "kd-2"]);
    const kd = q.cells.find((c) => c.small === "kd")!;
    expect(kd.scored).toBe(150);
    expect(kd.aspects.factuality!.low).toBeLessThan(kd.aspects.factuality!.mean);
    const pair = q.pairs.find((p) => p.kd === "kd" && p.rl === "kd+rl")!;
    expect(pair.n).toBe(150);
    expect(pair.aspects.factuality!.meanDiff).toBeGreaterThan(0);
    expect(pair.rAspect!.pValue).toBeLessThan(0.05);
    // The scores were made from EM: every aspect correlates with it.
    expect(q.correlations.find((c) => c.aspect === "factuality")!.em!.r).toBeGreaterThan(0.5);
    expect(q.claim.verdict).toBe("supported");
    expect(q.examples.some((e) => e.change === "wrong → right")).toBe(true);
    expect(q.examples.some((e) => e.change === "right → wrong")).toBe(true);
    const md = readFileSync(join(dir, "report.md"), "utf8");
    expect(md).toContain("## Rationale quality");
    expect(md).toContain("RL yields higher-quality rationales");
    const html = readFileSync(join(dir, "report.html"), "utf8");
    expect(html).toContain('id="rq-pairs"');
    expect(JSON.parse(readFileSync(join(dir, "report.json"), "utf8")).rationaleQuality.pairs.length).toBe(
      q.pairs.length,
    );
  });

  it("says too few questions below --min-claim-n, and escapes what it renders", async () => {
    const { dir, records } = runWithRewards(12, 0.2);
    const lines = records.map((r) =>
      JSON.stringify(r.cell.method === "lm-guided" ? { ...r, rationale: "<script>alert(1)</script>" } : r),
    );
    writeFileSync(join(dir, "run.jsonl"), `${lines.join("\n")}\n`);
    const { data } = await buildReport(dir, { minClaimN: 100 });
    expect(data.rationaleQuality!.claim.verdict).toBe("too few questions (n = 12)");
    const html = readFileSync(join(dir, "report.html"), "utf8");
    expect(html).not.toContain("<script>alert(1)</script>");
    expect(html).toContain("&#60;script&#62;alert(1)");
  });

  it("is absent without rewards beside the run", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lmcot-rq-none-"));
    writeGeneratedRun(dir, 5);
    const { data } = await buildReport(dir);
    expect(data.rationaleQuality).toBeUndefined();
    expect(readFileSync(join(dir, "report.md"), "utf8")).not.toContain("Rationale quality");
  });

  it("lmcot view flags the items where RL's rationale is rated higher but its answer got worse", async () => {
    const { dir, records } = runWithRewards(30, 0.2, false);
    const rewards = new Map(
      readFileSync(join(dir, "rewards.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { key: string; aspectReward: number })
        .map((r) => [r.key, r.aspectReward]),
    );
    const { data } = await buildViewData([dir]);
    const of = (id: string, label: string) => {
      const r = records.find((x) => x.exampleId === id && x.cell.small?.label === label)!;
      return { f1: r.f1, aspect: rewards.get(r.key)! };
    };
    let flagged = 0;
    for (const item of data.items) {
      const expected = ["kd+rl", "kd+rl-2"].some((rl) =>
        ["kd", "kd-2"].some((kd) => {
          const [a, b] = [of(item.id, rl), of(item.id, kd)];
          return a.aspect > b.aspect && a.f1 < b.f1;
        }),
      );
      expect(Boolean(item.flags & FLAGS.rlRatedHigherWorse)).toBe(expected);
      if (expected) flagged++;
    }
    expect(flagged).toBeGreaterThan(0);
    const files = viewFiles(await buildViewData([dir]));
    expect(files.fixed.get("index.html")).toContain(
      '<option value="rlRatedHigherWorse">RL rationale rated higher but the answer got worse</option>',
    );
    expect(files.fixed.get("data.js")).toContain('rlRatedHigherWorse\\":128');
  });
});

describe("pearson", () => {
  it("is 1 on a line, undefined on a constant column, and its CI holds r", () => {
    expect(pearson([1, 2, 3, 4, 5], [2, 4, 6, 8, 10])!.r).toBeCloseTo(1);
    expect(pearson([1, 1, 1, 1], [1, 2, 3, 4])).toBeUndefined();
    const c = pearson([1, 2, 3, 4, 5, 6, 7, 8], [2, 1, 4, 3, 6, 5, 8, 9])!;
    expect(c.low).toBeLessThan(c.r);
    expect(c.high).toBeGreaterThan(c.r);
    expect(c.p).toBeLessThan(0.05);
  });
});
