/**
 * The paper's grid at dev-set scale, as a new user runs it: the whole `lmcot bench` process against a
 * loopback large LM (127.0.0.1), on synthetic HotpotQA dev files of 1k / 5k / 20k questions built
 * from the bundled real records (real context lengths, ~6 KB and 10 paragraphs a question). Per size
 * and CLI build: peak RSS (the child's VmHWM, from /usr/bin/time), wall time and large-LM calls/s;
 * rounds interleave the builds, min / median / max over them.
 *
 *   node --import tsx apps/bench/bench/scale.ts [--sizes 1000,5000,20000] [--cells 18] [--rounds 3]
 *     [--concurrency 32] [--self-consistency 1] [--mode online|batch]
 *     [--before /work/main/apps/cli/dist] [--kill]
 *
 * `--cells`: 2 (standard, cot), 3 (+ lm-guided with extractive:selector), 6 (× 2 large LMs) or 18
 * (× 3 seeds). `--kill [--kill-within S]`: each run is SIGKILLed at a random point (in its first S
 * seconds) and resumed; the line adds what the
 * server saw repeated and what run.jsonl lost or holds twice. `--mode batch` drives `--batch`
 * against `batchServer()`.
 */
import { execFileSync, spawn } from "node:child_process";
import {
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
// @ts-expect-error: a plain ES module, shared with batch-scale.mjs (typed by its JSDoc only)
import { startServer } from "./batch-server-process.mjs";
import { type GridServer, gridServer, writeSyntheticDev } from "./grid-fixture";

type BatchSummary = { batches: number; requests: number; resent: number };
const startBatchServer = startServer as (
  key: string,
) => Promise<{ env: Record<string, string>; stop: () => Promise<BatchSummary> }>;

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};
const has = (name: string) => process.argv.includes(`--${name}`);
const SIZES = arg("sizes", "1000,5000,20000").split(",").map(Number);
const CELLS = Number(arg("cells", "18"));
const ROUNDS = Number(arg("rounds", "3"));
const CONCURRENCY = arg("concurrency", "32");
const SC = arg("self-consistency", "1");
const MODE = arg("mode", "online") as "online" | "batch";
const KILL = has("kill");
const here = resolve(import.meta.dirname, "../../..");
const builds: { name: string; cli: string }[] = [
  { name: "this", cli: join(here, "apps/cli/dist/cli.js") },
  ...(has("before") ? [{ name: "before", cli: join(resolve(arg("before", "")), "cli.js") }] : []),
];
const KEY = "sk-scale-bench-not-a-real-key";

/** The grid's flags for a number of cells: 2 methods, +lm-guided, ×2 large LMs, ×3 seeds. */
function gridFlags(cells: number, base: string): string[] {
  const methods = cells === 2 ? "standard,cot" : "standard,cot,lm-guided";
  const large = cells >= 6 ? ["large-a", "large-b"] : ["large-a"];
  const ids = large.map((m) => (MODE === "batch" ? `openai:${m}` : `openai-compatible:${base}#${m}`));
  return [
    "--methods",
    methods,
    "--large",
    ids.join(","),
    "--small",
    "selector=extractive:selector",
    "--seeds",
    cells >= 18 ? "0,1,2" : "0",
    "--self-consistency",
    SC,
  ];
}

interface Outcome {
  peakMb: number;
  /** Peak RSS while run.jsonl was still growing: the run without the report built after it. */
  runPeakMb: number;
  seconds: number;
  calls: number;
  code: number;
  kill?: {
    killed: boolean;
    afterS: number;
    repeated: number;
    inFlightAtKill: number;
    lost: number;
    duplicated: number;
    records: number;
  };
}

/** The node process under /usr/bin/time (its only child). */
function nodePid(timePid: number): number | undefined {
  try {
    const out = execFileSync("ps", ["-o", "pid=", "--ppid", String(timePid)], { encoding: "utf8" });
    return Number(out.trim().split("\n")[0]) || undefined;
  } catch {
    return undefined;
  }
}

