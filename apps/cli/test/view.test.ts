import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { bin, lmcot } from "./run-cli";

const temp = (p: string) => mkdtempSync(join(tmpdir(), p));

describe("lmcot view", () => {
  it("exports static files, serves them read-only on 127.0.0.1 until Ctrl-C, refuses a folder without run.jsonl", async () => {
    const run = temp("lmcot-cli-view-run-");
    expect((await lmcot("bench", "--out", run, "--quiet", "--datasets", "hotpotqa:3")).code).toBe(0);
    const out = temp("lmcot-cli-view-out-");
    const exported = await lmcot("view", run, "--export", out);
    expect(exported.code).toBe(0);
    expect(exported.stdout.trim()).toBe(join(out, "index.html"));
    for (const f of ["index.html", "data.js", "items/0.js"]) expect(existsSync(join(out, f))).toBe(true);
    expect(readFileSync(join(out, "index.html"), "utf8")).not.toMatch(/https?:\/\//);

    const child = spawn(process.execPath, [bin, "view", run], { stdio: ["ignore", "pipe", "pipe"] });
    const url = await new Promise<string>((ok) =>
      child.stdout.once("data", (d: Buffer) => ok(d.toString().trim())),
    );
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toMatch(
      /^default-src 'none'; script-src 'self' 'sha256-/,
    );
    expect(await (await fetch(`${url}data.js`)).text()).toContain("LMCOT_DATA");
    expect((await fetch(url, { method: "POST" })).status).toBe(405);
    const rebound = await new Promise<number | undefined>((ok) =>
      request(url, { headers: { host: "attacker.example:80" } }, (res) => ok(res.statusCode))
        .on("error", () => ok(undefined))
        .end(),
    );
    expect(rebound).toBe(403);
    const code = new Promise<number | null>((ok) => child.once("exit", (c) => ok(c)));
    child.kill("SIGINT");
    expect(await code).toBe(130);

    const refused = await lmcot("view", out);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("not a run directory");
  }, 60_000);

  it("a hand-edited run.jsonl field holding markup stops view and bench report with file, line and field (exit 2)", async () => {
    const run = temp("lmcot-cli-view-edited-");
    expect((await lmcot("bench", "--out", run, "--quiet", "--datasets", "hotpotqa:3")).code).toBe(0);
    const file = join(run, "run.jsonl");
    const lines = readFileSync(file, "utf8").trim().split("\n");
    const record = JSON.parse(lines[2]!);
    record.em = '"><img src=x onerror=alert(1)>';
    lines[2] = JSON.stringify(record);
    writeFileSync(file, `${lines.join("\n")}\n`);
    const before = readFileSync(join(run, "report.html"), "utf8");
    for (const args of [
      ["view", run, "--export", temp("lmcot-cli-view-edited-out-")],
      ["bench", "report", run],
    ]) {
      const r = await lmcot(...args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toBe("lmcot: run.jsonl: line 3: em must be a number\n");
    }
    expect(readFileSync(join(run, "report.html"), "utf8")).toBe(before);
  }, 60_000);
});
