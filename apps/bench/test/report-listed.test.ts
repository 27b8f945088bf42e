import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildReport, EXAMPLES_IN_REPORT } from "../src/index";
import { tempDir } from "./helpers";
import { writeGeneratedRun } from "./view-fixture";

describe("the predictions a report lists", () => {
  it("past EXAMPLES_IN_REPORT, the first of each cell, saying how many there are; the numbers count all", async () => {
    const dir = tempDir("lmcot-report-listed-");
    writeGeneratedRun(dir, 400);
    const { data } = await buildReport(dir);
    const perCell = Math.floor(EXAMPLES_IN_REPORT / 6);
    expect(data.predictions).toBe(2400);
    expect(data.examples).toHaveLength(6 * perCell);
    for (const c of data.cells) {
      expect(c.n).toBe(400);
      const listed = data.examples.filter((e) => e.cell.id === c.cell.id);
      expect(listed.map((e) => e.exampleId)).toEqual(Array.from({ length: perCell }, (_, i) => `gen-${i}`));
    }
    expect(data.examples.every((e) => !("prompts" in e))).toBe(true);
    const note = `2400 predictions; report.html lists ${6 * perCell} of them (the first of each cell)`;
    expect(readFileSync(join(dir, "report.md"), "utf8")).toContain(note);
    expect(readFileSync(join(dir, "report.html"), "utf8")).toContain(`<p id="listed">${note}`);
    expect(JSON.parse(readFileSync(join(dir, "report.json"), "utf8")).predictions).toBe(2400);
  });
});
