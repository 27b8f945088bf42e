import { describe, expect, it } from "vitest";
import {
  aggregate,
  bootstrapCI,
  bootstrapCIs,
  exactMatch,
  f1Score,
  normalizeAnswer,
  pairedTest,
  scoreAnswer,
  seededRandom,
} from "../src/index";
import { resampleKernel } from "../src/resample-kernel";

describe("our own edge cases", () => {
  it.each([
    ["", ""],
    ["   ", ""],
    ["?!.,", ""],
    ["The The", ""],
    ["théâtre the", "théâtre"],
    ["the\u00a0answer", "answer"],
    ["ΟΔΟΣ", "οδος"],
    ["1,234.5", "12345"],
    ["2001–2002", "2001–2002"],
    ["«Ça»", "«ça»"],
    ["A-ha", "aha"],
    ["an\u2003the\u3000a", ""],
    ["emoji 🎉 the", "emoji 🎉"],
    ["X\ufeffY", "x\ufeffy"],
  ])("normalises %j to %j", (input, expected) => {
    expect(normalizeAnswer(input)).toBe(expected);
  });

  it("scores empty and punctuation-only answers as the script does", () => {
    expect(scoreAnswer("", "")).toEqual({ em: 1, f1: 0, precision: 0, recall: 0 });
    expect(scoreAnswer("...", "!!")).toEqual({ em: 1, f1: 0, precision: 0, recall: 0 });
    expect(scoreAnswer("", "Paris").em).toBe(0);
  });

  it("numbers lose their separators", () => {
    expect(exactMatch("1,000", "1000")).toBe(1);
    expect(exactMatch("3.5", "35")).toBe(1);
    expect(f1Score("3.5 million", "35 million").f1).toBe(1);
  });

  it("normalises printable ASCII on its fast path exactly as the general Unicode path does", () => {
    // A trailing U+3000 (Python whitespace, not a word character) sends the same text down the general path.
    const random = seededRandom(11);
    const alphabet = "aAnNtThHeE  .,'-_!?()&$01 the an a ";
    for (let k = 0; k < 3000; k++) {
      const length = Math.floor(random() * 14);
      let text = "";
      for (let i = 0; i < length; i++) text += alphabet[Math.floor(random() * alphabet.length)];
      expect(normalizeAnswer(text)).toBe(normalizeAnswer(`${text}\u3000`));
    }
    for (const text of ["The  Eiffel-Tower!", "a an the", "an_a", "the.", "", "  ", "A.B.C. the abc"])
      expect(normalizeAnswer(text)).toBe(normalizeAnswer(`${text}\u3000`));
  });

  it("applies the yes / no / noanswer rule to F1 but not EM", () => {
    expect(f1Score("yes it is", "yes")).toEqual({ f1: 0, precision: 0, recall: 0 });
    expect(f1Score("no", "No.")).toEqual({ f1: 1, precision: 1, recall: 1 });
  });

  it("takes the maximum of each metric over aliases independently", () => {
    const s = scoreAnswer("Mask of Fu Manchu film", ["The Mask of Fu Manchu", "Mask of Fu Manchu"]);
    expect(s.em).toBe(0);
    expect(s.recall).toBe(1);
    expect(s.precision).toBeCloseTo(0.8);
  });
});

