import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadSample } from "@lmcot/datasets";
import { readSafetensors, readT5Checkpoint, writeSafetensors } from "@lmcot/model-writer";
import { getRationaleModel } from "@lmcot/small-lm";
import { TrainedRationaleModel } from "@lmcot/train";
import { beforeAll, describe, expect, it } from "vitest";
import { lmcot, lmcotEnv } from "./run-cli";

/* `lmcot train kd --model <folder>` from the mini FLAN-T5 checkpoint of model-writer's test fixtures. */

const FIXTURES = join(__dirname, "../../../packages/model-writer/test/fixtures/t5");
const FLAN = join(FIXTURES, "mini-flan-t5");
const TOKENIZER_FILES = [
  "tokenizer.json",
  "tokenizer_config.json",
  "special_tokens_map.json",
  "spiece.model",
];

let root: string;
let data: string;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "lmcot-train-flan-"));
  // {input, target} records from the bundled HotpotQA sample: the question with its first
  // supporting sentence, and the answer as a sentence.
  const examples = (await loadSample("hotpotqa")).slice(0, 12);
  data = join(root, "pairs.jsonl");
  writeFileSync(
    data,
    examples
      .map((e) => {
        const title = e.supportingFacts?.[0]?.title ?? e.context[0]?.title;
        const sentence = e.context.find((c) => c.title === title)?.sentences[0] ?? "";
        return JSON.stringify({
          input: `question: ${e.question} context: ${sentence}`,
          target: `The answer is ${e.answer}.`,
        });
      })
      .join("\n"),
  );
});

/** A copy of the mini FLAN-T5 folder to break. */
function copyOf(name: string, folder = FLAN): string {
  const to = join(root, name);
  cpSync(folder, to, { recursive: true });
  return to;
}

const bytes = (file: string) => readFileSync(file);

