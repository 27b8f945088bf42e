import { describe, expect, it } from "vitest";
import { KeySet, runKey } from "../src/index";

const key = (i: number, seed = 0) =>
  runKey({
    method: "lm-guided",
    dataset: "hotpotqa",
    exampleId: `5a8b57f25542995d1e6f${i}`,
    models: { large: "openai:gpt-4o-mini", small: "transformers:./kd" },
    promptVersion: "lmguided-v3",
    seed,
  });

describe("KeySet", () => {
  it("holds 200,000 run keys with no false member, growing as it goes", () => {
    const set = new KeySet();
    let added = 0;
    for (let i = 0; i < 100_000; i++) for (const seed of [0, 1]) if (set.add(key(i, seed))) added++;
    expect(added).toBe(200_000);
    expect(set.size).toBe(200_000);
    let found = 0;
    for (let i = 0; i < 100_000; i++) if (set.has(key(i, 1))) found++;
    expect(found).toBe(100_000);
    let falseMembers = 0;
    for (let i = 100_000; i < 300_000; i++) if (set.has(key(i, 0)) || set.has(key(i, 2))) falseMembers++;
    expect(falseMembers).toBe(0);
  });

  it("adds a key once, and tells keys apart that differ in one character or by order", () => {
    const set = new KeySet(["a|b", "a|b", "b|a", ""]);
    expect(set.size).toBe(3);
    expect(set.add("a|b")).toBe(false);
    expect(set.has("a|c")).toBe(false);
    expect(set.has("")).toBe(true);
  });
});
