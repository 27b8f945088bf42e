import { describe, expect, it } from "vitest";
import { type Comparison, judgeClaims } from "../src/report/data";

function comparison(n: number, meanDiff: number, pValue: number): Comparison {
  const test = {
    meanDiff,
    ci: { mean: meanDiff, low: meanDiff - 0.01, high: meanDiff + 0.01, level: 0.95 },
    pValue,
    method: "paired-bootstrap" as const,
    n,
  };
  return {
    dataset: "2wikimultihopqa",
    large: "openai:gpt-4o-mini",
    seed: 0,
    guided: "lm-guided (kd)",
    baseline: "standard",
    metric: "f1",
    n,
    test,
    longContext: { ...test, n: Math.ceil(n / 2) },
  };
}

const vsStandard = (claims: ReturnType<typeof judgeClaims>) =>
  claims.find((c) => c.claim === "LM-guided CoT beats standard prompting.")!;

describe("the report refuses thin evidence", () => {
  it("a claim tested on fewer questions than the minimum is 'too few questions (n = …)', not a verdict", () => {
    const claims = judgeClaims([comparison(2, 0.5, 0.01)], 100);
    expect(vsStandard(claims).verdict).toBe("too few questions (n = 2)");
    expect(claims.find((c) => c.claim.includes("long contexts"))?.verdict).toBe("too few questions (n = 1)");
    expect(vsStandard(claims).evidence).toContain("n = 2");
  });

  it("judges on the comparisons that reach the minimum, which is settable", () => {
    expect(
      vsStandard(judgeClaims([comparison(2, -0.5, 0.01), comparison(500, 0.1, 0.001)], 100)).verdict,
    ).toBe("supported");
    expect(vsStandard(judgeClaims([comparison(2, 0.5, 0.01)], 2)).verdict).toBe("supported");
    expect(vsStandard(judgeClaims([], 100)).verdict).toBe("not tested in this run");
  });
});
