import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { type FaultServerOptions, faultServer } from "@lmcot/llm/testing";
import { afterEach, describe, expect, it } from "vitest";
import { jsonl, lmcotEnv } from "./run-cli";

const KEY = "sk-test-bench0123456789abcdefghij";
const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function serve(options: FaultServerOptions) {
  const server = await faultServer(options);
  servers.push(server);
  return server;
}

const outDir = () => join(mkdtempSync(join(tmpdir(), "lmcot-bench-fail-")), "run");

/** `lmcot bench` on the loopback server: 10 HotpotQA questions, standard prompting, no retries. */
function bench(url: string, out: string, ...extra: string[]) {
  return lmcotEnv(
    { OPENAI_BASE_URL: `${url}/v1`, OPENAI_API_KEY: KEY, CI: "1" },
    "bench",
    "--large",
    "openai:gpt-4o-mini",
    "--datasets",
    "hotpotqa:10",
    "--methods",
    "standard",
    "--out",
    out,
    "--no-cache",
    ...(extra.includes("--retries") ? [] : ["--retries", "0"]),
    ...extra,
  );
}

describe("lmcot bench when calls fail", () => {
  it("every call answered 401: stops after the first call, exit 1, the reason and the fix", async () => {
    const server = await serve({ fault: 401 });
    const out = outDir();
    const r = await bench(server.url, out, "--concurrency", "1");
    expect(r.code).toBe(1);
    expect(server.seen).toHaveLength(1);
    expect(r.stderr).toContain("authentication (HTTP 401)");
    expect(r.stderr).toContain("check the API key variable");
    expect(r.stderr).toMatch(/stopped after authentication \(HTTP 401\): a re-run cannot fix it/);
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/re-run to retry/);
    expect(jsonl(join(out, "errors.jsonl"))).toMatchObject([{ errorClass: "authentication", status: 401 }]);
    expect(r.stdout).toContain("| 0 / 10 (1 failed, 9 not run) |");
  });

  it("30 % of items failing with 500: exit 1, one errors.jsonl row per failure, n / expected in the report", async () => {
    const server = await serve({ fault: 500, failShare: 0.3 });
    const out = outDir();
    const r = await bench(server.url, out);
    const failed = server.failed;
    expect(failed).toBeGreaterThan(0);
    expect(failed).toBeLessThan(10);
    expect(r.code).toBe(1);
    expect(jsonl(join(out, "errors.jsonl"))).toHaveLength(failed);
    expect(r.stderr).toContain(`${failed} of 10 items failed:`);
    expect(r.stderr).toContain("server (HTTP 500)");
    const md = readFileSync(join(out, "report.md"), "utf8");
    expect(md).toContain(`| ${10 - failed} / 10 (${failed} failed) |`);
    expect(md).toMatch(new RegExp(`## Failures\\n\\n${failed} of 10 items failed`));
    expect(readFileSync(join(out, "report.html"), "utf8")).toContain('id="failures"');
    expect(r.stdout).toContain(`| ${10 - failed} / 10 (${failed} failed) |`);
  });

  it("a hung provider is bounded by --timeout and --retries", async () => {
    const server = await serve({ fault: "hang" });
    const started = Date.now();
    const r = await bench(server.url, outDir(), "--timeout", "0.5", "--retries", "1", "--concurrency", "10");
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/10 × timeout: .*after 2 attempts over \d+\.\d s/);
    expect(server.seen).toHaveLength(20);
  });

  it("a run stopped at its budget exits 1, keeps what finished, and says to raise --budget", async () => {
    const server = await serve({});
    const out = outDir();
    const r = await bench(server.url, out, "--budget", "0.000001", "--concurrency", "1");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/stopped at the budget: .*raise --budget and run the same command to continue/);
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/re-run to (retry|resume)/);
    const kept = jsonl(join(out, "run.jsonl")).length;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(10);
  });
});

