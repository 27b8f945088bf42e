import { execFile, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { hotpotFile, startDataServer } from "./data-server";

const run = promisify(execFile);
const tsx = join(__dirname, "../../../node_modules/.bin/tsx");
const child = join(__dirname, "fixtures/get-child.ts");

describe("two processes getting one file", () => {
  it("download it once: the second waits for the first's lock, then finds the file", async () => {
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    // The first download stalls after its first chunk until the second process says it is waiting.
    const server = await startDataServer({ "/dev.json": { body: hotpotFile(4000, 500), gate } });
    const fallback = setTimeout(release, 30_000);
    try {
      const dir = mkdtempSync(join(tmpdir(), "lmcot-data-"));
      const url = `${server.url}/dev.json`;
      const first = run(tsx, [child, dir, url]);
      while (server.log.length === 0) await new Promise((r) => setTimeout(r, 20));
      const second = spawn(tsx, [child, dir, url], { stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      second.stdout.on("data", (d) => {
        stdout += d;
      });
      second.stderr.on("data", (d) => {
        stderr += d;
        if (/waiting for pid \d+/.test(stderr)) release();
      });
      const code = await new Promise((r) => second.once("close", r));
      const a = await first;
      expect(code).toBe(0);
      expect(stderr).toMatch(/waiting for pid \d+ on .*, which is downloading user\/mine\/dev\/dev\.json/);
      expect(stdout).toBe(a.stdout);
      expect(server.log.filter((r) => r.path === "/dev.json")).toHaveLength(1);
    } finally {
      clearTimeout(fallback);
      await server.close();
    }
  }, 60_000);
});
