/**
 * Load run of the reward server (not a unit test): a loopback load generator with C keep-alive
 * connections sends N OpenRLHF-shaped requests of B items each; reports requests/s, items/s,
 * p50/p99 latency and failed requests, for lmcot's server (zero-latency judge and large LM, the
 * paper preset: 9 model calls per item) and for a bare node:http reference that only parses the
 * body and answers constant rewards. Server and generator run in separate processes.
 *
 *   npx tsx bench/load.ts [--requests 2000] [--concurrency 16] [--batch 8]
 */
import { type ChildProcess, spawn } from "node:child_process";
import { Agent, request } from "node:http";
import { fileURLToPath } from "node:url";
import { rationalePrompt } from "@lmcot/core";
import { example } from "../test/helpers";

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer`);
  return value;
}
const N = flag("requests", 2000);
const C = flag("concurrency", 16);
const B = flag("batch", 8);

const prompt = rationalePrompt.render(example);

function body(i: number): string {
  const query = Array.from(
    { length: B },
    (_, j) => `${prompt} Arthur's Magazine began in 1844, First for Women in 1989 (${i}.${j}).</s>`,
  );
  return JSON.stringify({ query, prompts: Array(B).fill(prompt), labels: Array(B).fill(example.answer) });
}

async function startServer(mode: string): Promise<{ port: number; child: ChildProcess }> {
  const script = fileURLToPath(new URL("./load-server.ts", import.meta.url));
  const child = spawn(process.execPath, ["--import", "tsx", script, mode], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once("data", (d: Buffer) => resolve(Number(String(d).trim())));
    child.once("exit", (code) => reject(new Error(`server exited with ${code}`)));
  });
  return { port, child };
}

function post(agent: Agent, port: number, payload: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path: "/get_reward",
        method: "POST",
        agent,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload) },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

async function load(mode: string) {
  const { port, child } = await startServer(mode);
  const agent = new Agent({ keepAlive: true, maxSockets: C });
  const payloads = Array.from({ length: 64 }, (_, i) => body(i));
  const latencies: number[] = [];
  let failed = 0;
  let next = 0;
  const worker = async (count: number) => {
    while (next < count) {
      const i = next++;
      const t = performance.now();
      try {
        const r = await post(agent, port, payloads[i % payloads.length]!);
        const rewards = (JSON.parse(r.text) as { rewards?: number[] }).rewards;
        if (r.status !== 200 || rewards?.length !== B || rewards.some((x) => x !== 7)) failed++;
      } catch {
        failed++;
      }
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: C }, () => worker(Math.min(N, 200))));
  latencies.length = 0;
  failed = 0;
  next = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: C }, () => worker(N)));
  const ms = performance.now() - start;
  agent.destroy();
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
  return { rps: (N / ms) * 1000, items: (N * B * 1000) / ms, p50: q(0.5), p99: q(0.99), failed };
}

const bare = await load("bare");
const lmcot = await load("lmcot");
const row = (name: string, r: typeof bare) =>
  `${name.padEnd(22)} ${r.rps.toFixed(0).padStart(7)} req/s ${r.items.toFixed(0).padStart(8)} items/s   p50 ${r.p50.toFixed(2)} ms   p99 ${r.p99.toFixed(2)} ms   failed ${r.failed}`;
console.log(
  `${N} requests × ${B} items, ${C} connections, zero-latency judge and large LM (9 calls per item)`,
);
console.log(row("bare node:http (ref)", bare));
console.log(row("lmcot rewards serve", lmcot));
console.log(`lmcot / reference throughput: ${(lmcot.rps / bare.rps).toFixed(2)}`);
if (lmcot.failed > 0 || bare.failed > 0) process.exitCode = 1;
