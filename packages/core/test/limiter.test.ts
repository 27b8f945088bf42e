import { describe, expect, it } from "vitest";
import { Limiter, mapLimited } from "../src/index";

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
    const aborted = limiter.run(async () => "never", controller.signal).catch((e: Error) => e.message);
    const next = limiter.run(async () => "ran");
    controller.abort();
    await new Promise((r) => setTimeout(r, 0));
    release();
    await blocker;
    await expect(aborted).resolves.toMatch(/aborted/);
    await expect(next).resolves.toBe("ran");
  });

  it("rejects a bad limit", () => {
    expect(() => new Limiter(0)).toThrow(RangeError);
  });
});

describe("Limiter after a fatal error", () => {
  it("starts no waiting or later task once stopped; the running one finishes", async () => {
    const limiter = new Limiter(1);
    const started: string[] = [];
    let release!: () => void;
    const running = limiter.run(async () => {
      started.push("first");
      await new Promise<void>((r) => (release = r));
      return "first done";
    });
    const waiting = limiter.run(async () => started.push("queued")).catch((e) => e);
    await new Promise((r) => setTimeout(r, 0));
    const fatal = new Error("invalid api key");
    limiter.stop(fatal);
    release();
    await expect(running).resolves.toBe("first done");
    await expect(waiting).resolves.toBe(fatal);
    await expect(limiter.run(async () => started.push("later"))).rejects.toBe(fatal);
    expect(started).toEqual(["first"]);
    expect(limiter.running).toBe(0);
  });

  it("rejects a waiter the moment its signal fires, with one listener for many waiters", async () => {
    const limiter = new Limiter(1);
    const controller = new AbortController();
    let release!: () => void;
    let listeners = 0;
    const add = controller.signal.addEventListener.bind(controller.signal);
    controller.signal.addEventListener = ((...args: Parameters<typeof add>) => {
      listeners++;
      add(...args);
    }) as typeof add;
    const blocker = limiter.run(() => new Promise<void>((r) => (release = r)));
    const waiters = Array.from({ length: 50 }, () =>
      limiter.run(async () => "never", controller.signal).catch((e) => e),
    );
    expect(limiter.waiting).toBe(50);
    expect(listeners).toBe(1);
    controller.abort();
    const errors = await Promise.all(waiters);
    expect(errors.every((e) => e instanceof Error && /aborted/.test(e.message))).toBe(true);
    expect(limiter.waiting).toBe(0);
    release();
    await blocker;
  });
});

describe("mapLimited", () => {
  it("keeps the items' order and at most `concurrency` in flight", async () => {
    let active = 0;
    let peak = 0;
    const out = await mapLimited([30, 10, 20, 5, 1], 2, async (ms, i) => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, ms));
      active--;
      return `${i}:${ms}`;
    });
    expect(out).toEqual(["0:30", "1:10", "2:20", "3:5", "4:1"]);
    expect(peak).toBe(2);
  });
});
