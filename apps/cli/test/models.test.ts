import { describe, expect, it } from "vitest";
import { lmcotEnv } from "./run-cli";

const SECRET = "sk-proj-models-test-0123456789abcdef";

describe("lmcot models", () => {
  it("lists every provider with an example id and which variables are set, never their values", async () => {
    const r = await lmcotEnv(
      {
        OPENAI_API_KEY: SECRET,
        OPENAI_BASE_URL: "http://127.0.0.1:9/v1",
        ANTHROPIC_API_KEY: undefined,
        ANTHROPIC_BASE_URL: undefined,
        OPENAI_COMPATIBLE_API_KEY: undefined,
      },
      "models",
    );
    expect(r.code).toBe(0);
    for (const example of [
      "openai:gpt-4o-mini",
      "anthropic:claude-3-5-haiku-latest",
      "openai-compatible:http://127.0.0.1:8000/v1#qwen",
      "extractive:reader",
    ])
      expect(r.stdout).toContain(example);
    expect(r.stdout).toMatch(/OPENAI_API_KEY set, OPENAI_BASE_URL set/);
    expect(r.stdout).toMatch(/ANTHROPIC_API_KEY not set, ANTHROPIC_BASE_URL not set/);
    expect(r.stdout).toMatch(/OPENAI_COMPATIBLE_API_KEY not set/);
    expect(r.stdout).toMatch(/as of \d{4}-\d{2}-\d{2}/);
    expect(r.stdout).toMatch(/openai:gpt-4o-mini\s+0\.15 \/ 0\.6/);
    expect(r.stdout + r.stderr).not.toContain(SECRET);
    expect(r.stdout + r.stderr).not.toContain("127.0.0.1:9");
  });

  it("describes itself in the help", async () => {
    const r = await lmcotEnv({}, "--help");
    expect(r.stdout).toMatch(/models\s+list model providers/);
  });
});
