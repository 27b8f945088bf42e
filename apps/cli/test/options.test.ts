import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import { distillOptionsSchema } from "../src/commands/distill-options";
import { serveOptionsSchema } from "../src/commands/reward-options";
import { kdOptionsSchema, rlOptionsSchema } from "../src/commands/train-options";
import { createProgram } from "../src/program";
import { lmcotEnv } from "./run-cli";

const offline = { OPENAI_API_KEY: undefined, ANTHROPIC_API_KEY: undefined, CI: "1" };
const lmcot = (...args: string[]) => lmcotEnv(offline, ...args);

function configFile(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "lmcot-options-")), name);
  writeFileSync(path, text);
  return path;
}

const cellsOf = (stdout: string) =>
  stdout
    .trim()
    .split("\n")
    .map((l) => l.split(":")[0]);

describe("one schema for flags and config files", () => {
  it("a minimal bench config gets the documented defaults", async () => {
    const r = await lmcot("bench", "--config", configFile("bench.yaml", "{}\n"), "--dry-run");
    expect(r.code).toBe(0);
    expect(cellsOf(r.stdout)).toEqual([
      "standard · hotpotqa · extractive",
      "cot · hotpotqa · extractive",
      "lm-guided · selector · hotpotqa · extractive",
      "standard · 2wikimultihopqa · extractive",
      "cot · 2wikimultihopqa · extractive",
      "lm-guided · selector · 2wikimultihopqa · extractive",
      "TOTAL",
    ]);
  });

  it("lm-guided without small gets the default small LM; an empty list is an error", async () => {
    const r = await lmcot("bench", "--config", configFile("b.yaml", "methods: [lm-guided]\n"), "--dry-run");
    expect(cellsOf(r.stdout)).toContain("lm-guided · selector · hotpotqa · extractive");
    const empty = await lmcot("bench", "--config", configFile("b.yaml", "methods: [lm-guided]\nsmall: []\n"));
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/b\.yaml: small is empty, but methods has lm-guided/);
  });

  it("methods [standard, lm-guided] runs both", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "lmcot-options-run-")), "run");
    const file = configFile(
      "b.yaml",
      `methods: [standard, lm-guided]\ndatasets: [{ name: hotpotqa, sample: 3 }]\nout: ${out}\n`,
    );
    const r = await lmcot("bench", "--config", file);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/standard/);
    expect(r.stdout).toMatch(/lm-guided/);
  });

  it("an unknown key is refused with the nearest valid key (exit 2), in bench and train files", async () => {
    const bench = await lmcot("bench", "--config", configFile("bench.yaml", "budgetUSD: 1\n"), "--dry-run");
    expect(bench.code).toBe(2);
    expect(bench.stderr).toContain("bench.yaml: budgetUSD: unknown key; did you mean budget?");
    const kd = await lmcot(
      "train",
      "kd",
      "--config",
      configFile("kd.yaml", "data: x\nout: y\noptimizer: { learningRat: 0.1 }\n"),
    );
    expect(kd.code).toBe(2);
    expect(kd.stderr).toContain("kd.yaml: optimizer.learningRat: unknown key; did you mean learningRate?");
    const rl = await lmcot("train", "rl", "--config", configFile("rl.yaml", "polcy: x\n"));
    expect(rl.stderr).toContain("rl.yaml: polcy: unknown key; did you mean policy?");
  });

  it("__proto__ / constructor / prototype keys, at any depth, are unknown keys (exit 2), not a crash", async () => {
    const cases: [string[], string, string, string][] = [
      [
        ["bench", "--dry-run"],
        "bench.yaml",
        "__proto__: { budget: 1 }\n",
        "bench.yaml: __proto__: unknown key",
      ],
      [["bench", "--dry-run"], "bench.yaml", "constructor: 1\n", "bench.yaml: constructor: unknown key"],
      [
        ["bench", "--dry-run"],
        "bench.json",
        '{"prototype": {"x": 1}}\n',
        "bench.json: prototype: unknown key",
      ],
      [
        ["bench", "--dry-run"],
        "bench.json",
        '{"datasets": [{"name": "hotpotqa", "__proto__": {"sample": 1}}]}\n',
        "bench.json: datasets[0].__proto__: unknown key",
      ],
      [
        ["train", "kd"],
        "kd.yaml",
        "data: x\nout: y\noptimizer: { constructor: 1 }\n",
        "kd.yaml: optimizer.constructor: unknown key",
      ],
      [["rewards", "serve"], "serve.yaml", "__proto__: { port: 1 }\n", "serve.yaml: __proto__: unknown key"],
      [["distill"], "distill.yaml", "constructor: 1\n", "distill.yaml: constructor: unknown key"],
    ];
    for (const [args, name, text, message] of cases) {
      const r = await lmcot(...args, "--config", configFile(name, text));
      expect(r.stderr, text).toContain(message);
      expect(r.stderr).not.toContain("Cannot read properties");
      expect(r.code, text).toBe(2);
    }
    expect(({} as Record<string, unknown>).budget).toBeUndefined();
  }, 60_000);

  it("a config file over 1 MB is refused with its size before it is parsed (exit 2)", async () => {
    const big = configFile("bench.yaml", `large:\n${"  - openai:gpt-4o-mini\n".repeat(60_000)}`);
    const r = await lmcot("bench", "--config", big, "--dry-run");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bench\.yaml is 1\.\d MB, over the 1 MB limit for a config file/);
  }, 60_000);

  it("a reasoning effort suffix on a large LM makes one cell per effort, from a flag or a file", async () => {
    const keyed = (...args: string[]) => lmcotEnv({ ...offline, OPENAI_API_KEY: "sk-test" }, ...args);
    const flag = await keyed(
      "bench",
      "--large",
      "openai:o4-mini@low,openai:o4-mini@high",
      "--datasets",
      "hotpotqa:3",
      "--methods",
      "standard",
      "--dry-run",
    );
    expect(flag.code).toBe(0);
    expect(flag.stdout).toContain("standard · hotpotqa · openai:o4-mini@low · seed0: 3 examples");
    expect(flag.stdout).toContain("standard · hotpotqa · openai:o4-mini@high · seed0: 3 examples");
    expect(flag.stdout).not.toContain("cost unknown");
    const typo = await keyed(
      "bench",
      "--config",
      configFile("bench.yaml", "large: [openai:o4-mini@hgh]\n"),
      "--dry-run",
    );
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('bench.yaml: large[0] unknown reasoning effort "@hgh"');
    expect(typo.stderr).toContain("did you mean high?");
    const flagTypo = await keyed("bench", "--large", "openai:o4-mini@hgh", "--dry-run");
    expect(flagTypo.code).toBe(2);
    expect(flagTypo.stderr).toContain('--large: large[0] unknown reasoning effort "@hgh"');
  });

  it("a flag and its key get the same validation, each error naming the flag or the file and key", async () => {
    const flag = await lmcot("bench", "--concurrency", "0", "--budget", "abc", "--dry-run");
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("--concurrency: must be ≥ 1");
    expect(flag.stderr).toContain('--budget: must be a number, got "abc"');
    const file = await lmcot(
      "bench",
      "--config",
      configFile("bench.yaml", "concurrency: 0\nbudget: abc\n"),
      "--dry-run",
    );
    expect(file.code).toBe(2);
    expect(file.stderr).toContain("bench.yaml: concurrency must be ≥ 1");
    expect(file.stderr).toContain("bench.yaml: budget must be a number");
    const missing = await lmcot("distill", "--config", configFile("d.yaml", "teacher: extractive:reader\n"));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("--out is missing (give it, or set out in d.yaml)");
  });

  it("flags and the same keys in a file give the same run; flags override the file", async () => {
    const viaFlags = await lmcot("bench", "--datasets", "hotpotqa:4", "--methods", "cot", "--dry-run");
    const viaFile = await lmcot(
      "bench",
      "--config",
      configFile("b.yaml", "datasets: [{ name: hotpotqa, sample: 4 }]\nmethods: [cot]\n"),
      "--dry-run",
    );
    expect(viaFile.stdout).toBe(viaFlags.stdout);
    const overridden = await lmcot(
      "bench",
      "--config",
      configFile("b.yaml", "datasets: [{ name: hotpotqa, sample: 4 }]\nmethods: [cot]\n"),
      "--methods",
      "standard",
      "--dry-run",
    );
    expect(cellsOf(overridden.stdout)[0]).toMatch(/^standard/);
  });

  it("every setting flag of bench, distill, train kd / rl and rewards serve is a key of its schema", async () => {
    const { benchConfigSchema } = await import("@lmcot/bench");
    const program = await createProgram();
    const find = (path: string[]) =>
      path.reduce<Command>((c, name) => c.commands.find((s) => s.name() === name)!, program);
    const actions = new Set(["config", "dryRun", "quiet", "json"]);
    for (const [path, schema] of [
      [["bench"], benchConfigSchema],
      [["distill"], distillOptionsSchema],
      [["train", "kd"], kdOptionsSchema],
      [["train", "rl"], rlOptionsSchema],
      [["rewards", "serve"], serveOptionsSchema],
    ] as const) {
      const keys = Object.keys(schema.shape);
      for (const option of find([...path]).options) {
        const key = option.attributeName();
        if (!actions.has(key)) expect(keys, `${path.join(" ")} --${option.name()}`).toContain(key);
      }
    }
  });
});

