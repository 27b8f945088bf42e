import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { faultServer } from "@lmcot/llm/testing";
import { describe, expect, it } from "vitest";
import { bin, lmcot, lmcotEnv } from "./run-cli";

const temp = (name: string) => mkdtempSync(join(tmpdir(), `lmcot-${name}-`));
const offline = { OPENAI_API_KEY: undefined, ANTHROPIC_API_KEY: undefined, CI: "1" };

describe("exit codes: 0 done, 1 failed, 2 usage", () => {
  const garbage = join(temp("garbage"), "garbage.json");
  writeFileSync(garbage, "garbage\n");
  const out = temp("usage");

  it.each([
    ["an unknown command", ["bnech"], /unknown command 'bnech'\n\(Did you mean bench\?\)/],
    ["an unknown option", ["bench", "--dry-rn"], /unknown option '--dry-rn'\n\(Did you mean --dry-run\?\)/],
    ["an unknown dataset", ["bench", "--datasets", "nope:5", "--dry-run"], /nope/],
    ["a bad method", ["bench", "--methods", "magic", "--dry-run"], /magic/],
    ["a missing dataset file", ["bench", "--datasets", "hotpotqa:/no/such.json", "--out", out], /such\.json/],
    [
      "a missing gold file",
      ["eval", "--dataset", "hotpotqa", "--gold", "/no/gold", "--pred", "/no/pred"],
      /--gold/,
    ],
    [
      "an unknown provider",
      ["ask", "--large", "opneai:gpt-4o", "--question", "q"],
      /unknown provider opneai in "opneai:gpt-4o"; did you mean openai\?/,
    ],
    [
      "an unknown small-model backend",
      ["ask", "--small", "transformer:./m", "--question", "q"],
      /did you mean transformers\?/,
    ],
    [
      "a missing small-model folder",
      ["ask", "--small", "transformers:/no/such/model", "--question", "q"],
      /no config\.json/,
    ],
    [
      "an unknown teacher provider",
      ["distill", "--teacher", "opneai:x", "--out", join(out, "d")],
      /did you mean openai\?/,
    ],
    ["a bad number", ["bench", "--concurrency", "lots", "--dry-run"], /--concurrency/],
    ["a bad timeout", ["ask", "--timeout", "soon", "--question", "q"], /--timeout/],
  ])("%s exits 2 with one line saying so", async (_what, args, message) => {
    const r = await lmcotEnv(offline, ...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("a file that cannot be read as data is a failure (1), a run that works is 0", async () => {
    const bad = await lmcot("eval", "--dataset", "hotpotqa", "--gold", garbage, "--pred", garbage);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/garbage\.json: line 1/);
    expect((await lmcot("models")).code).toBe(0);
  });

  it("lmcot --help lists the exit codes and --quiet", async () => {
    const r = await lmcot("--help");
    expect(r.stdout).toMatch(
      /Exit codes:\n\s+0\s+done\n\s+1\s+.*\n\s+2\s+usage error.*\n\s+3\s+lmcot reproduce.*\n\s+130\s+interrupted/,
    );
    expect(r.stdout).toMatch(/--quiet/);
  });

  it("Ctrl-C stops a run with exit code 130, saying how to resume", async () => {
    const server = await faultServer({ fault: "hang" });
    try {
      const child = spawn(
        process.execPath,
        [
          bin,
          "bench",
          "--large",
          `openai-compatible:${server.url}/v1#m`,
          "--methods",
          "standard",
          "--datasets",
          "hotpotqa:3",
          "--retries",
          "0",
          "--out",
          join(temp("sigint"), "run"),
        ],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      let stdout = "";
      child.stdout.on("data", (c) => (stdout += c));
      while (server.seen.length === 0) await new Promise((r) => setTimeout(r, 10));
      child.kill("SIGINT");
      const code = await new Promise((r) => child.once("exit", r));
      expect(code).toBe(130);
      expect(stdout).toMatch(/Interrupted; re-run the same command to resume/);
    } finally {
      await server.close();
    }
  });
});

describe("broken pipes", () => {
  it.each([["models"], ["bench", "--dry-run", "--datasets", "hotpotqa:2"]])(
    "lmcot %s exits quietly when its reader has gone",
    async (...args) => {
      const child = spawn(process.execPath, [bin, ...args], { stdio: ["ignore", "pipe", "pipe"] });
      child.stdout.destroy(); // the reader goes before the first line is written, like `| head -0`
      let stderr = "";
      child.stderr.on("data", (c) => (stderr += c));
      const code = await new Promise((r) => child.once("close", r));
      expect(stderr).toBe("");
      expect(code).toBe(0);
    },
  );
});

describe("streams: results on stdout, progress on stderr", () => {
  const bench = (...flags: string[]) =>
    lmcotEnv(offline, "bench", "--datasets", "hotpotqa:5", "--out", join(temp("streams"), "run"), ...flags);

  it("off a terminal, bench keeps progress off stdout, at most a start and an end line per cell", async () => {
    const r = await bench();
    expect(r.code).toBe(0);
    const cells = ["standard ·", "cot ·", "lm-guided ·"];
    for (const cell of cells) {
      const lines = r.stderr.split("\n").filter((l) => l.startsWith(cell));
      expect(lines.length, cell).toBeGreaterThanOrEqual(1);
      expect(lines.length, cell).toBeLessThanOrEqual(2);
      expect(lines.at(-1), cell).toMatch(/ 5\/5 /);
    }
    expect(r.stdout).not.toMatch(/\d+\/\d+ \(/);
    expect(r.stdout).toMatch(/Done in .* Reports: /);
  });

  it("--quiet leaves stderr empty and the results on stdout; --json prints one parseable summary", async () => {
    const quiet = await bench("--quiet");
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toBe("");
    expect(quiet.stdout).toMatch(/Done in /);
    const json = await bench("--quiet", "--json");
    const summary = JSON.parse(json.stdout);
    expect(summary.total).toBe(15);
    expect(summary.failed).toBe(0);
    expect(summary.cells).toHaveLength(3);
    expect(summary.reports.some((f: string) => f.endsWith("report.json"))).toBe(true);
  });

  it("models and distill print JSON a program can read", async () => {
    const models = JSON.parse((await lmcot("models", "--json")).stdout);
    expect(models.providers.map((p: { name: string }) => p.name)).toContain("openai");
    const out = join(temp("distill-json"), "d");
    const r = await lmcot("distill", "--teacher", "extractive:reader", "--out", out, "--json", "--quiet");
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    const summary = JSON.parse(r.stdout);
    expect(summary.calls).toBe(37);
    expect(summary.files).toContain(join(out, "kept.jsonl"));
  });

  it("distill prints its last progress line once", async () => {
    const r = await lmcot(
      "distill",
      "--teacher",
      "extractive:reader",
      "--out",
      join(temp("distill-once"), "d"),
    );
    expect(r.stderr.split("\n").filter((l) => l.startsWith("teacher: 37/37"))).toHaveLength(1);
  });
});
