import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildViewData, FLAGS } from "../src/index";
import { tempDir } from "./helpers";
import { writeGeneratedRun } from "./view-fixture";

describe("buildViewData", () => {
  it("flags where LM-guided CoT fixed or broke each baseline, per item", async () => {
    const dir = tempDir("lmcot-view-data-");
    writeGeneratedRun(dir, 5);
    const { data, detail } = await buildViewData([dir]);
    expect(data.columns.map((c) => c.label)).toEqual([
      "standard",
      "cot",
      "lm-guided · kd",
      "lm-guided · kd+rl",
      "lm-guided · kd-2",
      "lm-guided · kd+rl-2",
    ]);
    // Item 0: standard right, CoT wrong, the guided cells right, wrong, wrong, right.
    const item = data.items[0]!;
    expect(item.em).toEqual([1, 0, 1, 0, 0, 1]);
    expect(item.flags).toBe(FLAGS.brokeStandard | FLAGS.fixedCot);
    expect(detail(0).context?.supportingFacts).toEqual([{ title: "Entity 0", sentence: 0 }]);
  });

  it("reads runs older than contexts.jsonl, run-info.json and prompts", async () => {
    const dir = tempDir("lmcot-view-old-");
    writeGeneratedRun(dir, 3);
    const lines = readFileSync(join(dir, "run.jsonl"), "utf8").trim().split("\n");
    const old = lines.map((l) => {
      const { prompts: _, ...r } = JSON.parse(l);
      return JSON.stringify(r);
    });
    writeFileSync(join(dir, "run.jsonl"), `${old.join("\n")}\n`);
    writeFileSync(join(dir, "contexts.jsonl"), "");
    const { data, detail } = await buildViewData([dir]);
    expect(data.items).toHaveLength(3);
    expect(data.runs[0]!.info).toBeUndefined();
    expect(detail(0).context).toBeUndefined();
    expect(detail(0).cells[0]!.prompts).toBeUndefined();
  });
});
