import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Example } from "@lmcot/core";
import { samplePath } from "@lmcot/datasets";
import { describe, expect, it } from "vitest";
import { exampleCursor, openExamples } from "../src/data";
import { loadExamples, parseConfig, runBench } from "../src/index";
import { offlineConfig, tempDir } from "./helpers";

const entry = (d: Record<string, unknown>) => parseConfig({ datasets: [d] }).datasets[0]!;

async function all(source: AsyncIterable<Example>): Promise<Example[]> {
  const out: Example[] = [];
  for await (const e of source) out.push(e);
  return out;
}

/** The bundled HotpotQA sample as a file of its own, to change under a run. */
function sampleCopy(): string {
  const file = join(tempDir("lmcot-bench-stream-"), "dev.jsonl");
  writeFileSync(file, readFileSync(samplePath("hotpotqa")));
  return file;
}

describe("openExamples", () => {
  it("takes the same questions as loadExamples (sample, seed, train / eval split), in the file's order", async () => {
    for (const d of [
      { name: "hotpotqa" },
      { name: "hotpotqa", sample: 12, sampleSeed: 3 },
      { name: "hotpotqa", split: "eval", evalSize: 10, sample: 4 },
      { name: "hotpotqa", split: "train", evalSize: 10 },
    ]) {
      const loaded = await loadExamples(entry(d));
      const source = await openExamples(entry(d));
      const streamed = await all(source.read());
      expect(new Set(source.ids)).toEqual(new Set(loaded.map((e) => e.id)));
      expect(streamed.map((e) => e.id)).toEqual(source.ids);
      const file = (await loadExamples(entry({ name: "hotpotqa" }))).map((e) => e.id);
      expect(source.ids).toEqual(file.filter((id) => source.ids.includes(id)));
    }
  });

  it("names the file when it changes between the run's reads", async () => {
    const file = sampleCopy();
    const source = await openExamples(entry({ name: "hotpotqa", file }));
    const lines = readFileSync(file, "utf8").trim().split("\n");
    writeFileSync(file, `${[lines[1], lines[0], ...lines.slice(2)].join("\n")}\n`);
    await expect(all(source.read())).rejects.toThrow(/dev\.jsonl.*changed while the run was reading it/);
  });
});

describe("exampleCursor", () => {
  it("hands out examples asked for in the file's order, passing over those not asked for", async () => {
    const source = await openExamples(entry({ name: "hotpotqa", sample: 10 }));
    const cursor = exampleCursor(source);
    const wanted = source.ids.filter((_, i) => i % 3 !== 1);
    const got = await Promise.all(wanted.map((id) => cursor.take(id)));
    expect(got.map((e) => e.id)).toEqual(wanted);
    await expect(cursor.take(source.ids[1]!)).rejects.toThrow(/asked for after the file was read past it/);
    await cursor.close();
  });
});

describe("contexts.jsonl", () => {
  it("a torn last line left by a kill is cut off before the next run appends", async () => {
    const out = tempDir("lmcot-bench-contexts-");
    const config = offlineConfig(out, { datasets: [{ name: "hotpotqa", sample: 3 }], methods: ["standard"] });
    await runBench(config);
    appendFileSync(join(out, "contexts.jsonl"), '{"dataset":"hotpotqa","exampleId":"x","te');
    await runBench(parseConfig({ ...config, datasets: [{ name: "hotpotqa", sample: 4 }] }));
    const lines = readFileSync(join(out, "contexts.jsonl"), "utf8").trim().split("\n");
    expect(lines.map((l) => JSON.parse(l).exampleId)).toHaveLength(4);
  });
});
