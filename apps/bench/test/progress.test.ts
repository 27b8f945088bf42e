import type { RunProgress } from "@lmcot/core";
import { describe, expect, it } from "vitest";
import type { Cell } from "../src/grid";
import { ProgressDisplay } from "../src/progress";

const cell: Cell = {
  id: "cot/hotpotqa/extractive:reader/s0",
  method: "cot",
  dataset: "hotpotqa",
  large: "extractive:reader",
  seed: 0,
};
const at = (done: number, total = 100): RunProgress => ({
  total,
  done,
  skipped: 0,
  failed: 0,
  costUsd: 0,
  cacheHits: 0,
  elapsedMs: 0,
  ratePerSecond: 0,
  etaMs: undefined,
});

/** A display on a pipe (not a TTY) with a clock the test moves. */
function offTerminal() {
  const lines: string[] = [];
  const clock = { ms: 0 };
  const out = { isTTY: false, write: (s: string) => lines.push(s) } as unknown as NodeJS.WriteStream;
  return { display: new ProgressDisplay(out, () => clock.ms), lines, clock };
}

describe("ProgressDisplay off a terminal", () => {
  it("prints a fast cell's start and end only", () => {
    const { display, lines } = offTerminal();
    for (let done = 0; done <= 100; done++) display.update(cell, at(done));
    display.update(cell, at(100));
    expect(lines.map((l) => l.split(" ")[1])).toEqual(["0/100", "100/100"]);
  });

  it("prints a slow cell's progress at most every 10 s and 10 %", () => {
    const { display, lines, clock } = offTerminal();
    for (let done = 0; done <= 100; done++) {
      display.update(cell, at(done));
      clock.ms += 2_000; // 200 s in all
    }
    const shown = lines.map((l) => Number(l.split(" ")[1]!.split("/")[0]));
    expect(shown[0]).toBe(0);
    expect(shown.at(-1)).toBe(100);
    expect(shown.length).toBeLessThanOrEqual(12);
    for (let i = 1; i < shown.length - 1; i++) expect(shown[i]! - shown[i - 1]!).toBeGreaterThanOrEqual(10);
  });

  it("finish() prints the newest line held back when a run stops before its cells end", () => {
    const { display, lines } = offTerminal();
    display.update(cell, at(0));
    display.update(cell, at(3));
    display.finish();
    expect(lines.map((l) => l.split(" ")[1])).toEqual(["0/100", "3/100"]);
  });
});
