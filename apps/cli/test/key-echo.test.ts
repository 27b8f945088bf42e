import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rationalePrompt } from "@lmcot/core";
import { loadSample } from "@lmcot/datasets";
import { type FaultServer, faultServer } from "@lmcot/llm/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { modelAt, runFile, until } from "./rewards-helpers";
import { bin, lmcotEnv } from "./run-cli";

// Two keys: one shaped like an OpenAI key, one that looks like nothing (only redaction by value finds it).
const OPENAI_KEY = "sk-proj-echo0123456789abcdefghijklmnop";
const LOCAL_KEY = "local+secret/echo-42==";
const KEYS = [OPENAI_KEY, LOCAL_KEY];

/** Every file under `dir`, recursively. */
function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

/**
 * Every command that calls a model, against a server that fails 40 % of items with a 500 whose body
 * echoes the request headers (Authorization included): no key may reach stdout, stderr, run
 * directories, caches or reports.
 */
describe("no command prints or writes an API key", () => {
  let server: FaultServer;
  let root: string;
  let env: Record<string, string>;
  const outputs: { command: string; text: string }[] = [];

  beforeAll(async () => {
    server = await faultServer({ fault: 500, failShare: 0.4, echoRequest: true });
    root = mkdtempSync(join(tmpdir(), "lmcot-key-echo-"));
    env = {
      OPENAI_API_KEY: OPENAI_KEY,
      OPENAI_BASE_URL: `${server.url}/v1`,
      OPENAI_COMPATIBLE_API_KEY: LOCAL_KEY,
      LMCOT_DEBUG: "1",
      CI: "1",
    };
  });
  afterAll(() => server.close());

  const run = async (...args: string[]) => {
    const r = await lmcotEnv(env, ...args);
    outputs.push({ command: args.slice(0, 2).join(" "), text: `${r.stdout}\n${r.stderr}` });
    return r;
  };
  const small = () => modelAt(server.url, "small");
  const policy = ["--retries", "0"];

  it("ask, bench, distill and rewards score", async () => {
    const example = (await loadSample("hotpotqa"))[0]!;
    for (const json of [[], ["--json"]])
      await run(
        "ask",
        ...["--example", `hotpotqa:${example.id}`, "--method", "lm-guided"],
        ...["--large", "openai:gpt-4o-mini", "--small", small(), ...policy, ...json],
      );
    const bench = await run(
      "bench",
      ...["--large", "openai:gpt-4o-mini", "--small", `s=${small()}`],
      ...["--datasets", "hotpotqa:8", "--methods", "standard,lm-guided"],
      ...["--out", join(root, "bench"), "--cache-dir", join(root, "cache"), ...policy],
    );
    expect(bench.code).toBe(1); // some items failed, and said so
    await run(
      "distill",
      ...["--teacher", "openai:gpt-4o-mini", "--out", join(root, "distill")],
      ...["--cache-dir", join(root, "cache"), ...policy],
    );
    await run(
      "rewards",
      "score",
      ...["--run", await runFile(root, 6), "--judge", "openai:gpt-4o-mini", "--large", small()],
      ...["--out", join(root, "rewards", "rows.jsonl"), "--cache-dir", join(root, "cache"), ...policy],
    );
    expect(server.failed).toBeGreaterThan(0);
    expect(server.seen.some((s) => s.headers.authorization === `Bearer ${LOCAL_KEY}`)).toBe(true);
  });

  it("rewards serve", async () => {
    const child = spawn(
      process.execPath,
      [bin, "rewards", "serve", "--port", "0", "--judge", small(), "--large", small(), ...policy],
      { env: { ...process.env, ...env } },
    );
    let text = "";
    child.stdout.on("data", (c) => (text += c));
    child.stderr.on("data", (c) => (text += c));
    const exited = new Promise((r) => child.on("exit", r));
    await until(() => /reward server on (\S+) /.test(text) || child.exitCode !== null);
    const url = /reward server on (\S+) /.exec(text)![1]!;
    const examples = (await loadSample("hotpotqa")).slice(0, 6);
    const prompts = examples.map((e) => rationalePrompt.render(e));
    const reply = await fetch(`${url}/get_reward`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        query: prompts.map((p, i) => `${p} rationale ${i}</s>`),
        prompts,
        labels: examples.map((e) => e.answer),
      }),
    });
    expect(reply.status).toBe(502); // some judge calls failed, and the reply names them
    text += await reply.text();
    child.kill("SIGTERM");
    await exited;
    outputs.push({ command: "rewards serve", text });
  });

  it("left the keys nowhere", () => {
    expect(outputs.length).toBeGreaterThanOrEqual(6);
    for (const { command, text } of outputs)
      for (const key of KEYS) expect(text.includes(key), `${command} printed a key`).toBe(false);
    // The echoed headers did reach what was printed and written, redacted.
    expect(outputs.some(({ text }) => text.includes("[redacted]"))).toBe(true);
    const written = files(root);
    expect(written.some((f) => f.endsWith("errors.jsonl"))).toBe(true);
    expect(written.some((f) => f.includes(`${join(root, "cache")}`))).toBe(true);
    for (const file of written) {
      const content = readFileSync(file, "utf8");
      for (const key of KEYS) expect(content.includes(key), `${file} holds a key`).toBe(false);
    }
  });
});