describe("statistics", () => {
  const a = Array.from({ length: 200 }, (_, i) => (i % 10 < 6 ? 1 : 0));
  const b = Array.from({ length: 200 }, (_, i) => (i % 10 < 4 ? 1 : 0));

  it("gives seeded, reproducible bootstrap intervals around the mean", () => {
    const ci = bootstrapCI(a, { seed: 1 });
    expect(ci.mean).toBeCloseTo(0.6);
    expect(ci.low).toBeLessThan(0.6);
    expect(ci.high).toBeGreaterThan(0.6);
    expect(ci.high - ci.low).toBeGreaterThan(0.08);
    expect(ci.high - ci.low).toBeLessThan(0.2);
    expect(bootstrapCI(a, { seed: 1 })).toEqual(ci);
    expect(bootstrapCI([], { seed: 1 })).toMatchObject({ mean: 0, low: 0, high: 0 });
  });

  it("gives several columns from one series of resamples the intervals each gets alone", () => {
    const f = Array.from({ length: 200 }, (_, i) => ((i * 37) % 101) / 101);
    const [ci, fci] = bootstrapCIs([a, f], { seed: 1 });
    expect([ci, fci]).toEqual([bootstrapCI(a, { seed: 1 }), bootstrapCI(f, { seed: 1 })]);
    // Pinned: the values every earlier version gave, so reports stay comparable.
    expect(ci).toEqual({ mean: 0.6, low: 0.53, high: 0.67, level: 0.95 });
    expect(fci).toMatchObject({ low: 0.45751608910891084, high: 0.532872524752475 });
    expect(() => bootstrapCIs([a, f.slice(1)])).toThrow(RangeError);
  });

  it("draws each resample as floor(random() × n) from one seeded mulberry32 sequence, summing in draw order", () => {
    // The textbook percentile bootstrap, written plainly: the fast loop must give these intervals bit for bit.
    const reference = (columns: number[][], seed: number, resamples: number) => {
      const random = seededRandom(seed);
      const n = columns[0]!.length;
      const means = columns.map(() => [] as number[]);
      for (let r = 0; r < resamples; r++) {
        const draws = Array.from({ length: n }, () => Math.floor(random() * n));
        columns.forEach((column, c) => {
          let sum = 0;
          for (const d of draws) sum += column[d]!;
          means[c]!.push(sum / n);
        });
      }
      return means.map((m) => {
        const s = m.sort((x, y) => x - y);
        const at = (q: number) => {
          const pos = (s.length - 1) * q;
          const lo = Math.floor(pos);
          return s[lo]! + (s[Math.ceil(pos)]! - s[lo]!) * (pos - lo);
        };
        return [at(0.025), at(0.975)];
      });
    };
    const f = Array.from({ length: 331 }, (_, i) => ((i * 7919) % 1009) / 1009);
    const g = Array.from({ length: 331 }, (_, i) => Math.sin(i) ** 2);
    const e = f.map((x) => (x > 0.4 ? 1 : 0));
    // Node has WebAssembly SIMD: the kernel makes the first 4 × 82 draws of each resample here, JavaScript the last 3.
    expect(resampleKernel()).not.toBeNull();
    for (const seed of [0, 7, 2 ** 32 - 1]) {
      const got = bootstrapCIs([e, f, g], { seed, resamples: 200 }).map((ci) => [ci.low, ci.high]);
      expect(got).toEqual(reference([e, f, g], seed, 200));
    }
  });

  it("finds a real difference significant and no difference not significant", () => {
    for (const method of ["approximate-randomization", "paired-bootstrap"] as const) {
      const diff = pairedTest(a, b, { seed: 3, method, resamples: 2000 });
      expect(diff.meanDiff).toBeCloseTo(0.2);
      expect(diff.pValue).toBeLessThan(0.01);
      expect(diff.ci.low).toBeGreaterThan(0);
      const same = pairedTest(a, [...a.slice(1), a[0]!], { seed: 3, method, resamples: 2000 });
      expect(same.pValue).toBeGreaterThan(0.5);
    }
    expect(() => pairedTest([1], [1, 0])).toThrow(/equal lengths/);
  });

  it("aggregates per question type", () => {
    const items = [
      { em: 1, f1: 1, type: "bridge" },
      { em: 0, f1: 0.5, type: "bridge" },
      { em: 1, f1: 1, type: "comparison" },
    ];
    const agg = aggregate(items, { seed: 0 });
    expect(agg.n).toBe(3);
    expect(agg.em.mean).toBeCloseTo(2 / 3);
    expect(agg.byType.bridge!.n).toBe(2);
    expect(agg.byType.bridge!.f1.mean).toBeCloseTo(0.75);
    expect(Object.keys(agg.byType)).toEqual(["bridge", "comparison"]);
  });
});
