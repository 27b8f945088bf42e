// Downloads a generated dev-sized (~50 MB) HotpotQA-shaped JSON array from a loopback server through
// getDataset, then streams its records; reports throughput and peak RSS above the starting point.
// Run: npx tsx bench/download-rss.ts [--mb 50] [--json]
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getDataset } from "../src/index";
import { hotpotFile, startDataServer } from "../test/data-server";

export interface DownloadRss {
  bytes: number;
  records: number;
  downloadMBps: number;
  readRecordsPerS: number;
  /** Peak RSS of this process (the server runs in another), and its growth over the run, in MB. */
  peakMB: number;
  peakGrowthMB: number;
}

/** The server runs in a child process, so its 50 MB body is not in the measured RSS. */
async function serveInChild(mb: number): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1] ?? "", "--serve", String(mb)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise<string>((resolve) =>
    child.stdout.once("data", (d) => resolve(String(d).trim())),
  );
  return { url, stop: () => child.kill() };
}

function body(mb: number): Buffer {
  const count = 7405;
  return hotpotFile(count, Math.max(0, Math.round((mb * 1e6) / count) - 330));
}

export async function measureDownload(mb: number): Promise<DownloadRss> {
  const server = await serveInChild(mb);
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 10);
  try {
    const options = {
      dataDir: mkdtempSync(join(tmpdir(), "lmcot-data-bench-")),
      download: true,
      entries: [{ name: "big:dev", url: `${server.url}/dev.json` }],
    };
    const t0 = performance.now();
    const local = await getDataset("big", "dev", options);
    const t1 = performance.now();
    let records = 0;
    for await (const _ of local.read()) records++;
    const t2 = performance.now();
    return {
      bytes: local.bytes,
      records,
      downloadMBps: local.bytes / 1e6 / ((t1 - t0) / 1000),
      readRecordsPerS: records / ((t2 - t1) / 1000),
      peakMB: peak / 1e6,
      peakGrowthMB: (peak - baseline) / 1e6,
    };
  } finally {
    clearInterval(sampler);
    server.stop();
  }
}

const serve = process.argv.indexOf("--serve");
if (serve > 0) {
  const server = await startDataServer({ "/dev.json": { body: body(Number(process.argv[serve + 1])) } });
  process.stdout.write(`${server.url}\n`);
} else if (process.argv[1]?.endsWith("download-rss.ts")) {
  const at = process.argv.indexOf("--mb");
  const result = await measureDownload(at > 0 ? Number(process.argv[at + 1]) : 50);
  if (process.argv.includes("--json")) console.log(JSON.stringify(result));
  else
    console.log(
      `${(result.bytes / 1e6).toFixed(1)} MB, ${result.records} records: download (sha256 included) ${result.downloadMBps.toFixed(0)} MB/s, read ${result.readRecordsPerS.toFixed(0)} records/s, peak RSS ${result.peakMB.toFixed(0)} MB (+${result.peakGrowthMB.toFixed(0)} MB)`,
    );
}
