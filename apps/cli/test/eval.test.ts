import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { samplePath } from "@lmcot/datasets";
import { describe, expect, it } from "vitest";
import { lmcot } from "./run-cli";

const dir = mkdtempSync(join(tmpdir(), "lmcot-eval-"));
const records = readFileSync(samplePath("hotpotqa"), "utf8")
  .trim()
  .split("\n")
  .slice(0, 4)
  .map((l) => JSON.parse(l));
const gold = join(dir, "gold.json");
writeFileSync(gold, JSON.stringify(records, null, 1));

describe("lmcot eval", () => {
  it("scores the official prediction format like the script, as JSON", async () => {
    const pred = join(dir, "pred.json");
    writeFileSync(
      pred,
      JSON.stringify({
        answer: {
          [records[0]._id]: "Yes",
          [records[1]._id]: "chief of protocol.",
          [records[2]._id]: "Animorphs books",
        },
        sp: { [records[0]._id]: records[0].supporting_facts, [records[1]._id]: [] },
      }),
    );
    const r = await lmcot("eval", "--dataset", "hotpotqa", "--gold", gold, "--pred", pred, "--json");
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ dataset: "hotpotqa", n: 4, missing: 1 });
    expect(report.metrics.em).toBeCloseTo(0.5);
    expect(report.metrics.f1).toBeCloseTo((1 + 1 + 2 / 3) / 4);
    expect(report.metrics.sp_em).toBeCloseTo(0.25);
    expect(report.ci95.em[0]).toBeLessThanOrEqual(0.5);
  });

  it("reads an lmcot run JSONL, ignoring a torn last line", async () => {
    const run = join(dir, "run.jsonl");
    writeFileSync(
      run,
      `${JSON.stringify({ key: "k0", exampleId: records[0]._id, answer: "yes" })}\n${JSON.stringify({ key: "k1", exampleId: records[1]._id, answer: "x" })}\n{"key":"k2","exam`,
    );
    const r = await lmcot("eval", "--dataset", "hotpotqa", "--gold", gold, "--pred", run);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("4 gold records, 2 without a predicted answer");
    expect(r.stdout).toMatch(/^em\s+0\.2500/m);
  });

  it("names the bad line of a prediction file", async () => {
    const run = join(dir, "bad.jsonl");
    writeFileSync(run, `${JSON.stringify({ exampleId: "a", answer: 3 })}\n`);
    const r = await lmcot("eval", "--dataset", "hotpotqa", "--gold", gold, "--pred", run);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe("lmcot: bad.jsonl: line 1: answer must be a string");
  });

  it("names the bad record of a gold file", async () => {
    const bad = join(dir, "bad-gold.json");
    const broken = records.map((r, i) => (i === 2 ? { ...r, supporting_facts: [["Title", "zero"]] } : r));
    writeFileSync(bad, JSON.stringify(broken, null, 1));
    const pred = join(dir, "empty-pred.json");
    writeFileSync(pred, JSON.stringify({ answer: {} }));
    const r = await lmcot("eval", "--dataset", "hotpotqa", "--gold", bad, "--pred", pred);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad-gold\.json: line \d+: record 2: supporting_facts\[0\]\[1\]/);
  });

  it("exits 2 on a missing file or an unknown dataset", async () => {
    expect(
      (await lmcot("eval", "--dataset", "hotpotqa", "--gold", join(dir, "nope.json"), "--pred", gold)).code,
    ).toBe(2);
    expect((await lmcot("eval", "--dataset", "squad", "--gold", gold, "--pred", gold)).code).toBe(2);
  });
});