const hwmKb = (pid: number) => {
  try {
    return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
  } catch {
    return 0;
  }
};

/**
 * Runs the CLI under /usr/bin/time; resolves with its exit code, its peak RSS (kB) and the peak while
 * it was still writing run.jsonl (the run, before the report that follows it).
 */
function runCli(
  cli: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  runFile: string,
  kill?: { afterMs: number; onKill: () => void },
) {
  const timeFile = join(tmpdir(), `lmcot-scale-time-${process.pid}-${Math.random()}`);
  const child = spawn("/usr/bin/time", ["-f", "%M", "-o", timeFile, process.execPath, cli, ...args], {
    env,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (c) => {
    stderr = (stderr + c).slice(-4000);
  });
  const timer =
    kill &&
    setTimeout(() => {
      kill.onKill();
      killNode(child.pid!);
    }, kill.afterMs);
  let pid: number | undefined;
  let size = -1;
  let runKb = 0;
  const sampler = setInterval(() => {
    pid ??= nodePid(child.pid!);
    if (!pid) return;
    const now = existsSync(runFile) ? statSync(runFile).size : 0;
    if (now !== size) runKb = hwmKb(pid);
    size = now;
  }, 200);
  return new Promise<{ code: number; kb: number; runKb: number; stderr: string }>((done) =>
    child.on("exit", (code) => {
      clearInterval(sampler);
      clearTimeout(timer);
      const kb = existsSync(timeFile) ? Number(readFileSync(timeFile, "utf8").trim().split("\n").at(-1)) : 0;
      rmSync(timeFile, { force: true });
      done({ code: code ?? -1, kb, runKb: runKb || kb, stderr });
    }),
  );
}

/** SIGKILLs the node process under /usr/bin/time. */
function killNode(timePid: number) {
  const pid = nodePid(timePid);
  if (pid) process.kill(pid, "SIGKILL");
}

/** run.jsonl's record keys, streamed (a 20k × 18 run's file is larger than a string can be). */
async function records(runDir: string): Promise<string[]> {
  const file = join(runDir, "run.jsonl");
  if (!existsSync(file)) return [];
  const keys: string[] = [];
  for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity }))
    if (line.endsWith("}")) keys.push((JSON.parse(line) as { key: string }).key);
  return keys;
}

