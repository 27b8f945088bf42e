import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { lmcot } from "./run-cli";

const pkg = JSON.parse(readFileSync(join(__dirname, "..", "package.json"), "utf8")) as { version: string };

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
