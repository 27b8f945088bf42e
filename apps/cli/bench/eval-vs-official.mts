// Benchmark: `lmcot eval` (evaluateFiles) vs the official `hotpot_evaluate_v1.py` on the same
// dev-sized files, same machine, same run. The official script is not shipped: pass its path.
//   npx tsx bench/eval-vs-official.ts --script /path/to/hotpot_evaluate_v1.py [--n 7405] [--repeat 5]
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { samplePath } from "@lmcot/datasets";
import { type OfficialGold, officialEval } from "@lmcot/metrics";
import { evaluateFiles } from "../src/commands/eval";

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const script = arg("script") ?? process.env.HOTPOT_EVAL_SCRIPT;
if (!script) {
  console.log(
    "skipped: pass --script /path/to/hotpot_evaluate_v1.py (from github.com/hotpotqa/hotpot) to compare",
  );
  process.exit(0);
}
const n = Number(arg("n") ?? 7405);
const repeat = Number(arg("repeat") ?? 5);

const samples = readFileSync(samplePath("hotpotqa"), "utf8")
  .trim()
  .split("\n")
  .map((l) => JSON.parse(l) as OfficialGold & { context: unknown });
const variants = [
  (a: string) => a,
  (a: string) => a.toUpperCase(),
  (a: string) => `the ${a}.`,
  () => "unknown",
  (a: string) => `${a} extra words`,
  () => "yes",
];
const gold: OfficialGold[] = [];
const prediction = { answer: {} as Record<string, string>, sp: {} as Record<string, [string, number][]> };
for (let i = 0; i < n; i++) {
  const s = samples[i % samples.length]!;
  const id = `${s._id}-${i}`;
  gold.push({ ...s, _id: id });
  if (i % 50 === 7) continue; // some missing predictions
  prediction.answer[id] = variants[i % variants.length]!(s.answer);
  const facts = s.supporting_facts ?? [];
  prediction.sp[id] = i % 3 === 0 ? facts.slice(0, 1) : [...facts, ["Distractor", 0]];
}
const dir = mkdtempSync(join(tmpdir(), "lmcot-metrics-bench-"));
const goldFile = join(dir, "gold.json");
const predFile = join(dir, "pred.json");
writeFileSync(goldFile, JSON.stringify(gold));
writeFileSync(predFile, JSON.stringify(prediction));
// The script imports ujson; where it is not installed, stand in the standard library's json.
writeFileSync(join(dir, "ujson.py"), "from json import *\n");

// Python: json.load of both files, then the script's scoring loop (its own eval()), timed apart.
const pythonTotal: number[] = [];
const pythonScoring: number[] = [];
let official: Record<string, number> = {};
for (let r = 0; r < repeat; r++) {
  const out = execFileSync(
    "python3",
    [
      "-c",
      `import sys, time, io, contextlib, ast, json
sys.path[:0] = [${JSON.stringify(dir)}, ${JSON.stringify(dirname(script))}]
import hotpot_evaluate_v1 as h
t0 = time.perf_counter()
pred = json.load(open(${JSON.stringify(predFile)})); gold = json.load(open(${JSON.stringify(goldFile)}))
t1 = time.perf_counter()
buf = io.StringIO()
with contextlib.redirect_stdout(buf):
    h.eval(${JSON.stringify(predFile)}, ${JSON.stringify(goldFile)})
t2 = time.perf_counter()
metrics = ast.literal_eval(buf.getvalue().strip().split("\\n")[-1])
print(json.dumps({"total": t2 - t1, "load": t1 - t0, "metrics": metrics}))`,
    ],
    { encoding: "utf8" },
  );
  const parsed = JSON.parse(out) as { total: number; load: number; metrics: Record<string, number> };
  pythonTotal.push(parsed.total * 1000);
  pythonScoring.push((parsed.total - parsed.load) * 1000);
  official = parsed.metrics;
}

const ourTotal: number[] = [];
const ourNoCi: number[] = [];
const ourScoring: number[] = [];
let ours: Record<string, number> = {};
const parsedGold = JSON.parse(readFileSync(goldFile, "utf8")) as OfficialGold[];
const parsedPred = JSON.parse(readFileSync(predFile, "utf8"));
for (let r = 0; r < repeat; r++) {
  let t = performance.now();
  ours = (
    await evaluateFiles({ dataset: "hotpotqa", gold: goldFile, pred: predFile, allowMissing: true })
  )[0]!.metrics;
  ourTotal.push(performance.now() - t);
  t = performance.now();
  await evaluateFiles({ dataset: "hotpotqa", gold: goldFile, pred: predFile, ci: false, allowMissing: true });
  ourNoCi.push(performance.now() - t);
  t = performance.now();
  officialEval("hotpotqa", parsedGold, parsedPred);
  ourScoring.push(performance.now() - t);
}
rmSync(dir, { recursive: true, force: true });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mismatches = Object.keys(official).filter((k) => ours[k] !== official[k]);
const ratio = (a: number[], b: number[]) => (median(a) / median(b)).toFixed(1);
console.log(`items: ${n}; median of ${repeat} runs each, in-process after start-up`);
console.log(
  `end to end (read files + score): official ${median(pythonTotal).toFixed(0)} ms, lmcot ${median(ourNoCi).toFixed(0)} ms → ${ratio(pythonTotal, ourNoCi)}× faster`,
);
console.log(
  `  lmcot with its 95% bootstrap CIs of EM and F1 (1,000 resamples each): ${median(ourTotal).toFixed(0)} ms → ${ratio(pythonTotal, ourTotal)}×`,
);
console.log(
  `scoring only (files already parsed): official ${median(pythonScoring).toFixed(0)} ms, lmcot ${median(ourScoring).toFixed(0)} ms → ${ratio(pythonScoring, ourScoring)}× faster`,
);
console.log(
  mismatches.length === 0
    ? `numbers: identical (bit for bit) on all ${Object.keys(official).length} metrics`
    : `numbers DIFFER: ${mismatches.join(", ")}`,
);
