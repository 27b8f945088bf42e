// Benchmark: start-up of the built `lmcot` against `node -e 0`, as a ratio within each round so load
// on the machine cancels out. Rounds interleave every command; min / median / max of each ratio.
//   pnpm --filter @lmcot/cli build && npx tsx bench/startup.mts [--rounds 20] [--bin dist/cli.js]
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { samplePath } from "@lmcot/datasets";

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const rounds = Number(arg("rounds") ?? 20);
const bin = arg("bin") ?? join(import.meta.dirname, "..", "dist", "cli.js");

// A small eval: the bundled HotpotQA sample scored against its own answers.
const dir = mkdtempSync(join(tmpdir(), "lmcot-startup-"));
const gold = samplePath("hotpotqa");
const answers = Object.fromEntries(
  readFileSync(gold, "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as { _id: string; answer: string })
    .map((r) => [r._id, r.answer]),
);
const pred = join(dir, "pred.json");
writeFileSync(pred, JSON.stringify({ answer: answers, sp: {} }));

const runs: Record<string, string[]> = {
  "node -e 0": ["-e", "0"],
  "lmcot --help": [bin, "--help"],
  "lmcot eval --help": [bin, "eval", "--help"],
  "lmcot eval (57 items)": [bin, "eval", "--dataset", "hotpotqa", "--gold", gold, "--pred", pred],
  "lmcot models": [bin, "models"],
};

function timeMs(args: string[]): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"] });
  if (r.status !== 0) throw new Error(`node ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const times: Record<string, number[]> = Object.fromEntries(Object.keys(runs).map((k) => [k, []]));
const ratios: Record<string, number[]> = Object.fromEntries(Object.keys(runs).map((k) => [k, []]));
for (const args of Object.values(runs)) timeMs(args); // warm the file cache
for (let round = 0; round < rounds; round++) {
  const node = timeMs(runs["node -e 0"]!);
  times["node -e 0"]!.push(node);
  ratios["node -e 0"]!.push(1);
  for (const [name, args] of Object.entries(runs).slice(1)) {
    const ms = timeMs(args);
    times[name]!.push(ms);
    ratios[name]!.push(ms / node);
  }
}

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const stats = (xs: number[]) => {
  const s = sorted(xs);
  return [s[0]!, s[Math.floor(s.length / 2)]!, s[s.length - 1]!];
};
console.log(
  `${rounds} interleaved rounds, Node ${process.version}; ratio = command / node -e 0 in the same round`,
);
console.log(`${"command".padEnd(24)} ${"ms min / median / max".padEnd(24)} ratio min / median / max`);
for (const name of Object.keys(runs)) {
  const [t0, t1, t2] = stats(times[name]!).map((x) => x.toFixed(0));
  const [r0, r1, r2] = stats(ratios[name]!).map((x) => x.toFixed(2));
  console.log(`${name.padEnd(24)} ${`${t0} / ${t1} / ${t2}`.padEnd(24)} ${r0} / ${r1} / ${r2}`);
}
