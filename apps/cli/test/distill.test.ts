import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { faultServer } from "@lmcot/llm/testing";
import { describe, expect, it } from "vitest";
import { lmcot, lmcotEnv } from "./run-cli";

describe("lmcot distill", () => {
  it("distils the bundled sample with the offline teacher into the three exports, resumably", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "lmcot-distill-cli-")), "d");
    const first = await lmcot("distill", "--teacher", "extractive:reader", "--out", out);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^extractive:reader: kept \d+ of 37 rationales/);
    const stats = JSON.parse(readFileSync(join(out, "stats.json"), "utf8"));
    expect(stats.calls).toBe(37);
    for (const f of [
      "kept.jsonl",
      "dropped.jsonl",
      "sft-trl.jsonl",
      "finetune-openai.jsonl",
      "seq2seq.jsonl",
    ]) {
      expect(readFileSync(join(out, f), "utf8").length).toBeGreaterThan(0);
    }
    const kept = readFileSync(join(out, "kept.jsonl"), "utf8").trim().split("\n");
    expect(readFileSync(join(out, "sft-trl.jsonl"), "utf8").trim().split("\n")).toHaveLength(kept.length);
    const teacherLines = readFileSync(join(out, "teacher.jsonl"), "utf8");
    await lmcot("distill", "--teacher", "extractive:reader", "--out", out);
    expect(readFileSync(join(out, "teacher.jsonl"), "utf8")).toBe(teacherLines);
  });

  it("a failing teacher: exit 1, each failed call in errors.jsonl, the summary on stderr", async () => {
    const server = await faultServer({ fault: 500, failShare: 0.3 });
    try {
      const out = join(mkdtempSync(join(tmpdir(), "lmcot-distill-fail-")), "d");
      const r = await lmcotEnv(
        { OPENAI_BASE_URL: `${server.url}/v1`, OPENAI_API_KEY: "sk-test-distill0123456789abcdef" },
        ...["distill", "--teacher", "openai:gpt-4o-mini", "--out", out, "--retries", "0", "--no-cache"],
      );
      expect(r.code).toBe(1);
      expect(server.failed).toBeGreaterThan(0);
      const errors = readFileSync(join(out, "errors.jsonl"), "utf8").trim().split("\n");
      expect(errors).toHaveLength(server.failed);
      expect(JSON.parse(errors[0]!)).toMatchObject({ cell: "teacher", errorClass: "server", status: 500 });
      expect(r.stderr).toContain(`${server.failed} of 37 items failed:`);
      expect(r.stderr).toContain("server (HTTP 500)");
    } finally {
      await server.close();
    }
  });
});
