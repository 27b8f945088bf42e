import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rationalePrompt } from "@lmcot/core";
import { loadSample } from "@lmcot/datasets";
import { type FaultServer, type FaultServerOptions, faultServer } from "@lmcot/llm/testing";
import { afterEach, describe, expect, it } from "vitest";
import { modelAt, runFile, until } from "./rewards-helpers";
import { bin, lmcot } from "./run-cli";

const servers: FaultServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
async function judgeServer(options: FaultServerOptions) {
  const server = await faultServer(options);
  servers.push(server);
  return server;
}

const rows = (path: string) =>
  existsSync(path)
    ? readFileSync(path, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>)
    : [];

describe("lmcot rewards serve under a failing judge", () => {
  it("answers 502 naming the failed items and keeps serving", async () => {
    const fault = await judgeServer({ fault: 500 });
    const id = modelAt(fault.url);
    const child = spawn(process.execPath, [
      bin,
      ...["rewards", "serve", "--port", "0", "--judge", id, "--large", id],
      ...["--retries", "0", "--no-cache"],
    ]);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    try {
      await until(() => /reward server on (\S+) /.test(stdout) || child.exitCode !== null);
      const url = /reward server on (\S+) /.exec(stdout)![1]!;
      const example = (await loadSample("hotpotqa"))[0]!;
      const prompt = rationalePrompt.render(example);
      const body = JSON.stringify({
        query: Array.from({ length: 8 }, (_, i) => `${prompt} rationale ${i}</s>`),
        prompts: Array(8).fill(prompt),
        labels: Array(8).fill(example.answer),
      });
      const ask = () =>
        fetch(`${url}/get_reward`, { method: "POST", headers: { "content-type": "application/json" }, body });
      const first = await ask();
      expect(first.status).toBe(502);
      const reply = (await first.json()) as { failed: { index: number; error_class: string }[] };
      expect(reply.failed.map((f) => f.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(reply.failed[0]!.error_class).toBe("server");
      expect((await Promise.all([ask(), ask(), ask()])).map((r) => r.status)).toEqual([502, 502, 502]);
      await new Promise((r) => setTimeout(r, 200));
      expect(child.exitCode).toBeNull();
      const health = await fetch(`${url}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: "ok", failed_items: 32, in_flight: 0 });
      expect(stderr).toMatch(/POST \/get_reward 8 items 502 .*8 of 8 items failed/);
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exited).toBe(0);
  });
});

describe("lmcot rewards score: failures and resuming", () => {
  it("writes every row that succeeded, records the failed ones, exits 1, and a re-run finishes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lmcot-rewards-"));
    const run = await runFile(dir, 6);
    const examples = (await loadSample("hotpotqa")).slice(0, 6);
    const failing = [examples[1]!, examples[4]!];
    let healed = false;
    const fault = await judgeServer({
      reply: "Score: 4",
      failWhen: (r) => (!healed && failing.some((e) => r.item.includes(e.question)) ? 500 : undefined),
    });
    const out = join(dir, "rewards.jsonl");
    const errorsFile = join(dir, "rewards.errors.jsonl");
    const args = ["rewards", "score", "--run", run, "--judge", modelAt(fault.url), "--out", out];
    const score = () => lmcot(...args, "--retries", "0", "--no-cache", "--json");

    const first = await score();
    expect(first.code).toBe(1);
    const written = rows(out);
    expect(written.map((r) => r.exampleId).sort()).toEqual(
      examples
        .filter((e) => !failing.includes(e))
        .map((e) => e.id)
        .sort(),
    );
    const failures = rows(errorsFile);
    expect(failures).toHaveLength(2);
    expect(failures.every((f) => f.errorClass === "server" && f.status === 500)).toBe(true);
    expect(first.stderr).toMatch(/2 of 6 items failed/);
    expect(first.stderr).toMatch(/2 × server \(HTTP 500\)/);
    expect(first.stderr).toContain(errorsFile);
    expect(JSON.parse(first.stdout)).toMatchObject({ items: 4, failed: 2, resumed: 0 });

    healed = true;
    const callsBefore = fault.seen.length;
    const second = await score();
    expect(second.stderr).toBe("");
    expect(second.code).toBe(0);
    expect(fault.seen.length - callsBefore).toBe(2 * 8);
    expect(JSON.parse(second.stdout)).toMatchObject({ items: 6, failed: 0, resumed: 4 });
    const all = rows(out);
    expect(new Set(all.map((r) => r.key)).size).toBe(6);
    expect(all).toHaveLength(6);
    expect(rows(errorsFile)).toEqual([]);

    const other = await lmcot(...args, "--aspects", "factuality", "--no-cache");
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/holds rewards made with other settings/);
    expect(rows(out)).toHaveLength(6);
  });

  it("stops at once on a refused key, with the reason and the fix", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lmcot-rewards-"));
    const run = await runFile(dir, 4);
    const fault = await judgeServer({ fault: 401 });
    const out = join(dir, "rewards.jsonl");
    const r = await lmcot(
      ...["rewards", "score", "--run", run, "--judge", modelAt(fault.url), "--out", out],
      ...["--concurrency", "1", "--no-cache"],
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/stopped .*authentication \(HTTP 401\)/);
    expect(r.stderr).not.toMatch(/re-run the same command/);
    expect(r.stderr).toMatch(/check the API key variable/);
    expect(fault.seen.length).toBeLessThanOrEqual(2);
    expect(rows(out)).toEqual([]);
    expect(rows(join(dir, "rewards.errors.jsonl"))[0]).toMatchObject({ errorClass: "authentication" });
  });

  it("lets one process write an --out folder: a second exits 2, a dead one's lock is taken over", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lmcot-rewards-"));
    const run = await runFile(dir, 2);
    let hang = true;
    const fault = await judgeServer({ reply: "Score: 4", failWhen: () => (hang ? "hang" : undefined) });
    const args = ["rewards", "score", "--run", run, "--judge", modelAt(fault.url), "--no-cache"];
    const out = ["--out", join(dir, "rewards.jsonl")];
    const holder = spawn(process.execPath, [bin, ...args, ...out]);
    const gone = new Promise((r) => holder.on("exit", r));
    await until(() => existsSync(join(dir, ".lock")));
    const second = await lmcot(...args, ...out);
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(/is being written by another process: lmcot rewards score \(pid \d+/);
    holder.kill("SIGKILL");
    await gone;
    hang = false;
    const third = await lmcot(...args, ...out);
    expect(third.code).toBe(0);
    expect(third.stderr).toMatch(/took over .*\.lock from lmcot rewards score/);
    expect(rows(join(dir, "rewards.jsonl"))).toHaveLength(2);
  });
});