describe("bench --dry-run checks everything it can without calling a model", () => {
  it("lists every problem at once and exits 2", async () => {
    const r = await lmcot(
      "bench",
      "--large",
      "opneai:gpt-4o,openai:gpt-4o-mini",
      "--small",
      "kd=transformers:./no-such-model",
      "--datasets",
      "hotpotqa:200,2wikimultihopqa:50",
      "--dry-run",
    );
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/5 problems/);
    expect(r.stderr).toMatch(/large opneai:gpt-4o: unknown provider opneai .*did you mean openai\?/);
    expect(r.stderr).toMatch(/large openai:gpt-4o-mini: .*set OPENAI_API_KEY/);
    expect(r.stderr).toMatch(/small kd: no such folder: \.\/no-such-model/);
    expect(r.stderr).toMatch(/hotpotqa:200 asks for 200 examples, but the bundled sample has 57/);
    expect(r.stderr).toMatch(/2wikimultihopqa:50 asks for 50 examples, but the bundled sample has 2/);
  });

  it("a folder without config.json is not a model folder", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lmcot-not-a-model-"));
    mkdirSync(join(dir, "empty"));
    const r = await lmcot("bench", "--small", `kd=transformers:${join(dir, "empty")}`, "--dry-run");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/small kd: .*empty is not a model folder \(no config\.json\)/);
  });

  it("--allow-smaller runs on what there is with a loud warning; real runs check sizes too", async () => {
    const r = await lmcot("bench", "--datasets", "2wikimultihopqa:50", "--allow-smaller", "--dry-run");
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: 2wikimultihopqa:50 asks for 50 examples.*running on all 2/);
    const run = await lmcot("bench", "--datasets", "2wikimultihopqa:50", "--methods", "standard");
    expect(run.code).toBe(2);
  });

  it("prints calls, tokens and cost per cell and a grand total, pricing hosted models", async () => {
    const r = await lmcotEnv(
      { OPENAI_API_KEY: "sk-test-dry-run0123456789abcdef" },
      "bench",
      "--large",
      "openai:gpt-4o-mini",
      "--datasets",
      "hotpotqa:10",
      "--methods",
      "standard,cot",
      "--dry-run",
    );
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(3);
    const cost = (line: string) => Number(/~\$([\d.]+)/.exec(line)![1]);
    expect(lines[2]).toMatch(/^TOTAL: 20 examples, 20 large-LM calls, ~\d+ input \+ ~\d+ output tokens, ~\$/);
    expect(cost(lines[2]!)).toBeCloseTo(cost(lines[0]!) + cost(lines[1]!), 3);
    expect(cost(lines[2]!)).toBeGreaterThan(0);
  });
});
