import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { lmcot } from "./run-cli";

describe("lmcot distill", () => {
  it("distils the bundled sample with the offline teacher into the three exports, resumably", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "lmcot-distill-cli-")), "d");
    const first = await lmcot("distill", "--teacher", "extractive:reader", "--out", out);
    expect(first.stdout).toMatch(/^extractive:reader: kept \d+ of 37 rationales/);
    const stats = JSON.parse(readFileSync(join(out, "stats.json"), "utf8"));
    expect(stats.calls).toBe(37);
    for (const f of [
      "kept.jsonl",
      "dropped.jsonl",
      "sft-trl.jsonl",
      "finetune-openai.jsonl",
      "seq2seq.jsonl",
    ]) {
      expect(readFileSync(join(out, f), "utf8").length).toBeGreaterThan(0);
    }
    const kept = readFileSync(join(out, "kept.jsonl"), "utf8").trim().split("\n");
    expect(readFileSync(join(out, "sft-trl.jsonl"), "utf8").trim().split("\n")).toHaveLength(kept.length);
    const teacherLines = readFileSync(join(out, "teacher.jsonl"), "utf8");
    await lmcot("distill", "--teacher", "extractive:reader", "--out", out);
    expect(readFileSync(join(out, "teacher.jsonl"), "utf8")).toBe(teacherLines);
  });
});
