import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const exec = promisify(execFile);
const bin = join(__dirname, "..", "dist", "cli.js");
const pkg = JSON.parse(readFileSync(join(__dirname, "..", "package.json"), "utf8")) as { version: string };

async function lmcot(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [bin, ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe("lmcot binary", () => {
  it("prints its version", async () => {
    const r = await lmcot("--version");
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it("prints help", async () => {
    const r = await lmcot("--help");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Usage: lmcot");
  });

  it("exits 2 on an unknown option", async () => {
    const r = await lmcot("--no-such-flag");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option");
  });
});