describe("one lmcot bench per run directory", () => {
  it("a second process exits 2 naming the first; the run file has no duplicate keys", async () => {
    const server = await serve({ fault: "slow", slowMs: 400 });
    const out = outDir();
    const [a, b] = await Promise.all([bench(server.url, out), bench(server.url, out)]);
    const codes = [a.code, b.code].sort();
    expect(codes).toEqual([0, 2]);
    const loser = a.code === 2 ? a : b;
    expect(loser.stderr).toMatch(/is being written by another process: lmcot bench \(pid \d+ on /);
    const keys = jsonl(join(out, "run.jsonl")).map((r) => r.key);
    expect(keys).toHaveLength(10);
    expect(new Set(keys).size).toBe(10);
    expect(existsSync(join(out, ".lock"))).toBe(false);
  });

  it("a stale lock (its process gone) is taken over with a notice", async () => {
    const server = await serve({});
    const out = outDir();
    const first = await bench(server.url, out, "--datasets", "hotpotqa:2");
    expect(first.code, first.stderr).toBe(0);
    writeFileSync(
      join(out, ".lock"),
      JSON.stringify({ pid: 2 ** 22 + 11, host: hostname(), command: "lmcot bench", startedAt: "earlier" }),
    );
    const r = await bench(server.url, out);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/took over .*\.lock from lmcot bench \(pid 4194315 .*no longer running/);
    expect(jsonl(join(out, "run.jsonl"))).toHaveLength(10);
  });
});
describe("lmcot bench pointed at a server that is not the model's API", () => {
  it.each(["html", "html-501", "foreign-json"] as const)(
    "%s: stops after the first reply (no retries), exit 1, names the URL and says to check it",
    async (fault) => {
      const server = await serve({ fault });
      const out = outDir();
      const base = `${server.url}/v1`;
      const r = await bench(server.url, out, "--retries", "4", "--concurrency", "1");
      expect(r.code).toBe(1);
      expect(server.seen).toHaveLength(1);
      expect(r.stderr).toContain(`invalid_response`);
      expect(r.stderr).toContain(`${base} answered HTTP ${fault === "html-501" ? 501 : 200}`);
      expect(r.stderr).toMatch(/check the base URL/);
      expect(r.stderr).toMatch(/stopped after invalid_response .*: a re-run cannot fix it/);
      expect(`${r.stdout}${r.stderr}`).not.toMatch(/re-run to retry/);
      // The page is quoted by its first bytes, never whole.
      expect(r.stderr).not.toContain("Error code explanation");
      expect(jsonl(join(out, "errors.jsonl"))).toMatchObject([{ errorClass: "invalid_response" }]);
      expect(r.stdout).toContain("| 0 / 10 (1 failed, 9 not run) |");
    },
  );

  it("--batch: the submission fails at once, nothing is journaled as submitted, no poll, exit 1", async () => {
    const server = await serve({ fault: "html" });
    const out = outDir();
    const r = await bench(server.url, out, "--batch", "--batch-poll", "0.02");
    expect(r.code).toBe(1);
    expect(server.seen).toHaveLength(1);
    expect(server.seen.some((s) => s.url.includes("undefined"))).toBe(false);
    expect(r.stderr).toMatch(/check the base URL/);
    const journal = jsonl(join(out, "batches.jsonl"));
    expect(journal.map((e) => e.event)).toEqual(["submitting", "not-submitted"]);
    // A re-run stops just as fast.
    const again = await bench(server.url, out, "--batch", "--batch-poll", "0.02");
    expect(again.code).toBe(1);
    expect(server.seen).toHaveLength(2);
  });

  it("--batch against a server that hangs: the upload gives up within --timeout / --total-timeout", async () => {
    const server = await serve({ fault: "hang" });
    const r = await bench(server.url, outDir(), "--batch", "--timeout", "0.3", "--total-timeout", "1");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/timeout: openai:gpt-4o-mini batch submission: no answer within/);
  });
});

describe("lmcot batch status", () => {
  it("reports a journal entry recorded without a batch id as failed, with its reason, exit 1", async () => {
    const dir = outDir();
    mkdirSync(dir, { recursive: true });
    const at = Date.parse("2026-01-02T03:04:05Z");
    appendFileSync(
      join(dir, "batches.jsonl"),
      [
        {
          event: "submitting",
          submission: "lmcot-old",
          provider: "openai",
          model: "openai:gpt-4o-mini",
          customIds: ["a", "b"],
          at,
        },
        { event: "submitted", submission: "lmcot-old", batchId: "undefined", at },
      ]
        .map((e) => `${JSON.stringify(e)}\n`)
        .join(""),
    );
    const r = await lmcotEnv(
      { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: "http://127.0.0.1:9/v1" },
      "batch",
      "status",
      dir,
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /lmcot-old\s+openai:gpt-4o-mini\s+failed: recorded as submitted without a batch id/,
    );
    expect(r.stdout).not.toMatch(/running/);
    expect(existsSync(join(dir, "batches.jsonl"))).toBe(true);
    expect(readFileSync(join(dir, "batches.jsonl"), "utf8").split("\n").filter(Boolean)).toHaveLength(2);
  });
});
