/**
 * Throughput and per-call overhead of lmcot's full stack (usage meter ∘ disk cache ∘ call policy ∘
 * limiter ∘ OpenAI adapter) against a bare `openai` client call, both to the same loopback server.
 *
 *   npx tsx bench/throughput.ts [--calls 2000] [--concurrency 16] [--latency 50]
 *
 * 1. Throughput: a server answering after a fixed latency L, C concurrent workers, N calls: calls per
 *    second as a fraction of the ideal C/L (target ≥ 90%).
 * 2. Overhead: the same server with no latency, calls one after another, bare and lmcot interleaved in
 *    blocks so drift hits both alike: mean lmcot time minus mean bare time per call (target < 2 ms).
 *    Every lmcot call is a cache miss (distinct prompts) so the cache's hashing and atomic write count.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import OpenAI from "openai";
import { createModel } from "../src/index";

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
}
const N = flag("calls", 2000);
const C = flag("concurrency", 16);
const L = flag("latency", 50);
const KEY = "sk-bench-not-a-real-key";
/** `--no-cache` leaves the disk cache out of the stack, to see what it costs. */
const useCache = !process.argv.includes("--no-cache");

/** Starts the loopback server on its own thread; resolves to its URL and a stop function. */
async function startServer(latencyMs: number) {
  const worker = new Worker(new URL("./server-worker.mjs", import.meta.url), { workerData: { latencyMs } });
  const port = await new Promise<number>((resolve) => worker.once("message", resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        worker.once("exit", () => resolve());
        worker.postMessage("stop");
      }),
  };
}

async function pool(n: number, c: number, call: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: c }, async () => {
      while (next < n) await call(next++);
    }),
  );
  return performance.now() - start;
}

async function throughput() {
  const server = await startServer(L);
  const cacheDir = mkdtempSync(join(tmpdir(), "lmcot-bench-"));
  try {
    const model = createModel("openai:gpt-4o-mini", {
      apiKey: KEY,
      baseURL: `${server.url}/v1`,
      cacheDir: useCache ? cacheDir : undefined,
      concurrency: C,
    });
    const bare = new OpenAI({ apiKey: KEY, baseURL: `${server.url}/v1`, maxRetries: 0 });
    const bareCall = (i: number) =>
      bare.chat.completions.create({
        model: "gpt-4o-mini",
        messages: [{ role: "user", content: `question ${i}` }],
        max_tokens: 16,
      });
    await pool(C, C, (i) => model.generate({ prompt: `warm-up ${i}` }));
    await pool(C, C, (i) => bareCall(-i));
    const bareMs = await pool(N, C, bareCall);
    const ms = await pool(N, C, (i) => model.generate({ prompt: `question ${i}`, maxTokens: 16 }));
    const ideal = (C / L) * 1000;
    return { rate: (N / ms) * 1000, bareRate: (N / bareMs) * 1000, ideal };
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
    await server.close();
  }
}

async function overhead() {
  const server = await startServer(0);
  const cacheDir = mkdtempSync(join(tmpdir(), "lmcot-bench-"));
  try {
    const bare = new OpenAI({ apiKey: KEY, baseURL: `${server.url}/v1`, maxRetries: 0 });
    const model = createModel("openai:gpt-4o-mini", {
      apiKey: KEY,
      baseURL: `${server.url}/v1`,
      cacheDir: useCache ? cacheDir : undefined,
      concurrency: 4,
      rpm: 10_000_000,
    });
    const bareCall = (i: number) =>
      bare.chat.completions.create({
        model: "gpt-4o-mini",
        messages: [{ role: "user", content: `question ${i}` }],
        max_tokens: 16,
      });
    const lmcotCall = (i: number) => model.generate({ prompt: `question ${i}`, maxTokens: 16 });
    for (let i = 0; i < 200; i++) {
      await bareCall(-i);
      await lmcotCall(-i - 1);
    }
    const block = 100;
    let bareMs = 0;
    let lmcotMs = 0;
    for (let done = 0; done < N; done += block) {
      bareMs += await pool(block, 1, (i) => bareCall(done + i));
      lmcotMs += await pool(block, 1, (i) => lmcotCall(done + i));
    }
    return { bare: bareMs / N, lmcot: lmcotMs / N };
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
    await server.close();
  }
}

const t = await throughput();
console.log(
  `throughput: N=${N} calls, C=${C} workers, L=${L} ms latency, disk cache ${useCache ? "on" : "off"}`,
);
console.log(
  `  lmcot full stack ${t.rate.toFixed(0)} calls/s of ideal C/L = ${t.ideal.toFixed(0)} calls/s → ${((100 * t.rate) / t.ideal).toFixed(1)}% (target ≥ 90%)`,
);
console.log(
  `  bare openai client ${t.bareRate.toFixed(0)} calls/s → ${((100 * t.bareRate) / t.ideal).toFixed(1)}%; lmcot / bare = ${(t.rate / t.bareRate).toFixed(3)}`,
);
const o = await overhead();
console.log(
  `overhead: N=${N} sequential calls each, zero-latency server, ${useCache ? "every lmcot call a disk-cache miss (hash + atomic write)" : "no disk cache"}`,
);
console.log(
  `  bare openai client ${o.bare.toFixed(3)} ms/call, lmcot full stack ${o.lmcot.toFixed(3)} ms/call → overhead ${(o.lmcot - o.bare).toFixed(3)} ms/call (target < 2 ms), ratio ${(o.lmcot / o.bare).toFixed(2)}×`,
);
