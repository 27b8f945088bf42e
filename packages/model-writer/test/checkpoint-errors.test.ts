import { existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, truncate, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BadRequestError, ModelNotFoundError } from "@lmcot/core";
import { afterAll, describe, expect, it } from "vitest";
import {
  exportT5Onnx,
  floatToBfloat16,
  floatToHalf,
  readSafetensors,
  readT5Checkpoint,
  writeSafetensors,
  writeT5Checkpoint,
} from "../src/index";
import { fixture } from "./t5-fixtures";

const temp = await mkdtemp(join(tmpdir(), "lmcot-bad-checkpoints-"));
afterAll(() => rm(temp, { recursive: true, force: true }));

let count = 0;
/** A fresh copy of a fixture folder to break. */
async function copyOf(name: "mini-flan-t5" | "mini-flan-t5-sharded" | "mini-t5-v1_0"): Promise<string> {
  const dir = join(temp, `${name}-${count++}`);
  await cp(fixture(name), dir, { recursive: true });
  return dir;
}

async function editConfig(dir: string, edit: (config: Record<string, unknown>) => void): Promise<void> {
  const file = join(dir, "config.json");
  const config = JSON.parse(await readFile(file, "utf8"));
  edit(config);
  await writeFile(file, JSON.stringify(config));
}

/** Rejects with a BadRequestError (exit 2 in the CLI) whose message matches. */
async function rejectsBadInput(promise: Promise<unknown>, message: RegExp): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, "expected a rejection").toBeDefined();
  expect((error as Error).message).toMatch(message);
  expect(BadRequestError.isInstance(error)).toBe(true);
}

