import { describe, expect, it } from "vitest";
import { KeyIndex } from "../src/key-index";

describe("KeyIndex", () => {
  it("finds each of 50,000 keys at its row, refuses a second add, answers -1 for keys it lacks", () => {
    const keys = Array.from(
      { length: 50_000 },
      (_, i) => `standard|hotpotqa|ex-${i}|large=openai:gpt-4o-mini|v3|${i % 3}`,
    );
    let reads = 0;
    const index = new KeyIndex((row) => {
      reads++;
      return keys[row]!;
    });
    for (const k of keys) expect(index.add(k)).toBe(true);
    const afterAdds = reads;
    expect(keys.every((k, i) => index.find(k) === i)).toBe(true);
    expect(index.add(keys[123]!)).toBe(false);
    expect(index.find("standard|hotpotqa|ex-50000|large=openai:gpt-4o-mini|v3|0")).toBe(-1);
    expect(index.find("")).toBe(-1);
    // A key is read back only when both hashes match: on a real duplicate or a lookup of a held key.
    expect(afterAdds).toBe(0);
  });

  it("tells apart keys whose hashes collide by reading them back", () => {
    // Two rows claimed to hold different keys while the index sees only hashes: with a reader that
    // returns another string for row 0, the same key is not found there.
    const held = ["a|b|c"];
    const index = new KeyIndex((row) => held[row]!);
    index.add("a|b|c");
    held[0] = "something else";
    expect(index.find("a|b|c")).toBe(-1);
    expect(index.add("a|b|c")).toBe(true);
  });
});
