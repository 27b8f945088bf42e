// Streams a ≥ 1 GB HotpotQA-format JSON array through readDataset and reports peak RSS and records/s,
// against JSON.parse of a 100 MB file of the same records as the reference. Run: npx tsx bench/stream-rss.ts
import { createWriteStream, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readDataset, samplePath } from "../src/index";

const targetBytes = Number(process.env.BENCH_BYTES ?? 1.05e9);
const records = readFileSync(samplePath("hotpotqa"), "utf8").trim().split("\n");

async function writeArray(path: string, bytes: number): Promise<number> {
  const out = createWriteStream(path);
  let written = 0;
  let n = 0;
  out.write("[\n");
  while (written < bytes) {
    const line = `${n ? ",\n" : ""}${records[n % records.length]!.replace(/"_id": "/, `"_id": "${n}-`)}`;
    if (!out.write(line)) await new Promise((r) => out.once("drain", r));
    written += line.length;
    n++;
  }
  out.write("\n]\n");
  await new Promise((r) => out.end(r));
  return n;
}

let peak = 0;
const sampler = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss);
}, 20);

const big = join(tmpdir(), "lmcot-stream-bench.json");
const small = join(tmpdir(), "lmcot-parse-bench.json");
try {
  const n = await writeArray(big, targetBytes);
  const m = await writeArray(small, 1e8);
  const size = statSync(big).size;
  global.gc?.();
  peak = process.memoryUsage().rss;
  const baseline = peak;
  let count = 0;
  let t = performance.now();
  for await (const _ of readDataset(big)) count++;
  const streamSeconds = (performance.now() - t) / 1000;
  const streamPeak = peak;
  if (count !== n) throw new Error(`read ${count} records, wrote ${n}`);

  peak = process.memoryUsage().rss;
  t = performance.now();
  const parsed = JSON.parse(readFileSync(small, "utf8")) as unknown[];
  const parseSeconds = (performance.now() - t) / 1000;
  const parsePeak = peak;
  const mb = (b: number) => (b / 1048576).toFixed(0);
  console.log(`file: ${(size / 1e9).toFixed(2)} GB, ${n} records`);
  console.log(
    `readDataset (stream + validate + map): ${(n / streamSeconds).toFixed(0)} records/s, ${(size / 1048576 / streamSeconds).toFixed(0)} MB/s, peak RSS ${mb(streamPeak)} MB (start ${mb(baseline)} MB)`,
  );
  console.log(
    `reference JSON.parse of a ${(statSync(small).size / 1e6).toFixed(0)} MB file (${parsed.length} records): ${(m / parseSeconds).toFixed(0)} records/s, peak RSS ${mb(parsePeak)} MB`,
  );
  console.log(
    `speed ratio stream / JSON.parse: ${(n / streamSeconds / (m / parseSeconds)).toFixed(2)}; target peak RSS < 200 MB: ${streamPeak < 200 * 1048576 ? "met" : "NOT met"}`,
  );
} finally {
  clearInterval(sampler);
  rmSync(big, { force: true });
  rmSync(small, { force: true });
}