describe("readT5Checkpoint: bad input gets one error naming the file and the field or tensor", () => {
  it("an unsupported feed_forward_proj", async () => {
    const dir = await copyOf("mini-flan-t5");
    await editConfig(dir, (c) => {
      c.feed_forward_proj = "gated-silu";
    });
    await rejectsBadInput(
      readT5Checkpoint(dir),
      /config\.json: feed_forward_proj: "gated-silu" is not supported \(relu, gated-gelu/,
    );
  });

  it("an unsupported architecture or model_type", async () => {
    const dir = await copyOf("mini-flan-t5");
    await editConfig(dir, (c) => {
      c.architectures = ["T5EncoderModel"];
    });
    await rejectsBadInput(
      readT5Checkpoint(dir),
      /config\.json: architectures: \["T5EncoderModel"\] is not supported/,
    );
    await editConfig(dir, (c) => {
      c.architectures = ["T5ForConditionalGeneration"];
      c.model_type = "bart";
    });
    await rejectsBadInput(readT5Checkpoint(dir), /config\.json: model_type: "bart" is not supported/);
  });

  it("a field of the wrong type", async () => {
    const dir = await copyOf("mini-t5-v1_0");
    await editConfig(dir, (c) => {
      c.num_heads = "four";
    });
    await rejectsBadInput(readT5Checkpoint(dir), /config\.json: num_heads: /);
  });

  it("a missing tensor", async () => {
    const dir = await copyOf("mini-flan-t5");
    const file = join(dir, "model.safetensors");
    const weights = await readSafetensors(file);
    weights.delete("decoder.block.1.layer.2.DenseReluDense.wi_1.weight");
    await writeSafetensors(file, weights);
    await rejectsBadInput(
      readT5Checkpoint(dir),
      /model\.safetensors: missing decoder\.block\.1\.layer\.2\.DenseReluDense\.wi_1\.weight \(shape \[96,48\]\)/,
    );
  });

  it("a misshaped tensor", async () => {
    const dir = await copyOf("mini-t5-v1_0");
    const file = join(dir, "model.safetensors");
    const weights = await readSafetensors(file);
    weights.set("shared.weight", { data: new Float32Array(1000 * 48), shape: [1000, 48] });
    await writeSafetensors(file, weights);
    await rejectsBadInput(
      readT5Checkpoint(dir),
      /model\.safetensors: shared\.weight has shape \[1000,48\], expected \[1024,48\]/,
    );
  });

  it("a tensor the architecture does not have", async () => {
    const dir = await copyOf("mini-t5-v1_0");
    const file = join(dir, "model.safetensors");
    const weights = await readSafetensors(file);
    weights.set("value_head.weight", { data: new Float32Array(48), shape: [1, 48] });
    await writeSafetensors(file, weights);
    await rejectsBadInput(readT5Checkpoint(dir), /model\.safetensors: unexpected tensor value_head\.weight/);
  });

  it("tied copies HF skips are dropped when equal to shared.weight, refused when not", async () => {
    const dir = await copyOf("mini-t5-v1_0");
    const file = join(dir, "model.safetensors");
    const weights = await readSafetensors(file);
    const shared = weights.get("shared.weight");
    if (shared === undefined) throw new Error("fixture has no shared.weight");
    weights.set("encoder.embed_tokens.weight", shared);
    weights.set("lm_head.weight", shared);
    await writeSafetensors(file, weights);
    const read = await readT5Checkpoint(dir);
    expect(read.weights.has("encoder.embed_tokens.weight")).toBe(false);
    expect(read.weights.has("lm_head.weight")).toBe(false);
    expect(read.weights.size).toBe(55);
    weights.set("lm_head.weight", { data: shared.data.map((x) => x * 2), shape: shared.shape });
    await writeSafetensors(file, weights);
    await rejectsBadInput(
      readT5Checkpoint(dir),
      /model\.safetensors: lm_head\.weight differs from shared\.weight but config\.json tie_word_embeddings is true/,
    );
  });

  it("a checkpoint that kept encoder.embed_tokens.weight instead of shared.weight reads as shared.weight", async () => {
    const dir = await copyOf("mini-t5-v1_0");
    const file = join(dir, "model.safetensors");
    const weights = await readSafetensors(file);
    const shared = weights.get("shared.weight");
    weights.delete("shared.weight");
    weights.set("encoder.embed_tokens.weight", shared as NonNullable<typeof shared>);
    await writeSafetensors(file, weights);
    const read = await readT5Checkpoint(dir);
    expect(read.weights.get("shared.weight")?.data).toEqual(shared?.data);
    expect(read.weights.has("encoder.embed_tokens.weight")).toBe(false);
  });

  it("a truncated safetensors file (data, then header)", async () => {
    const dir = await copyOf("mini-flan-t5");
    const file = join(dir, "model.safetensors");
    await truncate(file, 500_000);
    await rejectsBadInput(
      readT5Checkpoint(dir),
      /model\.safetensors: tensor [\w.]+: data ends at byte \d+ but the file holds \d+ data bytes \(truncated file\?\)/,
    );
    await truncate(file, 100);
    await rejectsBadInput(
      readT5Checkpoint(dir),
      /model\.safetensors: header length \d+ does not fit in 100 bytes \(truncated file\?\)/,
    );
  });

  it("a shard the index names but that is missing, and a truncated shard", async () => {
    const dir = await copyOf("mini-flan-t5-sharded");
    await unlink(join(dir, "model-00003-of-00004.safetensors"));
    await rejectsBadInput(
      readT5Checkpoint(dir),
      /model\.safetensors\.index\.json: shard model-00003-of-00004\.safetensors is missing \(it holds 17 tensors/,
    );
    const other = await copyOf("mini-flan-t5-sharded");
    await truncate(join(other, "model-00004-of-00004.safetensors"), 150_000);
    await rejectsBadInput(
      readT5Checkpoint(other),
      /model-00004-of-00004\.safetensors: tensor lm_head\.weight: data ends at byte 196608 .*truncated/,
    );
  });

  it("a folder with only pytorch_model.bin says which conversion to run", async () => {
    const dir = join(temp, "pytorch-only");
    await mkdir(dir);
    await cp(join(fixture("mini-flan-t5"), "config.json"), join(dir, "config.json"));
    await writeFile(join(dir, "pytorch_model.bin"), "not read");
    await rejectsBadInput(
      readT5Checkpoint(dir),
      /pytorch-only: has pytorch_model\.bin but no model\.safetensors; .*from_pretrained\('.*pytorch-only'\)\.save_pretrained\('.*pytorch-only', safe_serialization=True\)/,
    );
  });

  it("a tokenizer with more entries than the model's vocab_size", async () => {
    const dir = await copyOf("mini-flan-t5");
    const file = join(dir, "tokenizer.json");
    const tokenizer = JSON.parse(await readFile(file, "utf8"));
    for (let id = 1000; id < 1030; id++)
      tokenizer.added_tokens.push({ id, content: `<new_${id}>`, special: true });
    await writeFile(file, JSON.stringify(tokenizer));
    await rejectsBadInput(
      readT5Checkpoint(dir),
      /tokenizer\.json: the tokenizer has 1030 entries \(ids 0–1029\) but .*config\.json vocab_size is 1024/,
    );
  });

  it("a folder without config.json is a ModelNotFoundError", async () => {
    const error = await readT5Checkpoint(join(temp, "nothing-here")).catch((e: unknown) => e);
    expect(ModelNotFoundError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/nothing-here: no config\.json/);
  });
});

describe("F16 and BF16 checkpoints", () => {
  it("the half-precision conversions round to nearest even", () => {
    expect([1, -2, 65504, 1e-8, 2 ** -24, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 70000].map(floatToHalf)).toEqual([
      0x3c00, 0xc000, 0x7bff, 0, 1, 0x3c00, 0x3c02, 0x7c00,
    ]);
    expect([1.5, -2, 1 + 2 ** -8, 1 + 3 * 2 ** -8].map(floatToBfloat16)).toEqual([
      0x3fc0, 0xc000, 0x3f80, 0x3f82,
    ]);
  });

  for (const dtype of ["F16", "BF16"] as const) {
    it(`a ${dtype} copy of mini-flan-t5 reads as float32 within ${dtype}'s precision`, async () => {
      const source = await readT5Checkpoint(fixture("mini-flan-t5"));
      const dir = join(temp, `flan-${dtype}`);
      await writeT5Checkpoint(dir, {
        rawConfig: source.rawConfig,
        weights: source.weights,
        tokenizerFrom: fixture("mini-flan-t5"),
        dtype,
      });
      const header = (await readFile(join(dir, "model.safetensors"))).subarray(8, 200).toString();
      expect(header).toContain(`"dtype":"${dtype}"`);
      const read = await readT5Checkpoint(dir);
      expect([...read.weights.keys()].sort()).toEqual([...source.weights.keys()].sort());
      const relative = dtype === "F16" ? 2 ** -11 : 2 ** -8;
      let worst = 0;
      for (const [name, t] of source.weights) {
        const got = read.weights.get(name)?.data as Float32Array;
        for (let i = 0; i < t.data.length; i++) {
          const x = t.data[i] as number;
          worst = Math.max(worst, Math.abs((got[i] as number) - x) - relative * Math.abs(x));
        }
      }
      expect(worst).toBeLessThanOrEqual(2 ** -24); // F16 subnormal spacing
    });
  }
});

describe("writeT5Checkpoint and exportT5Onnx refuse bad input and write nothing", () => {
  it("writeT5Checkpoint: a tensor the architecture does not have, or a missing one", async () => {
    const source = await readT5Checkpoint(fixture("mini-t5-v1_0"));
    const weights = new Map(source.weights);
    weights.set("lm_head.weight", weights.get("shared.weight") as never);
    await rejectsBadInput(
      writeT5Checkpoint(join(temp, "never-1"), { rawConfig: source.rawConfig, weights }),
      /unexpected tensor lm_head\.weight/,
    );
    weights.delete("lm_head.weight");
    weights.delete("encoder.final_layer_norm.weight");
    await rejectsBadInput(
      writeT5Checkpoint(join(temp, "never-2"), { rawConfig: source.rawConfig, weights }),
      /missing encoder\.final_layer_norm\.weight/,
    );
    expect(existsSync(join(temp, "never-1"))).toBe(false);
    expect(existsSync(join(temp, "never-2"))).toBe(false);
  });

  it("exportT5Onnx: bad input leaves the output folder absent and no temporary folder behind", async () => {
    const dir = await copyOf("mini-flan-t5-sharded");
    await unlink(join(dir, "model-00002-of-00004.safetensors"));
    const parent = join(temp, "exports");
    await mkdir(parent);
    await rejectsBadInput(
      exportT5Onnx(dir, join(parent, "out")),
      /shard model-00002-of-00004\.safetensors is missing/,
    );
    expect(await readdir(parent)).toEqual([]);
    // the sharded fixture has no tokenizer: transformers.js could not load the export
    await rejectsBadInput(
      exportT5Onnx(fixture("mini-flan-t5-sharded"), join(parent, "out")),
      /mini-flan-t5-sharded: no tokenizer\.json/,
    );
    expect(await readdir(parent)).toEqual([]);
  });

  it("exportT5Onnx: an output folder that is not empty is refused untouched", async () => {
    const out = join(temp, "busy");
    await mkdir(out);
    await writeFile(join(out, "keep.txt"), "mine");
    await rejectsBadInput(exportT5Onnx(fixture("mini-t5-v1_0"), out), /busy: exists and is not empty/);
    expect(await readdir(out)).toEqual(["keep.txt"]);
  });
});
