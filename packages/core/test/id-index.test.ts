import { describe, expect, it } from "vitest";
import { IdIndex } from "../src";

describe("IdIndex", () => {
  it("keeps 50k ids through its growth, the latest location of each", () => {
    const index = new IdIndex();
    const id = (i: number) => `${i.toString(16).padStart(16, "0")}${"ab".repeat(24)}`;
    for (let i = 0; i < 50_000; i++) index.set(id(i), i % 7, i * 10, i % 100);
    index.set(id(5), 99, 1, 2);
    index.set("not-hex-custom-id", 3);
    expect(index.size).toBe(50_001);
    expect(index.get(id(5))).toEqual({ slot: 99, offset: 1, length: 2 });
    expect(index.get(id(49_999))).toEqual({ slot: 49_999 % 7, offset: 499_990, length: 99 });
    expect(index.get("not-hex-custom-id")).toEqual({ slot: 3, offset: -1, length: 0 });
    expect(index.get(id(50_000))).toBeUndefined();
  });
});
