import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FaultServerOptions, faultServer } from "@lmcot/llm/testing";
import { afterEach, describe, expect, it } from "vitest";
import { jsonl, lmcotEnv } from "./run-cli";

const KEY = "sk-test-wrong0123456789abcdefghij";
const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function serve(options: FaultServerOptions) {
  const server = await faultServer(options);
  servers.push(server);
  return server;
}

const outDir = () => join(mkdtempSync(join(tmpdir(), "lmcot-wrong-endpoint-")), "run");

/** `lmcot bench` on 10 HotpotQA questions with the large LM at a server that is not its API. */
function bench(large: string, env: Record<string, string>, out: string, ...extra: string[]) {
  return lmcotEnv(
    { ...env, CI: "1" },
    "bench",
    "--large",
    large,
    "--datasets",
    "hotpotqa:10",
    "--methods",
    "standard",
    "--out",
    out,
    "--no-cache",
    "--concurrency",
    "1",
    ...extra,
  );
}

describe("lmcot bench pointed at a server that is not the model's API", () => {
  it.each(["html", "html-501", "foreign-json"] as const)(
    "%s: stops after the first reply (no retries), exit 1, names the URL and says to check it",
    async (fault) => {
      const server = await serve({ fault });
      const out = outDir();
      const base = `${server.url}/v1`;
      const r = await bench(`openai-compatible:${base}#m`, {}, out, "--retries", "4");
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
    const env = { OPENAI_BASE_URL: `${server.url}/v1`, OPENAI_API_KEY: KEY };
    const r = await bench("openai:gpt-4o-mini", env, out, "--batch", "--batch-poll", "0.02");
    expect(r.code).toBe(1);
    expect(server.seen).toHaveLength(1);
    expect(server.seen.some((s) => s.url.includes("undefined"))).toBe(false);
    expect(r.stderr).toMatch(/check the base URL/);
    const journal = jsonl(join(out, "batches.jsonl"));
    expect(journal.map((e) => e.event)).toEqual(["submitting", "not-submitted"]);
    // A re-run stops just as fast.
    const again = await bench("openai:gpt-4o-mini", env, out, "--batch", "--batch-poll", "0.02");
    expect(again.code).toBe(1);
    expect(server.seen).toHaveLength(2);
  });

  it("--batch against a server that hangs: the upload gives up within --timeout / --total-timeout", async () => {
    const server = await serve({ fault: "hang" });
    const env = { OPENAI_BASE_URL: `${server.url}/v1`, OPENAI_API_KEY: KEY };
    const r = await bench(
      "openai:gpt-4o-mini",
      env,
      outDir(),
      "--batch",
      "--timeout",
      "0.3",
      "--total-timeout",
      "1",
    );
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
