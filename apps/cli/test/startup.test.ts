import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { commands } from "../src/commands/index";
import { bin } from "./run-cli";

const exec = promisify(execFile);
const tracer = join(__dirname, "fixtures", "trace-imports.mjs");

/** The module URLs the built `lmcot` resolves while it runs `args`. */
async function modulesLoadedBy(...args: string[]): Promise<string[]> {
  const file = join(mkdtempSync(join(tmpdir(), "lmcot-trace-")), "modules.txt");
  await exec(process.execPath, ["--import", tracer, bin, ...args], {
    env: { ...process.env, LMCOT_TRACE_FILE: file },
  });
  return readFileSync(file, "utf8").split("\n").filter(Boolean);
}

const HEAVY =
  /\/node_modules\/(openai|@anthropic-ai\/sdk|@huggingface\/transformers|onnxruntime-[^/]+|@tensorflow\/[^/]+)\//;

describe("start-up loads only what the command uses", () => {
  it.each([["--help"], ["eval", "--help"], ["models"]])(
    "lmcot %s loads no model SDK, transformers.js, onnxruntime or tfjs",
    async (...args) => {
      const loaded = await modulesLoadedBy(...args);
      expect(loaded.length).toBeGreaterThan(0);
      expect(loaded.filter((url) => HEAVY.test(url))).toEqual([]);
    },
  );

  it("lmcot --help loads no package but core, and the tracer sees what a command does load", async () => {
    const help = await modulesLoadedBy("--help");
    expect(help.filter((url) => /\/packages\/(?!core\/)|\/apps\/bench\/|zod/.test(url))).toEqual([]);
    const models = await modulesLoadedBy("models");
    expect(models.some((url) => /\/packages\/llm\//.test(url))).toBe(true);
    expect(models.some((url) => /\/apps\/bench\/|\/packages\/(train|small-lm)\//.test(url))).toBe(false);
  });

  it("the summaries lmcot --help lists are the commands' own descriptions", async () => {
    for (const entry of commands) {
      const { Command } = await import("commander");
      const program = new Command();
      (await entry.load())(program);
      expect(program.commands.find((c) => c.name() === entry.name)?.description()).toBe(entry.summary);
    }
  });
});
