import { execFile, spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { bin } from "./run-cli";

const exec = promisify(execFile);
const env = { ...process.env, CI: "1", OPENAI_API_KEY: "", ANTHROPIC_API_KEY: "" };

/** `lmcot` in `cwd`, offline; never throws. */
async function lmcotIn(cwd: string, ...args: string[]) {
  try {
    const { stdout, stderr } = await exec(process.execPath, [bin, ...args], { cwd, env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** paper-offline on a small slice: a micro T5, two KD steps, six short PPO steps, three held-out questions. */
const SMALL = (extra = "") => `extends: paper-offline
out: run
train:
  kd: { model: micro, epochs: 2, maxSteps: 2 }
  rl: { steps: 6, batchSize: 2, miniBatchSize: 2, maxNewTokens: 16, saveEvery: 1 }
bench:
  datasets: [{ name: hotpotqa, split: eval, evalSize: 3 }]
  selfConsistency: 2
${extra}`;

const manifest = (cwd: string, stage: string) => join(cwd, "run", stage, "reproduce-stage.json");
const stamp = (path: string) => `${statSync(path).mtimeMs} ${readFileSync(path, "utf8")}`;
/** The stage table on stdout: `stage status …` → { stage: status }. */
const statuses = (stdout: string) =>
  Object.fromEntries(
    [...stdout.matchAll(/^(distill|kd|rl|bench|scores|report)\s+(ran|skipped)\b/gm)].map((m) => [m[1], m[2]]),
  );

const STAGES = ["distill", "kd", "rl", "bench", "scores", "report"];
/** The statuses of a run that redid `first` and every stage after it (`undefined`: redid none). */
const ranFrom = (first?: string) =>
  Object.fromEntries(STAGES.map((s, i) => [s, first && i >= STAGES.indexOf(first) ? "ran" : "skipped"]));

let trained = "";

describe("lmcot reproduce --config paper-offline (a small slice)", () => {
  const cwd = mkdtempSync(join(tmpdir(), "lmcot-reproduce-"));
  writeFileSync(join(cwd, "small.yaml"), SMALL());

  it("killed (SIGKILL) during PPO, then resumed: no completed stage is redone; the report has KD vs KD+RL", async () => {
    const child = spawn(process.execPath, [bin, "reproduce", "--config", "small.yaml"], { cwd, env });
    let stderr = "";
    child.stderr.on("data", (c) => (stderr += c));
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    const metrics = join(cwd, "run", "rl", "metrics.jsonl");
    // Kill once PPO is past its first step (whose checkpoint it saved: saveEvery 1), mid-stage.
    const logged = () => (existsSync(metrics) ? readFileSync(metrics, "utf8").trim().split("\n").length : 0);
    while (logged() < 2 && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
    child.kill("SIGKILL");
    await exited;
    expect(stderr).toContain("[3/6] rl: running");
    expect(existsSync(manifest(cwd, "kd"))).toBe(true);
    expect(existsSync(manifest(cwd, "rl"))).toBe(false);
    const before = { distill: stamp(manifest(cwd, "distill")), kd: stamp(manifest(cwd, "kd")) };

    const resumed = await lmcotIn(cwd, "reproduce", "--config", "small.yaml");
    expect(resumed.stderr).toContain("[1/6] distill: skipped");
    expect(resumed.stderr).toContain("[2/6] kd: skipped");
    expect(resumed.stderr).toContain("[3/6] rl: resuming");
    expect(resumed.stderr).toMatch(/resuming from .*checkpoints/);
    expect(resumed.code).toBe(0);
    expect(statuses(resumed.stdout)).toEqual(ranFrom("rl"));
    expect({ distill: stamp(manifest(cwd, "distill")), kd: stamp(manifest(cwd, "kd")) }).toEqual(before);
    // PPO went on from its checkpoint: every step is logged once.
    const steps = readFileSync(metrics, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).step);
    expect(steps).toEqual([1, 2, 3, 4, 5, 6]);

    const md = readFileSync(join(cwd, "run", "report", "report.md"), "utf8");
    expect(md).toContain("Rationale quality");
    expect(md).toContain("kd+rl − kd");
    expect(md).toContain("RL yields higher-quality rationales");
    expect(md).toMatch(/\| total \| [\d.]+ s \| \$0\.0000 \|/);
    const json = JSON.parse(readFileSync(join(cwd, "run", "report", "report.json"), "utf8"));
    expect(Object.keys(json.runs)).toEqual(["grid", "sc"]);
    expect(json.runs.grid.rationaleQuality.pairs[0]).toMatchObject({ kd: "kd", rl: "kd+rl", n: 3 });
    expect(json.runs.grid.rationaleQuality.claim.verdict).toBe("too few questions (n = 3)");
    expect(existsSync(join(cwd, "run", "bench", "grid", "rewards-hotpotqa.jsonl"))).toBe(true);
    const html = readFileSync(join(cwd, "run", "report", "report.html"), "utf8");
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'"`);
    expect(html).toContain('href="../bench/grid/report.html"');
    expect(readFileSync(join(cwd, "run", "bench", "grid", "report.html"), "utf8")).toContain('id="rq-pairs"');
    trained = cwd;
  }, 300_000);

  it("a second run skips everything; --from bench redoes bench, scores and report only", async () => {
    const again = await lmcotIn(cwd, "reproduce", "--config", "small.yaml");
    expect(again.code).toBe(0);
    expect(statuses(again.stdout)).toEqual(ranFrom());
    const rl = stamp(manifest(cwd, "rl"));
    const from = await lmcotIn(cwd, "reproduce", "--config", "small.yaml", "--from", "bench");
    expect(from.code).toBe(0);
    expect(statuses(from.stdout)).toEqual(ranFrom("bench"));
    expect(stamp(manifest(cwd, "rl"))).toBe(rl);
  }, 300_000);

  it("a changed setting reruns its stage and the ones after it", async () => {
    writeFileSync(join(cwd, "changed.yaml"), SMALL("scores: { judgeMode: one-call }"));
    const changed = await lmcotIn(cwd, "reproduce", "--config", "changed.yaml");
    expect(changed.code).toBe(0);
    expect(statuses(changed.stdout)).toEqual(ranFrom("scores"));
  }, 300_000);
});

describe("lmcot reproduce: config and dry run", () => {
  const cwd = mkdtempSync(join(tmpdir(), "lmcot-reproduce-config-"));

  it("refuses an unknown key with the nearest one (exit 2)", async () => {
    writeFileSync(join(cwd, "typo.yaml"), "extends: paper-offline\nbench: { selfConsistancy: 3 }\n");
    const r = await lmcotIn(cwd, "reproduce", "--config", "typo.yaml");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      "typo.yaml: bench.selfConsistancy: unknown key; did you mean selfConsistency?",
    );
  });

  it("refuses a preset that does not exist and a bad value, naming the field (exit 2)", async () => {
    expect((await lmcotIn(cwd, "reproduce", "--config", "paperr")).stderr).toContain(
      "no such file or preset",
    );
    writeFileSync(join(cwd, "bad.yaml"), "extends: paper\ntrain: { engine: torch }\n");
    const r = await lmcotIn(cwd, "reproduce", "--config", "bad.yaml");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.yaml: train\.engine/);
  });

  it("--dry-run prices the paper preset per stage, online and with batches", async () => {
    const r = await lmcotIn(cwd, "reproduce", "--config", "paper", "--dry-run");
    expect(r.code).toBe(0);
    for (const stage of ["distill", "kd", "rl", "bench", "scores", "report"])
      expect(r.stdout).toMatch(new RegExp(`^${stage}: \\d+ calls`, "m"));
    const total = /^TOTAL: (\d+) calls.*~\$([\d.]+) online, ~\$([\d.]+) with --batch/m.exec(r.stdout)!;
    const [online, batch] = [Number(total[2]), Number(total[3])];
    expect(Number(total[1])).toBeGreaterThan(100_000);
    expect(batch).toBeGreaterThan(0);
    expect(batch).toBeLessThan(online);
    expect(r.stderr).toContain("hotpotqa:dev is not downloaded");
    expect(existsSync(join(cwd, "runs"))).toBe(false);
  });
});

describe("lmcot reproduce with train.engine: trl", () => {
  it("hands KD, then PPO, off (exit 3, what to run and where the checkpoint goes) and goes on once each is there", async () => {
    expect(trained).not.toBe("");
    const cwd = mkdtempSync(join(tmpdir(), "lmcot-reproduce-trl-"));
    writeFileSync(
      join(cwd, "trl.yaml"),
      `extends: paper-offline
out: run
train: { engine: trl }
bench: { datasets: [{ name: hotpotqa, split: eval, evalSize: 2 }], methods: [lm-guided], selfConsistency: 1 }
`,
    );
    const kd = await lmcotIn(cwd, "reproduce", "--config", "trl.yaml");
    expect(kd.code).toBe(3);
    expect(kd.stderr).toContain("The KD stage is handed off to trl");
    expect(kd.stderr).toContain(join(cwd, "run", "kd", "train_kd.py"));
    expect(kd.stderr).toContain(`in ${join("run", "kd", "checkpoint")}`);
    expect(readFileSync(join(cwd, "run", "kd", "train_kd.py"), "utf8")).toContain(
      join(cwd, "run", "distill", "seq2seq.jsonl"),
    );
    // The "trained" checkpoints: model folders our writer produced (Hugging Face layout + ONNX).
    cpSync(join(trained, "run", "kd"), join(cwd, "run", "kd", "checkpoint"), { recursive: true });
    const rl = await lmcotIn(cwd, "reproduce", "--config", "trl.yaml");
    expect(rl.code).toBe(3);
    expect(rl.stderr).toContain("[1/6] distill: skipped");
    expect(rl.stderr).toContain("[2/6] kd: done");
    expect(rl.stderr).toContain("The PPO stage is handed off to trl");
    expect(rl.stderr).toContain("lmcot rewards serve --large extractive:reader --judge extractive:judge");
    expect(readFileSync(join(cwd, "run", "rl", "train_ppo.py"), "utf8")).toContain(
      join(cwd, "run", "kd", "checkpoint"),
    );
    cpSync(join(trained, "run", "rl"), join(cwd, "run", "rl", "checkpoint"), { recursive: true });
    const done = await lmcotIn(cwd, "reproduce", "--config", "trl.yaml");
    expect(done.stderr).toContain("[2/6] kd: skipped");
    expect(done.code).toBe(0);
    const report = JSON.parse(readFileSync(join(cwd, "run", "report", "report.json"), "utf8"));
    // The checkpoint is converted by lmcot export onnx, and the grid runs the converted folder.
    expect(report.stages.rl.outputs.hf).toBe(join("run", "rl", "checkpoint"));
    expect(report.stages.rl.outputs.model).toBe(join("run", "rl", "onnx-model"));
    expect(existsSync(join(cwd, "run", "rl", "onnx-model", "onnx", "decoder_model_merged.onnx"))).toBe(true);
    expect(report.runs.grid.rationaleQuality.pairs).toHaveLength(1);
  }, 300_000);
});
