/**
 * flan-t5-small-sized KD and PPO steps, ours (bench/flan-worker.ts; `--engine onnxruntime`, the
 * default, or `tfjs`) against PyTorch on
 * the CPU (bench/torch_t5_step.py, plain torch T5 math, 2 threads) on the same random weights
 * (flan-t5-small's config.json written by @lmcot/model-writer) and the same shapes, on this machine.
 * Every round runs each side in a fresh process, alternating which goes first, so both see the same
 * load; each process reports its own step times and its peak RSS (the kernel's high-water mark for
 * the whole process). The table gives min / median / max over rounds of the last (warm) step.
 *
 * PyTorch: Debian's python3-torch under /usr/bin/python3 (the python3 first on PATH may be another
 * one without apt packages). Debian builds it against the generic BLAS, which with only libblas3
 * installed is the netlib reference BLAS (~1–2 GFLOP/s: not a fair PyTorch); libopenblas0-pthread
 * takes libblas.so.3 over through update-alternatives. When either is missing this script says so
 * and, as root, runs `apt-get install -y python3-torch libopenblas0-pthread`.
 *
 * Both sides run with GLIBC_TUNABLES=glibc.malloc.mmap_threshold=131072:glibc.malloc.arena_max=2, as `lmcot train` runs its
 * onnxruntime engine (see apps/cli/src/malloc-tunables.ts); `--no-tunables` leaves glibc's default.
 *
 * Run (after `npx -y pnpm@10.34.9 --filter @lmcot/train build`):
 *   npx tsx bench/flan-vs-torch.ts [--rounds 3] [--modes kd,ppo] [--steps 2] [--size small]
 *     [--engine onnxruntime|tfjs] [--no-tunables] [--json out.json]
 */
import { execFileSync, spawnSync } from "node:child_process";
import { appendFileSync, existsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { type FlanSize, writeFlanFolder } from "./flan-fixture";

const here = dirname(fileURLToPath(import.meta.url));
const PYTHON = "/usr/bin/python3";
const { values: a } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    modes: { type: "string", default: "kd,ppo" },
    steps: { type: "string", default: "2" },
    size: { type: "string", default: "small" },
    batch: { type: "string", default: "8" },
    root: { type: "string", default: join(tmpdir(), "lmcot-flan-bench") },
    json: { type: "string" },
    engine: { type: "string", default: "onnxruntime" },
    "no-tunables": { type: "boolean", default: false },
  },
});
const TUNABLES = "glibc.malloc.mmap_threshold=131072:glibc.malloc.arena_max=2";

interface Round {
  round: number;
  side: "ours" | "pytorch";
  mode: string;
  stepSeconds: number[];
  tokensPerStep: number;
  peakRssMb: number;
  rolloutSeconds?: number[];
  torch?: string;
}

function ensureTorch(): string {
  const probe = () =>
    spawnSync(PYTHON, ["-c", "import torch; print(torch.__version__)"], { encoding: "utf8" });
  const openblas = () => existsSync("/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3");
  let found = probe();
  if (found.status !== 0 || !openblas()) {
    const packages = ["python3-torch", "libopenblas0-pthread"];
    const why = found.status !== 0 ? `not importable by ${PYTHON}` : "on the reference BLAS";
    console.log(`PyTorch: ${why}; installing: apt-get install -y ${packages.join(" ")}`);
    if (process.getuid?.() !== 0)
      throw new Error(`run: sudo apt-get install -y ${packages.join(" ")} (then this again)`);
    execFileSync("apt-get", ["install", "-y", ...packages], { stdio: "inherit" });
    found = probe();
    if (found.status !== 0) throw new Error(`python3-torch installed but ${PYTHON} cannot import torch`);
  }
  return found.stdout.trim();
}

