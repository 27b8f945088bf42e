import { seededRandom } from "@lmcot/core";
import { describe, expect, it } from "vitest";
import { chooseToken, logSoftmax } from "../src/transformers/sampling";

const logits = Float32Array.from([Math.log(0.5), Math.log(0.3), Math.log(0.15), Math.log(0.05)]);
const sample = { sample: true, temperature: 1, topK: 0, topP: 1 };

function frequencies(settings: typeof sample, draws = 20000): number[] {
  const random = seededRandom(123);
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < draws; i++) counts[chooseToken(logits, 0, 4, settings, random).token]! += 1;
  return counts.map((c) => c / draws);
}

describe("sampling", () => {
  it("log-softmax normalises and returns the model's log-prob of the chosen token", () => {
    const lp = logSoftmax(logits, 0, 4);
    expect(Array.from(lp).reduce((s, x) => s + Math.exp(x), 0)).toBeCloseTo(1, 6);
    expect(lp[1]).toBeCloseTo(Math.log(0.3), 6);
    const pick = chooseToken(logits, 0, 4, { ...sample, temperature: 5 }, seededRandom(1));
    expect(pick.logprob).toBeCloseTo(Math.log([0.5, 0.3, 0.15, 0.05][pick.token]!), 6);
  });

  it("greedy takes the argmax of the row at the offset", () => {
    const two = Float32Array.from([0, 1, 5, 2, 9, 1, 0, 3]);
    expect(chooseToken(two, 4, 4, { ...sample, sample: false }, Math.random).token).toBe(0);
    expect(chooseToken(two, 0, 4, { ...sample, sample: false }, Math.random).token).toBe(2);
  });

  it("draws follow softmax(logits / T), restricted by top-k and top-p", () => {
    const plain = frequencies(sample);
    for (const [i, p] of [0.5, 0.3, 0.15, 0.05].entries())
      expect(Math.abs(plain[i]! - p)).toBeLessThan(0.015);
    const topK = frequencies({ ...sample, topK: 2 });
    expect(topK[2]).toBe(0);
    expect(Math.abs(topK[0]! - 0.625)).toBeLessThan(0.015);
    // top-p 0.8: the smallest set reaching 0.8 is {0, 1}
    const topP = frequencies({ ...sample, topP: 0.8 });
    expect(topP[2]! + topP[3]!).toBe(0);
    const hot = frequencies({ ...sample, temperature: 2 });
    expect(hot[3]).toBeGreaterThan(plain[3]!);
    const cold = frequencies({ ...sample, temperature: 0.25 });
    expect(cold[0]).toBeGreaterThan(0.85);
  });
});
