import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { faultServer } from "@lmcot/llm/testing";
import { describe, expect, it } from "vitest";
import { lmcot, lmcotEnv } from "./run-cli";

describe("lmcot ask", () => {
  it("runs LM-guided CoT on a bundled example with the offline models", async () => {
    const r = await lmcot("ask", "--example", "hotpotqa:5a8b57f25542995d1e6f1371");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^Question: Were Scott Derrickson and Ed Wood of the same nationality\?\nRationale \(extractive:selector\): .+\nAnswer: .+\nGold: yes\nUsage: large \d+ in \/ \d+ out, small \d+ in \/ \d+ out/,
    );
  });

  it("prints a whole prediction as JSON for each method", async () => {
    for (const method of ["standard", "cot", "lm-guided"]) {
      const r = await lmcot(
        "ask",
        "--example",
        "hotpotqa:5a8c7595554299585d9e36b6",
        "--method",
        method,
        "--json",
      );
      expect(r.code).toBe(0);
      const p = JSON.parse(r.stdout);
      expect(p).toMatchObject({
        method,
        exampleId: "5a8c7595554299585d9e36b6",
        models: { large: "extractive:reader" },
      });
      expect(p.prompts.length).toBeGreaterThan(0);
    }
  });

  it("takes a question and a context file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lmcot-ask-"));
    const ctx = join(dir, "ctx.json");
    writeFileSync(
      ctx,
      JSON.stringify([
        { title: "Phoolwari", sentences: ["Phoolwari is a 1946 Indian film."] },
        { title: "Aas Ka Panchhi", sentences: ["Aas Ka Panchhi is a 1961 Hindi film."] },
      ]),
    );
    const r = await lmcot(
      "ask",
      "--question",
      "Which film came out first, Aas Ka Panchhi or Phoolwari?",
      "--context",
      ctx,
      "--method",
      "standard",
    );
    expect(r.stdout).toContain("Answer: Phoolwari");
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify([{ title: "x", sentences: "not a list" }]));
    const e = await lmcot("ask", "--question", "Q?", "--context", bad);
    expect(e.code).toBe(1);
    expect(e.stderr).toMatch(/^lmcot: bad\.json/);
  });

  it("exits 2 on usage errors", async () => {
    expect((await lmcot("ask")).code).toBe(2);
    expect((await lmcot("ask", "--example", "hotpotqa:nope")).code).toBe(2);
    expect((await lmcot("ask", "--example", "x", "--method", "magic")).code).toBe(2);
  });

  it("a refused key: exit 1 with the reason, and the key printed nowhere (--json, LMCOT_DEBUG too)", async () => {
    const key = "sk-test-ask-0123456789abcdefghijkl";
    // The server echoes the request headers (the key among them) into its error message.
    const server = await faultServer({ fault: 401, echoRequest: true });
    try {
      const env = { OPENAI_BASE_URL: `${server.url}/v1`, OPENAI_API_KEY: key };
      const ask = ["ask", "--example", "hotpotqa:5a8b57f25542995d1e6f1371", "--method", "standard"];
      const large = ["--large", "openai:gpt-4o-mini", "--retries", "0"];
      for (const [changes, extra] of [
        [{}, []],
        [{}, ["--json"]],
        [{ LMCOT_DEBUG: "1" }, []],
        [{ LMCOT_DEBUG: "1" }, ["--json"]],
      ] as const) {
        const r = await lmcotEnv({ ...env, ...changes }, ...ask, ...large, ...extra);
        expect(r.code).toBe(1);
        expect(r.stderr).toContain("401");
        expect(r.stderr).toContain("check the API key variable");
        expect(r.stdout + r.stderr).not.toContain(key);
        expect(r.stdout + r.stderr).not.toContain(key.slice(8, 24));
        if (extra.length) expect(JSON.parse(r.stdout).error).toMatchObject({ errorClass: "authentication" });
      }
      expect(server.seen.length).toBe(4);
      expect(String(server.seen[0]!.headers.authorization)).toContain(key);
    } finally {
      await server.close();
    }
  });
});