function run(side: Round["side"], mode: string, folder: string): Round | undefined {
  const common = [
    "--folder",
    folder,
    "--mode",
    mode,
    "--steps",
    a.steps as string,
    "--batch",
    a.batch as string,
  ];
  const [cmd, args] =
    side === "ours"
      ? [
          process.execPath,
          ["--import", "tsx", join(here, "flan-worker.ts"), ...common, "--engine", a.engine as string],
        ]
      : [PYTHON, [join(here, "torch_t5_step.py"), ...common, "--threads", "2"]];
  const env = a["no-tunables"] ? process.env : { ...process.env, GLIBC_TUNABLES: TUNABLES };
  const child = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 1 << 26, env });
  const line = child.stdout.trim().split("\n").at(-1) ?? "";
  if (child.status === 0 && line.startsWith("{")) return JSON.parse(line) as Round;
  // A failed side is reported and left out of the table, not allowed to lose the other rounds.
  console.log(`${side} ${mode} failed (exit ${child.status}):\n${child.stderr.slice(-3000)}`);
  return undefined;
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((x, y) => x - y);
  return { min: s[0] as number, median: s[Math.floor(s.length / 2)] as number, max: s.at(-1) as number };
};
const warm = (r: Round) => r.stepSeconds.at(-1) as number;

const torchVersion = ensureTorch();
if (!existsSync(join(here, "..", "dist", "index.js")))
  throw new Error("build the package first: npx -y pnpm@10.34.9 --filter @lmcot/train build");
const folder = await writeFlanFolder(a.root as string, a.size as FlanSize);
const modes = (a.modes as string).split(",");
const rounds: Round[] = [];
for (let r = 0; r < Number(a.rounds); r++)
  for (const mode of modes) {
    const order: Round["side"][] = r % 2 === 0 ? ["ours", "pytorch"] : ["pytorch", "ours"];
    for (const side of order) {
      const result = run(side, mode, folder);
      if (result === undefined) continue;
      result.round = r + 1;
      rounds.push(result);
      // Each round as it ends, so a long run cut short still has its measurements.
      if (a.json) appendFileSync(`${a.json}.rounds.jsonl`, `${JSON.stringify(result)}\n`);
      console.log(
        `round ${r + 1} ${mode} ${side}: warm step ${warm(result).toFixed(2)} s, peak RSS ${Math.round(result.peakRssMb)} MB`,
      );
    }
  }

console.log(
  `\nflan-t5-${a.size} (random weights), batch ${a.batch}; KD: 256 input + 64 target tokens, AdamW; PPO: ${a.batch} rollouts × 64 new tokens + 1 epoch of 2 mini-batches. Ours: ${a.engine} engine. PyTorch ${torchVersion}, 2 threads. ${a.rounds} interleaved rounds${a["no-tunables"] ? "" : `, GLIBC_TUNABLES=${TUNABLES}`}.`,
);
console.log(
  "| step | side | step s (min / median / max) | tokens/s (median) | peak RSS MB (max) | ours ÷ PyTorch tokens/s |",
);
console.log("|---|---|---|---|---|---|");
const rows = [];
for (const mode of modes) {
  const pick = (side: string) => rounds.filter((r) => r.mode === mode && r.side === side);
  const ours = pick("ours");
  const torch = pick("pytorch");
  // Ratio per round (same load for both), then the median of those.
  // Only rounds where both sides finished are paired.
  const paired = ours.flatMap((o) => {
    const t = torch.find((x) => x.round === o.round);
    return t === undefined ? [] : [warm(t) / warm(o)];
  });
  const ratio = paired.length > 0 ? stats(paired).median : Number.NaN;
  for (const [side, list] of [
    [`ours (${a.engine})`, ours],
    ["PyTorch CPU", torch],
  ] as const) {
    if (list.length === 0) continue;
    const t = stats(list.map(warm));
    const tps = (list[0]?.tokensPerStep ?? 0) / t.median;
    const rss = Math.max(...list.map((r) => r.peakRssMb));
    rows.push({ mode, side, step: t, tokensPerSecond: tps, peakRssMb: rss, ratio });
    console.log(
      `| ${mode} | ${side} | ${t.min.toFixed(2)} / ${t.median.toFixed(2)} / ${t.max.toFixed(2)} | ${Math.round(tps)} | ${Math.round(rss)} | ${side.startsWith("ours") ? `${ratio.toFixed(2)}×` : ""} |`,
    );
  }
}
if (a.json) writeFileSync(a.json, `${JSON.stringify({ rounds, rows }, null, 2)}\n`);
