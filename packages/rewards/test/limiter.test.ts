import { describe, expect, it } from "vitest";
import { Limiter } from "../src/limiter";

describe("Limiter", () => {
  it("never runs more than its limit, even when tasks finish and new callers arrive together", async () => {
    const limiter = new Limiter(2);
    let active = 0;
    let peak = 0;
    const task = async () => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 1));
      active--;
    };
    const first = Array.from({ length: 5 }, () => limiter.run(task));
    await Promise.resolve();
    const late = Array.from({ length: 5 }, () => limiter.run(task));
    await Promise.all([...first, ...late]);
    expect(peak).toBe(2);
  });

  it("rejects an aborted caller and passes its turn on", async () => {
    const limiter = new Limiter(1);
    const controller = new AbortController();
    let release!: () => void;
    const blocker = limiter.run(() => new Promise<void>((r) => (release = r)));
    const aborted = limiter.run(async () => "never", controller.signal);
    const next = limiter.run(async () => "ran");
    controller.abort();
    await new Promise((r) => setTimeout(r, 0));
    release();
    await blocker;
    await expect(aborted).rejects.toThrow(/aborted/);
    await expect(next).resolves.toBe("ran");
  });

  it("rejects a bad limit", () => {
    expect(() => new Limiter(0)).toThrow(RangeError);
  });
});
