// Benchmark: `lmcot eval` against the official `hotpot_evaluate_v1.py` on the same dev-sized files
// (7,405 items), in interleaved rounds on one machine, the numbers asserted identical:
//   process  whole `python3 hotpot_evaluate_v1.py pred gold` vs whole `node dist/cli.js eval …`
//            (which also computes 95% bootstrap CIs the script has not)
//   scoring  each side parses both files with its own JSON, then times only its scoring: the
//            script's own eval() with its json.load handed the parsed objects, vs officialEval()
// The official script is not shipped: pass its path. Build the packages and the CLI first.
//   npx tsx bench/eval-vs-official.mts --script /path/to/hotpot_evaluate_v1.py [--n 7405] [--rounds 7] [--bin dist-bench/cli.js]
//     [--baseline /path/to/other/dist/cli.js]   another build (e.g. main's) in the same interleaved rounds: before / after
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { samplePath } from "@lmcot/datasets";

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
const rounds = Number(arg("rounds") ?? 7);
// --bin: a copy of the build (cp -r dist dist-bench), so a rebuild meanwhile does not disturb the run.
const cli = arg("bin") ?? join(import.meta.dirname, "..", "dist", "cli.js");
const baseline = arg("baseline");
const metricsModule = pathToFileURL(createRequire(import.meta.url).resolve("@lmcot/metrics")).href;

type Metrics = Record<string, number>;

/** A dev-sized gold file and an official prediction file from the bundled sample, with some misses. */
function writeFiles(dir: string): { gold: string; pred: string } {
  const samples = readFileSync(samplePath("hotpotqa"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { _id: string; answer: string; supporting_facts?: [string, number][] });
  const variants = [
    (a: string) => a,
    (a: string) => a.toUpperCase(),
    (a: string) => `the ${a}.`,
    () => "unknown",
    (a: string) => `${a} extra words`,
    () => "yes",
  ];
  const gold: unknown[] = [];
  const prediction = { answer: {} as Record<string, string>, sp: {} as Record<string, unknown> };
  for (let i = 0; i < n; i++) {
    const s = samples[i % samples.length]!;
    const id = `${s._id}-${i}`;
    gold.push({ ...s, _id: id });
    if (i % 50 === 7) continue;
    prediction.answer[id] = variants[i % variants.length]!(s.answer);
    const facts = s.supporting_facts ?? [];
    prediction.sp[id] = i % 3 === 0 ? facts.slice(0, 1) : [...facts, ["Distractor", 0]];
  }
  const files = { gold: join(dir, "gold.json"), pred: join(dir, "pred.json") };
  writeFileSync(files.gold, JSON.stringify(gold));
  writeFileSync(files.pred, JSON.stringify(prediction));
  // The script imports ujson; where it is not installed, stand in the standard library's json.
  writeFileSync(join(dir, "ujson.py"), "from json import *\n");
  return files;
}

// Imports the official script by path and runs its own eval() with json.load handing back the
// objects parsed beforehand, so only its scoring loop is timed. Both drivers collect the parse's
// garbage before the clock starts.
const PYTHON_DRIVER = `import contextlib, gc, importlib.util, io, json, sys, time
script, pred_file, gold_file = sys.argv[1:4]
spec = importlib.util.spec_from_file_location("hotpot_evaluate_v1", script)
official = importlib.util.module_from_spec(spec)
spec.loader.exec_module(official)
t0 = time.perf_counter()
with open(pred_file) as f: pred = json.load(f)
with open(gold_file) as f: gold = json.load(f)
t1 = time.perf_counter()
parsed = {pred_file: pred, gold_file: gold}
official.json = type("Parsed", (), {"load": staticmethod(lambda f: parsed[f.name])})
out = io.StringIO()
gc.collect()
t2 = time.perf_counter()
with contextlib.redirect_stdout(out):
    official.eval(pred_file, gold_file)
t3 = time.perf_counter()
print(json.dumps({"load": t1 - t0, "scoring": t3 - t2, "printed": out.getvalue().strip().splitlines()[-1]}))
`;

const NODE_DRIVER = `import { readFileSync } from "node:fs";
const [metricsModule, predFile, goldFile] = process.argv.slice(2);
const { officialEval } = await import(metricsModule);
const t0 = performance.now();
const pred = JSON.parse(readFileSync(predFile, "utf8"));
const gold = JSON.parse(readFileSync(goldFile, "utf8"));
const t1 = performance.now();
globalThis.gc();
const t2 = performance.now();
const { metrics } = officialEval("hotpotqa", gold, pred);
const t3 = performance.now();
// Then warmed up by the JIT, as a long-lived process (a server, a notebook) would see it.
const warm = [];
for (let i = 0; i < 5; i++) {
  const t = performance.now();
  officialEval("hotpotqa", gold, pred);
  warm.push(performance.now() - t);
}
warm.sort((a, b) => a - b);
console.log(JSON.stringify({ load: (t1 - t0) / 1000, scoring: (t3 - t2) / 1000, warm: warm[2] / 1000, metrics }));
`;

/** Runs a process, returning its stdout and wall time in ms; a failure ends the benchmark. */
// GNU time, where there is one, also gives each process's CPU time (user + system), which other
// work on the machine disturbs far less than wall time.
const TIME = "/usr/bin/time";
const cpuTime = existsSync(TIME);

/** Runs a process: its stdout, wall time and CPU time in ms; a failure ends the benchmark. */
function timed(command: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  const [file, argv] = cpuTime ? [TIME, ["-f", "cpu %U %S", command, ...args]] : [command, args];
  const t = performance.now();
  const r = spawnSync(file, argv, { encoding: "utf8", env, maxBuffer: 1 << 26 });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`${command} ${args.join(" ")} failed: ${r.stderr}`);
  const cpu = /cpu ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr);
  return { stdout: r.stdout, ms, cpuMs: cpu ? (Number(cpu[1]) + Number(cpu[2])) * 1000 : Number.NaN };
}

