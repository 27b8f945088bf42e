import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const tsx = join(__dirname, "../../../node_modules/.bin/tsx");

describe("a dev-sized (~50 MB) file", () => {
  it("is downloaded and read in bounded memory", async () => {
    // In a fresh process (bench/download-rss.ts), with the server in another, so RSS is this alone.
    const { stdout } = await run(tsx, [join(__dirname, "../bench/download-rss.ts"), "--mb", "50", "--json"]);
    const result = JSON.parse(stdout) as { bytes: number; records: number; peakGrowthMB: number };
    expect(result.bytes).toBeGreaterThan(45e6);
    expect(result.records).toBe(7405);
    // The file is 50 MB; holding it (or its records) would cost several times that.
    expect(result.peakGrowthMB).toBeLessThan(150);
  }, 120_000);
});
