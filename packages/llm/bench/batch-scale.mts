/**
 * What batching costs the client at grid scale: N calls through a BatchSession (collected, one JSONL
 * upload, poll, one output download, results saved to the run directory) against the same N calls
 * online (concurrency 64), both to the same in-process loopback server (`batchServer`). Each round
 * runs in a fresh process, batch and online interleaved; wall time and peak RSS, min / median / max.
 *
 *   node --import tsx bench/batch-scale.mts [--calls 20000] [--rounds 3]
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { BatchSession, createModel } from "../src/index";
import { batchServer } from "../src/testing/index";

const flag = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const N = flag("calls", 20_000);
const ROUNDS = flag("rounds", 3);
const KEY = "sk-bench-not-a-real-key";
const prompt = (i: number) => `Question ${i}: which river runs through the city where the author was born?`;

async function child(mode: "batch" | "online") {
  const server = await batchServer({ apiKey: KEY });
  const dir = mkdtempSync(join(tmpdir(), "lmcot-batch-scale-"));
  const started = performance.now();
  if (mode === "batch") {
    const session = new BatchSession({ dir, pollIntervalMs: 50 });
    const model = createModel("openai:gpt-4o-mini", {
      apiKey: KEY,
      baseURL: server.openaiBaseURL,
      batch: session,
    });
    await Promise.all(
      Array.from({ length: N }, (_, i) =>
        session.track(() => model.generate({ prompt: prompt(i), maxTokens: 32 })),
      ),
    );
  } else {
    const model = createModel("openai:gpt-4o-mini", {
      apiKey: KEY,
      baseURL: server.openaiBaseURL,
      concurrency: 64,
    });
    await Promise.all(
      Array.from({ length: N }, (_, i) => model.generate({ prompt: prompt(i), maxTokens: 32 })),
    );
  }
  const ms = performance.now() - started;
  await server.close();
  rmSync(dir, { recursive: true, force: true });
  process.stdout.write(JSON.stringify({ ms, rssMb: process.resourceUsage().maxRSS / 1024 }));
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0]!, median: s[Math.floor(s.length / 2)]!, max: s.at(-1)! };
};
const fmt = (x: { min: number; median: number; max: number }, unit: string) =>
  `${x.min.toFixed(0)} / ${x.median.toFixed(0)} / ${x.max.toFixed(0)} ${unit}`;

async function main() {
  const mode = process.argv[process.argv.indexOf("--child") + 1] as "batch" | "online";
  if (process.argv.includes("--child")) return child(mode);
  const self = fileURLToPath(import.meta.url);
  const runs: Record<string, { ms: number; rssMb: number }[]> = { batch: [], online: [] };
  for (let r = 0; r < ROUNDS; r++)
    for (const m of r % 2 ? ["online", "batch"] : ["batch", "online"]) {
      const out = execFileSync(process.execPath, [
        "--import",
        "tsx",
        self,
        "--child",
        m,
        "--calls",
        String(N),
      ]);
      runs[m]!.push(JSON.parse(out.toString()));
    }
  for (const m of ["batch", "online"])
    console.log(
      `${m.padEnd(6)} ${N} calls: wall ${fmt(stats(runs[m]!.map((x) => x.ms)), "ms")}, peak RSS ${fmt(stats(runs[m]!.map((x) => x.rssMb)), "MB")} (min / median / max of ${ROUNDS})`,
    );
  const med = (m: string, k: "ms" | "rssMb") => stats(runs[m]!.map((x) => x[k])).median;
  console.log(
    `batch / online, medians: wall ${(med("batch", "ms") / med("online", "ms")).toFixed(2)}×, peak RSS ${(med("batch", "rssMb") / med("online", "rssMb")).toFixed(2)}×`,
  );
}
await main();
