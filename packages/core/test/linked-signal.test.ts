import { describe, expect, it } from "vitest";
import { callWithPolicy, linkedSignal } from "../src/index";

describe("linkedSignal", () => {
  it("fires with the reason of whichever source fires first", () => {
    const a = new AbortController();
    const b = new AbortController();
    const { signal } = linkedSignal([a.signal, b.signal]);
    b.abort("b went");
    a.abort("a went");
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe("b went");
  });

  it("is aborted at once when a source already is, and no longer follows its sources once released", () => {
    const done = new AbortController();
    done.abort("before");
    expect(linkedSignal([new AbortController().signal, done.signal]).signal.reason).toBe("before");
    const source = new AbortController();
    const linked = linkedSignal([source.signal]);
    linked.release();
    source.abort();
    expect(linked.signal.aborted).toBe(false);
  });

  it("lets many calls share a long-lived signal: one listener on it, no MaxListeners warning", async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on("warning", onWarning);
    const run = new AbortController();
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    const calls = Array.from({ length: 50 }, () =>
      callWithPolicy(
        async (signal) => {
          await held;
          return signal.aborted;
        },
        {},
        { signal: run.signal },
      ),
    );
    release();
    expect(await Promise.all(calls)).toEqual(Array(50).fill(false));
    await new Promise((r) => setImmediate(r));
    process.off("warning", onWarning);
    expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning")).toEqual([]);
    const late = callWithPolicy(() => new Promise<never>(() => undefined), {}, { signal: run.signal });
    run.abort();
    await expect(late).rejects.toThrow(/abort/i);
  });
});