describe("lmcot train kd from a FLAN-T5 checkpoint", () => {
  it("--max-steps 0 saves every tensor and tokenizer file bit for bit, with the starting eval loss", async () => {
    const out = join(root, "same");
    const r = await lmcot(
      ...["train", "kd", "--data", data, "--out", out, "--model", FLAN, "--max-steps", "0"],
      ...["--no-onnx", "--json"],
    );
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.steps).toBe(0);
    expect(summary.startEvalLoss).toBeGreaterThan(0);
    const source = await readSafetensors(join(FLAN, "model.safetensors"));
    const saved = await readSafetensors(join(out, "model.safetensors"));
    expect([...saved.keys()].sort()).toEqual([...source.keys()].sort());
    for (const [name, t] of source) {
      const s = saved.get(name);
      expect(s?.shape, name).toEqual(t.shape);
      expect(
        Buffer.from((s?.data ?? new Float32Array()).buffer).equals(Buffer.from(t.data.buffer)),
        name,
      ).toBe(true);
    }
    for (const f of TOKENIZER_FILES) expect(bytes(join(out, f)).equals(bytes(join(FLAN, f))), f).toBe(true);
    const config = JSON.parse(readFileSync(join(out, "config.json"), "utf8"));
    expect(config).toMatchObject(JSON.parse(readFileSync(join(FLAN, "config.json"), "utf8")));

    // a hub id resolves through small-lm's models folder (offline here) to the same checkpoint
    const models = join(root, "models");
    cpSync(FLAN, join(models, "lmcot-test", "mini-flan-t5"), { recursive: true });
    const hub = await lmcotEnv(
      { HF_HUB_OFFLINE: "1", HF_ENDPOINT: undefined, LMCOT_MODELS_DIR: models },
      ...["train", "kd", "--data", data, "--out", join(root, "hub"), "--model", "lmcot-test/mini-flan-t5"],
      ...["--max-steps", "0", "--no-onnx", "--json"],
    );
    expect(hub.code, hub.stderr).toBe(0);
    expect(JSON.parse(hub.stdout).startEvalLoss).toBe(summary.startEvalLoss);
    expect(bytes(join(root, "hub", "model.safetensors")).equals(bytes(join(out, "model.safetensors")))).toBe(
      true,
    );
  }, 120_000);

  it("a few KD steps: the saved folder reloads, and its ONNX export generates the same greedy tokens through transformers.js", async () => {
    const out = join(root, "kd");
    const args = ["train", "kd", "--data", data, "--out", out, "--model", FLAN, "--json"];
    const r = await lmcot(...args, "--max-steps", "3", "--batch-size", "4", "--lr", "1e-3", "--seed", "1");
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.steps).toBe(3);
    expect(summary.startEvalLoss).toBeGreaterThan(0);
    expect(summary.evalLoss).toBeGreaterThan(0);
    // HF-exact folder: the same key set and shapes as the source, config fields kept
    const saved = await readT5Checkpoint(out);
    const source = await readT5Checkpoint(FLAN);
    expect([...saved.weights.keys()].sort()).toEqual([...source.weights.keys()].sort());
    expect(saved.config).toEqual(source.config);
    expect(saved.weights.get("lm_head.weight")?.data).not.toEqual(source.weights.get("lm_head.weight")?.data);

    const inputs = readFileSync(data, "utf8")
      .trim()
      .split("\n")
      .slice(0, 4)
      .map((l) => JSON.parse(l).input as string);
    const ours = await TrainedRationaleModel.load(out);
    const onnx = await getRationaleModel(`transformers:${out}`);
    try {
      const options = { maxNewTokens: 12, returnLogprobs: true };
      const a = await ours.generate(inputs, options);
      const b = await onnx.generate(inputs, options);
      expect(b.map((o) => o.tokenIds)).toEqual(a.map((o) => o.tokenIds));
      expect(b.map((o) => o.text)).toEqual(a.map((o) => o.text));
    } finally {
      await ours.dispose();
      await onnx.dispose?.();
    }

    // resuming past the end continues from the checkpoint with the recorded starting loss
    const more = await lmcot(...args, "--max-steps", "4", "--batch-size", "4", "--no-onnx");
    expect(more.code, more.stderr).toBe(0);
    expect(more.stderr).toMatch(/resuming from .*step-3/);
    expect(JSON.parse(more.stdout)).toMatchObject({
      steps: 4,
      resumedFrom: 3,
      startEvalLoss: summary.startEvalLoss,
    });
  }, 300_000);

  it("lmcot train rl works on the FLAN-T5 checkpoint", async () => {
    const out = join(root, "rl");
    const r = await lmcot(
      ...[
        "train",
        "rl",
        "--policy",
        FLAN,
        "--out",
        out,
        "--large",
        "extractive:reader",
        "--preset",
        "task-only",
      ],
      ...["--steps", "1", "--batch-size", "2", "--max-new-tokens", "4", "--no-onnx", "--json"],
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).steps).toBe(1);
    expect((await readT5Checkpoint(out)).config.feed_forward_proj).toBe("gated-gelu");
  }, 120_000);

  it("bad checkpoints: one error naming the file and the field or tensor, exit 2, nothing in --out", async () => {
    const cases: [string, () => string, RegExp][] = [
      [
        "unsupported feed_forward_proj",
        () => {
          const f = copyOf("silu");
          const config = JSON.parse(readFileSync(join(f, "config.json"), "utf8"));
          writeFileSync(
            join(f, "config.json"),
            JSON.stringify({ ...config, feed_forward_proj: "gated-silu" }),
          );
          return f;
        },
        /silu\/config\.json: feed_forward_proj: "gated-silu" is not supported/,
      ],
      [
        "missing tensor",
        () => copyOf("missing"),
        /missing\/model\.safetensors.*decoder\.block\.1\.layer\.2\.DenseReluDense\.wi_1\.weight/,
      ],
      [
        "misshaped tensor",
        () => copyOf("misshaped"),
        /misshaped\/model\.safetensors.*encoder\.block\.0\.layer\.0\.SelfAttention\.q\.weight.*shape/,
      ],
      [
        "tokenizer larger than the vocabulary",
        () => {
          const f = copyOf("small-vocab");
          const config = JSON.parse(readFileSync(join(f, "config.json"), "utf8"));
          writeFileSync(join(f, "config.json"), JSON.stringify({ ...config, vocab_size: 900 }));
          return f;
        },
        /small-vocab\/tokenizer\.json: the tokenizer has 1000 entries.*vocab_size is 900/,
      ],
      [
        "truncated safetensors",
        () => {
          const f = copyOf("truncated");
          truncateSync(join(f, "model.safetensors"), 500_000);
          return f;
        },
        /truncated\/model\.safetensors: tensor \S+: data ends at byte \d+ but the file holds/,
      ],
      [
        "missing shard",
        () => {
          const f = copyOf("unsharded", join(FIXTURES, "mini-flan-t5-sharded"));
          for (const t of TOKENIZER_FILES) cpSync(join(FLAN, t), join(f, t));
          rmSync(join(f, "model-00002-of-00004.safetensors"));
          return f;
        },
        /unsharded\/model\.safetensors\.index\.json: shard model-00002-of-00004\.safetensors is missing/,
      ],
    ];
    // the tensor cases need their safetensors rewritten
    const weights = await readSafetensors(join(FLAN, "model.safetensors"));
    for (const [name, make, expected] of cases) {
      const folder = make();
      if (name === "missing tensor") {
        const fewer = new Map(weights);
        fewer.delete("decoder.block.1.layer.2.DenseReluDense.wi_1.weight");
        await writeSafetensors(join(folder, "model.safetensors"), fewer);
      }
      if (name === "misshaped tensor") {
        const q = weights.get("encoder.block.0.layer.0.SelfAttention.q.weight");
        const changed = new Map(weights);
        changed.set("encoder.block.0.layer.0.SelfAttention.q.weight", {
          data: q?.data ?? new Float32Array(),
          shape: [24, 96],
        });
        await writeSafetensors(join(folder, "model.safetensors"), changed);
      }
      const out = join(root, `out-${name.replaceAll(" ", "-")}`);
      const r = await lmcot("train", "kd", "--data", data, "--out", out, "--model", folder, "--no-onnx");
      expect(r.code, `${name}: ${r.stderr}`).toBe(2);
      expect(r.stderr, name).toMatch(expected);
      expect(r.stderr.trim().split("\n"), name).toHaveLength(1);
      expect(existsSync(out), name).toBe(false);
    }
  }, 300_000);
});