async function once(
  cli: string,
  file: string,
  size: number,
  server: GridServer | undefined,
): Promise<Outcome> {
  const dir = mkdtempSync(join(tmpdir(), "lmcot-scale-"));
  // The batch server runs in its own process: its memory is neither the CLI's nor this script's.
  const batch = MODE === "batch" ? await startBatchServer(KEY) : undefined;
  const env = { ...process.env, ...(batch ? batch.env : {}) };
  const base = server?.baseURL ?? "";
  const args = [
    "bench",
    "--datasets",
    `hotpotqa:${file}`,
    ...gridFlags(CELLS, base),
    "--concurrency",
    CONCURRENCY,
    "--out",
    join(dir, "run"),
    "--cache-dir",
    join(dir, "cache"),
    "--json",
    "--quiet",
    ...(batch ? ["--batch", "--batch-poll", "0.05"] : []),
  ];
  server?.resetCounts();
  const started = performance.now();
  const runFile = join(dir, "run", "run.jsonl");
  // Somewhere in the first 60% of the run, at ~150 items/s.
  // `--kill-within S`: somewhere in the first S seconds; by default in the first 60% of a run at ~150
  // items/s. A run that ends before its kill is reported (`killed: false`), not counted as a kill.
  const within = has("kill-within") ? Number(arg("kill-within", "0")) * 1000 : ((size * CELLS) / 150) * 600;
  const afterMs = 2000 + Math.random() * within;
  let killedAt = 0;
  let inFlightAtKill = 0;
  const killed = await runCli(
    cli,
    args,
    env,
    runFile,
    KILL
      ? {
          afterMs,
          onKill: () => {
            inFlightAtKill = server?.inFlight ?? 0;
            killedAt = afterMs;
          },
        }
      : undefined,
  );
  let first = killed;
  let kill: Outcome["kill"];
  if (KILL) {
    const before = await records(join(dir, "run"));
    const repeatedBefore = server?.repeated ?? 0;
    const resumed = await runCli(cli, args, env, runFile);
    // The peak of either process: the killed one and the one that resumed its run.
    first = { ...resumed, kb: Math.max(killed.kb, resumed.kb), runKb: Math.max(killed.runKb, resumed.runKb) };
    const after = await records(join(dir, "run"));
    const expected = size * CELLS;
    kill = {
      killed: killedAt > 0,
      afterS: Math.round(afterMs / 1000),
      records: before.length,
      inFlightAtKill,
      repeated: (server?.repeated ?? 0) - repeatedBefore,
      lost: expected - new Set(after).size,
      duplicated: after.length - new Set(after).size,
    };
  }
  const seconds = (performance.now() - started) / 1000;
  if (first.code !== 0) process.stderr.write(`exit ${first.code}: ${first.stderr}\n`);
  const sent = await batch?.stop();
  // In batch mode a paid call made twice is a custom id in two batches.
  if (kill && sent) kill.repeated = sent.resent;
  const calls = server?.requests ?? sent?.requests ?? 0;
  rmSync(dir, { recursive: true, force: true });
  return {
    peakMb: first.kb / 1024,
    runPeakMb: first.runKb / 1024,
    seconds,
    calls,
    code: first.code,
    ...(kill ? { kill } : {}),
  };
}

const stats = (xs: number[], digits = 0) => {
  const s = [...xs].sort((a, b) => a - b);
  const f = (x: number) => x.toFixed(digits);
  return `${f(s[0]!)} / ${f(s[Math.floor((s.length - 1) / 2)]!)} / ${f(s.at(-1)!)}`;
};

async function main() {
  const work = mkdtempSync(join(tmpdir(), "lmcot-scale-data-"));
  mkdirSync(work, { recursive: true });
  console.log(
    `mode ${MODE}, ${CELLS} cells, concurrency ${CONCURRENCY}, self-consistency ${SC}, ${ROUNDS} rounds${KILL ? ", killed and resumed" : ""}`,
  );
  console.log(
    "| build | questions | peak RSS MB, whole process (min / med / max) | peak RSS MB, run before report | wall s | calls/s | exit |",
  );
  console.log("|---|---|---|---|---|---|---|");
  for (const size of SIZES) {
    const file = join(work, `dev-${size}.json`);
    const gold = await writeSyntheticDev(file, size);
    const server = MODE === "online" ? await gridServer(gold) : undefined;
    const results = new Map<string, Outcome[]>(builds.map((b) => [b.name, []]));
    for (let round = 0; round < ROUNDS; round++)
      for (const b of round % 2 ? [...builds].reverse() : builds)
        results.get(b.name)!.push(await once(b.cli, file, size, server));
    await server?.close();
    for (const b of builds) {
      const rs = results.get(b.name)!;
      console.log(
        `| ${b.name} | ${size.toLocaleString("en-US")} (${(statSync(file).size / 1e6).toFixed(0)} MB) | ${stats(rs.map((r) => r.peakMb))} | ${stats(rs.map((r) => r.runPeakMb))} | ${stats(
          rs.map((r) => r.seconds),
          1,
        )} | ${stats(rs.map((r) => r.calls / r.seconds))} | ${[...new Set(rs.map((r) => r.code))].join(",")} |`,
      );
      for (const r of rs) if (r.kill) console.log(`  kill: ${JSON.stringify(r.kill)}`);
    }
  }
  rmSync(work, { recursive: true, force: true });
}

await main();
