import { describe, expect, it } from "vitest";
import { ASPECTS } from "../src/aspects";
import { parseAllAspects, parseAspectScore } from "../src/parse";

describe("parseAspectScore", () => {
  it.each([
    ["Score: 5", 1],
    ["Score: 1", 0],
    ["score:3", 0.5],
    ["**Score:** 4", 0.75],
    ["Score: 4/5", 0.75],
    ["The rationale is clear.\nScore: 2", 0.25],
    ['{"score": 4}', 0.75],
    ["4", 0.75],
    ["3.5", 0.625],
    ["Score is 5.", 1],
  ])("reads %j as %d", (reply, expected) => {
    const parsed = parseAspectScore(reply);
    expect(parsed).toHaveProperty("score");
    expect((parsed as { score: number }).score).toBeCloseTo(expected, 12);
  });

  it.each([
    ["", "empty reply"],
    ["   ", "empty reply"],
    ["I think it is quite good.", "no `Score: <n>`"],
    ["Score: 7", "outside 1–5"],
    ["Score: 0", "outside 1–5"],
    ["Score: 8/10", "out of 10"],
    ["Score: 3 ... actually Score: 4", "several different scores"],
    ["Score: banana", "no `Score: <n>`"],
    ['{"score": "high"}', "outside"],
  ])("reports %j as a failure (%s) without throwing", (reply, problem) => {
    const parsed = parseAspectScore(reply);
    expect(parsed).toHaveProperty("error");
    expect((parsed as { error: string }).error).toContain(problem);
  });

  it("accepts the same score repeated", () => {
    expect(parseAspectScore("Score: 4. Final Score: 4")).toEqual({ score: 0.75, raw: 4 });
  });
});

describe("parseAllAspects", () => {
  it("reads one line per aspect, in any order and markdown", () => {
    const reply = ["- **Relevance**: 5", "factuality: 3", ...ASPECTS.slice(2).map((a) => `${a} = 1`)].join(
      "\n",
    );
    const parsed = parseAllAspects(reply, ASPECTS);
    expect(parsed.factuality).toEqual({ score: 0.5, raw: 3 });
    expect(parsed.relevance).toEqual({ score: 1, raw: 5 });
    expect(parsed.readability).toEqual({ score: 0, raw: 1 });
  });

  it("reads a JSON object", () => {
    const parsed = parseAllAspects('```json\n{"factuality": 5, "fluency": "2"}\n```', [
      "factuality",
      "fluency",
    ]);
    expect(parsed.factuality).toEqual({ score: 1, raw: 5 });
    expect(parsed.fluency).toEqual({ score: 0.25, raw: 2 });
  });

  it("marks only the missing or broken aspects as failures", () => {
    const parsed = parseAllAspects("factuality: 4\nrelevance: 9", ["factuality", "relevance", "coherence"]);
    expect(parsed.factuality).toEqual({ score: 0.75, raw: 4 });
    expect((parsed.relevance as { error: string }).error).toContain("outside");
    expect((parsed.coherence as { error: string }).error).toContain("no `coherence: <n>` line");
  });

  it("fails every aspect of an empty reply", () => {
    const parsed = parseAllAspects("", ["factuality", "fluency"]);
    expect(parsed.factuality).toEqual({ error: "empty reply" });
    expect(parsed.fluency).toEqual({ error: "empty reply" });
  });
});
