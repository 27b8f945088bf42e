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
    const r = await lmcot(
      "eval",
      "--dataset",
      "hotpotqa",
      "--gold",
      gold,
      "--pred",
      pred,
      "--json",
      "--allow-missing",
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      "lmcot: warning: pred.json: no prediction for 1 of the 4 gold questions; scored 0, as the official script does\n",
    );
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
    const r = await lmcot("eval", "--dataset", "hotpotqa", "--gold", gold, "--pred", run, "--allow-missing");
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      "run.jsonl: line 3: a torn last line was left out (the run may still be going)",
    );
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

const ids = records.map((r) => r._id as string);
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const evalArgs = (pred: string, ...more: string[]) =>
  lmcot("eval", "--dataset", "hotpotqa", "--gold", gold, "--pred", pred, ...more);
const allAnswers = Object.fromEntries(records.map((r) => [r._id, r.answer]));

describe("lmcot eval refuses what it cannot score", () => {
  it("fails on a truncated or empty prediction file, naming it", async () => {
    const whole = JSON.stringify({ answer: allAnswers, sp: {} });
    let r = await evalArgs(file("cut.json", whole.slice(0, -20)));
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      "lmcot: cut.json: line 1 ends before its JSON is complete (the file is truncated)",
    );
    const pretty = JSON.stringify({ answer: allAnswers, sp: {} }, null, 2);
    const cut = pretty.slice(0, pretty.lastIndexOf('"'));
    r = await evalArgs(file("cut-pretty.json", cut));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `cut-pretty.json: line ${cut.split("\n").length} ends before its JSON is complete (the file is truncated)`,
    );
    for (const text of ["", "\n \n"]) {
      r = await evalArgs(file("empty.json", text));
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toBe("lmcot: empty.json is empty: it holds no predictions");
    }
    r = await evalArgs(file("torn-only.jsonl", '{"key":"k0","exampleId":"5a8b'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/torn-only\.jsonl: line 1 ends before its JSON is complete/);
  });

  it("fails on gold questions without a prediction unless --allow-missing", async () => {
    const pred = file(
      "two.json",
      JSON.stringify({ answer: { [ids[0]!]: "yes", [ids[1]!]: "x", stray: "y" } }),
    );
    let r = await evalArgs(pred);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      `lmcot: two.json has no prediction for 2 of the 4 gold questions (${ids[2]}, ${ids[3]}), and 1 prediction(s) for ids not in gold.json; pass --allow-missing to score them 0 as the official script does`,
    );
    r = await evalArgs(pred, "--allow-missing", "--json");
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("no prediction for 2 of the 4 gold questions; scored 0");
    expect(JSON.parse(r.stdout)).toMatchObject({ n: 4, missing: 2, metrics: { em: 0.25 } });
  });

  it("scores each cell of a multi-method run file apart, or the one --cell names", async () => {
    const cell = (method: string, dataset = "hotpotqa") => ({
      id: `${method} · ${dataset} · extractive:reader · seed0`,
      method,
      dataset,
      large: "extractive:reader",
      seed: 0,
    });
    const lines = [
      ...ids.map((id, i) => ({
        key: `s${i}`,
        cell: cell("standard"),
        exampleId: id,
        answer: allAnswers[id],
      })),
      ...ids.map((id, i) => ({
        key: `c${i}`,
        cell: cell("cot"),
        exampleId: id,
        answer: i ? "wrong" : allAnswers[id],
      })),
      { key: "w0", cell: cell("cot", "2wikimultihopqa"), exampleId: "w0", answer: "x" },
    ];
    const run = file("cells.jsonl", `${lines.map((l) => JSON.stringify(l)).join("\n")}\n`);
    let r = await evalArgs(run);
    expect(r.code).toBe(0);
    expect(r.stdout.match(/^cell: .*$/gm)).toEqual([
      "cell: standard · hotpotqa · extractive:reader · seed0",
      "cell: cot · hotpotqa · extractive:reader · seed0",
    ]);
    expect(r.stdout.match(/^em\s+\S+/gm)).toEqual(["em            1.0000", "em            0.2500"]);
    expect(r.stderr).toContain('1 cell(s) on other datasets left out: "cot · 2wikimultihopqa');

    r = await evalArgs(run, "--json");
    const reports = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(reports.map((x) => [x.cell, x.metrics.em])).toEqual([
      ["standard · hotpotqa · extractive:reader · seed0", 1],
      ["cot · hotpotqa · extractive:reader · seed0", 0.25],
    ]);

    r = await evalArgs(run, "--cell", "cot · hotpotqa", "--json");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ cell: "cot · hotpotqa · extractive:reader · seed0" });
    r = await evalArgs(run, "--cell", "cot");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--cell "cot" matches 2 cells of cells\.jsonl; its cells: "standard/);
    r = await evalArgs(run, "--cell", "cot · 2wiki");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /cell "cot · 2wikimultihopqa · extractive:reader · seed0" is on 2wikimultihopqa/,
    );
  });

  it("groups core Prediction records by method, models and seed, and refuses an example twice in a cell", async () => {
    const prediction = (method: string, exampleId: string, answer: string) => ({
      method,
      exampleId,
      dataset: "hotpotqa",
      answer,
      models: {
        large: "extractive:reader",
        ...(method === "lm-guided" ? { small: "extractive:selector" } : {}),
      },
      seed: 1,
    });
    const lines = ids.flatMap((id) => [
      prediction("lm-guided", id, allAnswers[id]),
      prediction("cot", id, "no"),
    ]);
    const run = file("predictions.jsonl", lines.map((l) => JSON.stringify(l)).join("\n"));
    let r = await evalArgs(run, "--json");
    expect(r.code).toBe(0);
    expect(
      r.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).cell),
    ).toEqual([
      "lm-guided · extractive:selector · hotpotqa · extractive:reader · seed1",
      "cot · hotpotqa · extractive:reader · seed1",
    ]);
    const twice = file("twice.jsonl", [...lines, lines[0]].map((l) => JSON.stringify(l)).join("\n"));
    r = await evalArgs(twice);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`twice.jsonl: line 9 predicts example ${ids[0]} again in cell "lm-guided`);
  });

  it("fails when --dataset does not match the gold records", async () => {
    const pred = file("all.json", JSON.stringify({ answer: allAnswers }));
    const r = await lmcot("eval", "--dataset", "2wikimultihopqa", "--gold", gold, "--pred", pred);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(
      /^lmcot: gold\.json: line 2: record 0 is a HotpotQA record \(it has level\), but --dataset is 2wikimultihopqa$/,
    );
  });
});
