import { AsyncResource } from "node:async_hooks";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { BatchSession } from "../src/batch/session";
import { createModel } from "../src/create";
import { type BatchServer, batchServer } from "../src/testing/index";

const KEY = "sk-test-stall-0123456789abcdef";
let server: BatchServer | undefined;
afterEach(() => server?.close());

describe("BatchSession when a call loses its item's tracking context", () => {
  it("submits after stallMs without progress instead of waiting forever", async () => {
    server = await batchServer({ apiKey: KEY });
    const batch = new BatchSession({
      dir: mkdtempSync(join(tmpdir(), "lmcot-stall-")),
      pollIntervalMs: 5,
      stallMs: 50,
    });
    const model = createModel("openai:gpt-4o-mini", {
      apiKey: KEY,
      baseURL: server.openaiBaseURL,
      batch,
      retries: 0,
    });
    const ask = (q: string) => model.generate({ prompt: q, maxTokens: 8, temperature: 0 });
    // Item A hands out a function bound to its own context; item B calls through it, so B's call is
    // counted as A's (what a native callback can do), and B never looks blocked.
    let viaA: ((q: string) => ReturnType<typeof ask>) | undefined;
    let ready: () => void = () => {};
    const handedOut = new Promise<void>((r) => {
      ready = r;
    });
    const a = batch.track(async () => {
      viaA = AsyncResource.bind((q: string) => ask(q));
      ready();
      return ask("question of A");
    });
    const b = batch.track(async () => {
      await handedOut;
      return viaA!("question of B");
    });
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra.text).toContain("question of A");
    expect(rb.text).toContain("question of B");
    expect(server.created).toHaveLength(1);
    expect(server.created[0]!.customIds).toHaveLength(2);
  });
});