/** The dict `hotpot_evaluate_v1.py` prints (Python's float repr is JavaScript's shortest form). */
const pythonDict = (line: string): Metrics => JSON.parse(line.replace(/'/g, '"'));

function same(a: Metrics, b: Metrics, what: string): void {
  const keys = Object.keys(a);
  const differ = keys.filter((k) => a[k] !== b[k]);
  if (differ.length || keys.length !== 12)
    throw new Error(`${what}: numbers differ on ${differ.join(", ") || "the metric names"}`);
}

const loadBefore = loadavg();
const dir = mkdtempSync(join(tmpdir(), "lmcot-eval-bench-"));
const { gold, pred } = writeFiles(dir);
writeFileSync(join(dir, "score.py"), PYTHON_DRIVER);
writeFileSync(join(dir, "score.mjs"), NODE_DRIVER);
const pythonEnv = { ...process.env, PYTHONPATH: dir };

const times = {
  pyProcess: [],
  lmProcess: [],
  pyScoring: [],
  lmScoring: [],
  pyLoad: [],
  lmLoad: [],
  lmWarm: [],
  pyCpu: [],
  lmCpu: [],
  baseProcess: [],
  baseCpu: [],
} as Record<string, number[]>;
const evalArgs = [
  "eval",
  "--dataset",
  "hotpotqa",
  "--gold",
  gold,
  "--pred",
  pred,
  "--allow-missing",
  "--json",
];
const runs: Record<string, () => void> = {
  pyProcess() {
    const r = timed("python3", [script, pred, gold], pythonEnv);
    same(pythonDict(r.stdout.trim().split("\n").at(-1)!), reference, "python process");
    times.pyProcess!.push(r.ms);
    times.pyCpu!.push(r.cpuMs);
  },
  lmProcess() {
    const r = timed(process.execPath, [cli, ...evalArgs]);
    same(JSON.parse(r.stdout).metrics, reference, "lmcot eval");
    times.lmProcess!.push(r.ms);
    times.lmCpu!.push(r.cpuMs);
  },
  baseProcess() {
    const r = timed(process.execPath, [baseline!, ...evalArgs]);
    same(JSON.parse(r.stdout).metrics, reference, "lmcot eval (baseline)");
    times.baseProcess!.push(r.ms);
    times.baseCpu!.push(r.cpuMs);
  },
  pyScoring() {
    const out = JSON.parse(timed("python3", [join(dir, "score.py"), script, pred, gold], pythonEnv).stdout);
    same(pythonDict(out.printed), reference, "python scoring");
    times.pyScoring!.push(out.scoring * 1000);
    times.pyLoad!.push(out.load * 1000);
  },
  lmScoring() {
    const out = JSON.parse(
      timed(process.execPath, ["--expose-gc", join(dir, "score.mjs"), metricsModule, pred, gold]).stdout,
    );
    same(out.metrics, reference, "officialEval");
    times.lmScoring!.push(out.scoring * 1000);
    times.lmWarm!.push(out.warm * 1000);
    times.lmLoad!.push(out.load * 1000);
  },
};

// The official numbers, once, untimed: every timed run on both sides must print exactly these.
const reference = pythonDict(
  timed("python3", [script, pred, gold], pythonEnv).stdout.trim().split("\n").at(-1)!,
);
try {
  for (let r = 0; r < rounds; r++) {
    // One Python run, one lmcot run, alternating which goes first.
    const order = r % 2 === 0 ? ["py", "lm"] : ["lm", "py"];
    // With a baseline build, the three whole processes take turns going first.
    const processes = baseline ? ["py", "lm", "base"].map((_, i, all) => all[(i + r) % 3]!) : order;
    for (const side of processes) runs[`${side}Process`]!();
    for (const side of order) runs[`${side}Scoring`]!();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const stats = (xs: number[]) => {
  const s = sorted(xs);
  return { min: s[0]!, median: s[Math.floor(s.length / 2)]!, max: s.at(-1)! };
};
const ms = (x: number) => `${x.toFixed(0)} ms`;
const row = (label: string, xs: number[]) => {
  const s = stats(xs);
  return `  ${label.padEnd(24)} min ${ms(s.min).padStart(8)}  median ${ms(s.median).padStart(8)}  max ${ms(s.max).padStart(8)}`;
};
// Speed-up per round (the runs of one round are back to back, under the same load), then the
// min, median and max of those pairwise ratios.
const ratios = (py: number[], lm: number[]) => {
  const r = stats(py.map((p, i) => p / lm[i]!));
  return `  lmcot is faster by        min ${r.min.toFixed(2)}×  median ${r.median.toFixed(2)}×  max ${r.max.toFixed(2)}×  (pairwise, per round)`;
};
const load = (l: number[]) => l.map((x) => x.toFixed(1)).join(" ");
console.log(
  `${n} items, ${rounds} interleaved rounds; numbers identical (all 12 metrics, bit for bit) in every run; load average ${load(loadBefore)} before, ${load(loadavg())} after`,
);
console.log("process (whole command, start-up and file reading included; lmcot also computes its CIs):");
console.log(row("python3 hotpot_evaluate", times.pyProcess!));
console.log(row("lmcot eval", times.lmProcess!));
console.log(ratios(times.pyProcess!, times.lmProcess!));
if (baseline) {
  console.log(row("baseline lmcot eval", times.baseProcess!));
  console.log(ratios(times.pyProcess!, times.baseProcess!).replace("lmcot is", "baseline is"));
}
if (cpuTime) {
  console.log("process CPU time (user + system, all threads):");
  console.log(row("python3 hotpot_evaluate", times.pyCpu!));
  console.log(row("lmcot eval", times.lmCpu!));
  console.log(ratios(times.pyCpu!, times.lmCpu!));
  if (baseline) {
    console.log(row("baseline lmcot eval", times.baseCpu!));
    console.log(ratios(times.pyCpu!, times.baseCpu!).replace("lmcot is", "baseline is"));
  }
}
console.log(
  "scoring only, on already-parsed objects, each in a fresh process (official eval() vs officialEval(): its first call, as lmcot eval makes it, and warm, the median of 5 more calls):",
);
console.log(row("official eval()", times.pyScoring!));
console.log(row("officialEval(), 1st call", times.lmScoring!));
console.log(ratios(times.pyScoring!, times.lmScoring!));
console.log(row("officialEval(), warm", times.lmWarm!));
console.log(ratios(times.pyScoring!, times.lmWarm!));
console.log("for reference, parsing both files whole with each language's standard JSON:");
console.log(row("python json.load", times.pyLoad!));
console.log(row("JSON.parse", times.lmLoad!));
