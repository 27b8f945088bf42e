import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CONTEXT_MARK, readContexts } from "../src/contexts";
import { runBench } from "../src/index";
import { readRecords } from "../src/report/data";
import { readRunInfo } from "../src/run-info";
import { offlineConfig, tempDir } from "./helpers";

describe("complete run records", () => {
  it("keeps prompts, raw replies and tokens per call; contexts once per example; versions", async () => {
    const out = tempDir("lmcot-bench-records-");
    await runBench(offlineConfig(out, { datasets: [{ name: "hotpotqa", sample: 3 }] }));
    const records = await readRecords(out);
    expect(records).toHaveLength(9);
    const guided = records.find((r) => r.cell.method === "lm-guided")!;
    expect(guided.prompts?.map((p) => p.step)).toEqual(["rationale", "answer"]);
    expect(guided.prompts?.[1]?.prompt).toContain(CONTEXT_MARK);
    expect(guided.prompts?.[1]?.output.length).toBeGreaterThan(0);
    expect(guided.prompts?.[1]?.usage?.inputTokens).toBeGreaterThan(0);
    expect(guided.usage.smallOutputTokens).toBeGreaterThan(0);
    const contexts = readContexts(out);
    expect(contexts.size).toBe(3);
    const lines = readFileSync(join(out, "contexts.jsonl"), "utf8").trim().split("\n");
    expect(lines).toHaveLength(3);
    for (const r of records) expect(JSON.stringify(r)).not.toContain(contexts.values().next().value!.text);
    await runBench(offlineConfig(out, { datasets: [{ name: "hotpotqa", sample: 3 }] }));
    expect(readFileSync(join(out, "contexts.jsonl"), "utf8").trim().split("\n")).toHaveLength(3);
    const info = readRunInfo(out)!;
    expect(info.versions["@lmcot/core"]).toMatch(/^\d+\.\d+\.\d+/);
    expect(info.versions["@lmcot/bench"]).toMatch(/^\d+\.\d+\.\d+/);
    expect(Object.keys(info.promptVersions)).toEqual(["standard", "cot", "lm-guided"]);
    expect(info.temperature).toBe(0);
  });
});
