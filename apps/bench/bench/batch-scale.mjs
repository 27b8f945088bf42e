/**
 * Batch mode at grid scale: `runBench` with `batch: true` over synthetic HotpotQA-format dev files
 * (1k / 5k / 20k questions, each with ten paragraphs of four sentences, ~6,000 characters of
 * context like HotpotQA's distractor setting), against `batchServer()` in its own process. Each run
 * is a fresh process; the implementations (this build, and `--before`, e.g. main's build) alternate
 * round by round. Per run: peak RSS, wall time, provider requests per second; min / median / max.
 *
 *   node bench/batch-scale.mjs [--questions 1000,5000,20000] [--cells 2|18] [--rounds 3]
 *                              [--before /work/main/apps/bench/dist/index.js] [--answer-chars 0]
 *
 * `--cells 2`: standard and CoT with one large LM; `--cells 18`: standard, CoT and LM-guided CoT ×
 * an OpenAI and an Anthropic model × seeds 0, 1, 2. `--answer-chars 5000`: every reply 5,000
 * characters, so each results file is ~50 MB (read by streaming).
 */
import { execFileSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startServer } from "./batch-server-process.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const flag = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const SIZES = flag("questions", "1000,5000,20000").split(",").map(Number);
const CELLS = flag("cells", "2");
const ROUNDS = Number(flag("rounds", "3"));
const BEFORE = flag("before", undefined);
const ANSWER_CHARS = flag("answer-chars", "0");
const KEY = "sk-bench-not-a-real-key-0123456789";
const impls = { after: join(here, "..", "dist", "index.js"), ...(BEFORE ? { before: BEFORE } : {}) };

/** A deterministic word stream (xorshift), so every run reads the same file. */
function words(seed) {
  let x = seed | 1;
  const vocab =
    "river city author born film director album band state county village school team war king".split(" ");
  return (n) =>
    Array.from({ length: n }, () => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return vocab[(x >>> 0) % vocab.length];
    }).join(" ");
}

/** `n` HotpotQA dev-format questions (the official JSON array), written as they are made. */
function devFile(dir, n) {
  const path = join(dir, `hotpot_dev_${n}.json`);
  const fd = openSync(path, "w");
  const w = words(n);
  writeSync(fd, "[");
  for (let i = 0; i < n; i++) {
    const context = Array.from({ length: 10 }, (_, p) => [
      `Title ${i}-${p}`,
      Array.from({ length: 4 }, () => `${w(24)}.`),
    ]);
    const q = {
      _id: `q${i}`,
      question: `Which ${w(12)}?`,
      answer: w(2),
      type: i % 5 ? "bridge" : "comparison",
      level: "medium",
      supporting_facts: [
        [`Title ${i}-0`, 0],
        [`Title ${i}-1`, 1],
      ],
      context,
    };
    writeSync(fd, `${i ? "," : ""}${JSON.stringify(q)}`);
  }
  writeSync(fd, "]");
  closeSync(fd);
  return path;
}

async function measure(impl, file) {
  const server = await startServer(KEY, ANSWER_CHARS);
  const out = mkdtempSync(join(tmpdir(), "lmcot-batch-scale-run-"));
  try {
    const stdout = execFileSync(
      process.execPath,
      [join(here, "batch-scale-child.mjs"), impl, file, join(out, "run"), CELLS],
      { env: { ...process.env, ...server.env, CI: "1" }, maxBuffer: 1 << 20 },
    );
    return { ...JSON.parse(stdout.toString()), server: await server.stop() };
  } catch (error) {
    await server.stop();
    return { failed: String(error.message).slice(0, 200) };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0], median: s[Math.floor(s.length / 2)], max: s.at(-1) };
};
const fmt = (x, digits = 0) =>
  `${x.min.toFixed(digits)} / ${x.median.toFixed(digits)} / ${x.max.toFixed(digits)}`;

const dataDir = mkdtempSync(join(tmpdir(), "lmcot-batch-scale-data-"));
console.log(`| questions | cells | build | peak RSS MB | wall s | requests/s | items done |`);
console.log(`| --- | --- | --- | --- | --- | --- | --- |`);
try {
  for (const n of SIZES) {
    const file = devFile(dataDir, n);
    const runs = Object.fromEntries(Object.keys(impls).map((k) => [k, []]));
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 ? Object.keys(impls).reverse() : Object.keys(impls);
      for (const name of order) {
        const m = await measure(impls[name], file);
        runs[name].push(m);
        process.stderr.write(`${n} × ${CELLS} cells, ${name}, round ${r + 1}: ${JSON.stringify(m)}\n`);
      }
    }
    for (const [name, ms] of Object.entries(runs)) {
      const ok = ms.filter((m) => !m.failed);
      if (!ok.length) {
        console.log(`| ${n} | ${CELLS} | ${name} | failed: ${ms[0]?.failed} | | | |`);
        continue;
      }
      console.log(
        `| ${n} | ${CELLS} | ${name} | ${fmt(stats(ok.map((m) => m.rssMb)))} | ${fmt(stats(ok.map((m) => m.ms / 1000)), 1)} | ${fmt(stats(ok.map((m) => (m.calls * 1000) / m.ms)))} | ${ok[0].done} / ${ok[0].total} |`,
      );
    }
    rmSync(file, { force: true });
  }
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
