import { expectedReasoningTokens, priceOf, REASONING_BUDGET } from "@lmcot/llm";
import { describe, expect, it } from "vitest";
import { estimateBench, formatEstimate, parseConfig, totalEstimate } from "../src/index";
import { tempDir } from "./helpers";

const large = [
  "openai:gpt-4o-mini",
  "openai:o4-mini",
  "openai:gpt-5-mini@low",
  "anthropic:claude-sonnet-4-0",
  "anthropic:claude-sonnet-4-0@high",
];

describe("bench --dry-run prices the reasoning tokens of reasoning models", () => {
  it("adds each model's expected reasoning tokens to every call's output tokens, and to the cost", async () => {
    const config = parseConfig({
      datasets: [{ name: "hotpotqa", sample: 4 }],
      large,
      methods: ["standard", "cot"],
      out: tempDir("lmcot-estimate-reasoning-"),
    });
    const estimates = await estimateBench(config, (id) => priceOf(id));
    const perCall = (id: string) => {
      const cell = estimates.find((e) => e.cell.large === id && e.cell.method === "standard")!;
      return cell.reasoningTokens / cell.calls;
    };
    // gpt-4o-mini and Claude without a thinking budget do not reason.
    expect(perCall("openai:gpt-4o-mini")).toBe(0);
    expect(perCall("anthropic:claude-sonnet-4-0")).toBe(0);
    // o-series and gpt-5 always reason (medium unless an effort is given); Claude only with one.
    expect(perCall("openai:o4-mini")).toBe(expectedReasoningTokens("openai:o4-mini"));
    expect(perCall("openai:o4-mini")).toBe(REASONING_BUDGET.medium / 4);
    expect(perCall("openai:gpt-5-mini@low")).toBe(REASONING_BUDGET.low / 4);
    expect(perCall("anthropic:claude-sonnet-4-0@high")).toBe(REASONING_BUDGET.high / 2);

    const o4 = estimates.find((e) => e.cell.large === "openai:o4-mini" && e.cell.method === "standard")!;
    const plain = estimates.find(
      (e) => e.cell.large === "openai:gpt-4o-mini" && e.cell.method === "standard",
    )!;
    // Same prompts, so the same input and visible reply; the difference is the thinking.
    expect(o4.inputTokens).toBe(plain.inputTokens);
    expect(o4.outputTokens - plain.outputTokens).toBe(o4.reasoningTokens);
    const price = priceOf("openai:o4-mini")!;
    expect(o4.costUsd).toBeCloseTo((o4.inputTokens * price.input + o4.outputTokens * price.output) / 1e6, 12);
    // CoT cells think on every call too.
    const cot = estimates.find((e) => e.cell.large === "openai:o4-mini" && e.cell.method === "cot")!;
    expect(cot.reasoningTokens).toBe(o4.reasoningTokens);

    const total = totalEstimate(estimates);
    expect(total.reasoningTokens).toBe(estimates.reduce((a, e) => a + e.reasoningTokens, 0));
    expect(formatEstimate("TOTAL", total)).toMatch(/output tokens \(~\d+ of them reasoning\), ~\$/);
    expect(formatEstimate("x", plain)).not.toMatch(/reasoning/);
  });
});
