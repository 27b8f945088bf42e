import { describe, expect, it } from "vitest";
import { closest, didYouMean, editDistance } from "../src/suggest";

describe("editDistance", () => {
  it("counts insertions, deletions and substitutions", () => {
    expect(editDistance("", "abc")).toBe(3);
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("opneai", "openai")).toBe(2);
    expect(editDistance("same", "same")).toBe(0);
  });
});

describe("closest", () => {
  const providers = ["openai", "anthropic", "openai-compatible", "transformers", "extractive"];

  it("finds the nearest candidate, ignoring case", () => {
    expect(closest("opneai", providers)).toBe("openai");
    expect(closest("Anthropik", providers)).toBe("anthropic");
    expect(closest("budgetUSD", ["budgetUsd", "budget", "concurrency"])).toBe("budgetUsd");
  });

  it("gives nothing when no candidate is close", () => {
    expect(closest("zzz", providers)).toBeUndefined();
    expect(closest("x", [])).toBeUndefined();
    expect(closest("opneai", providers, 1)).toBeUndefined();
  });

  it("formats a hint to append to a message", () => {
    expect(`unknown provider opneai${didYouMean("opneai", providers)}`).toBe(
      "unknown provider opneai; did you mean openai?",
    );
    expect(didYouMean("zzz", providers)).toBe("");
  });
});
