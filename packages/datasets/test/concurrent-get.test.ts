import { execFile } from "node:child_process";
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
    const server = await startDataServer({ "/dev.json": { body: hotpotFile(4000, 500), chunkDelayMs: 50 } });
    try {
      const dir = mkdtempSync(join(tmpdir(), "lmcot-data-"));
      const url = `${server.url}/dev.json`;
      const first = run(tsx, [child, dir, url]);
      // The second starts once the first is downloading.
      while (server.log.length === 0) await new Promise((r) => setTimeout(r, 20));
      const [a, b] = await Promise.all([first, run(tsx, [child, dir, url])]);
      expect(a.stdout).toBe(b.stdout);
      expect(server.log.filter((r) => r.path === "/dev.json")).toHaveLength(1);
      expect(`${a.stderr}${b.stderr}`).toMatch(/waiting for pid \d+/);
    } finally {
      await server.close();
    }
  }, 60_000);
});
