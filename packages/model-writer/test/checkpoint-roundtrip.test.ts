import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  DEFAULT_MAX_SHARD_SIZE,
  planShards,
  readSafetensors,
  readT5Checkpoint,
  type T5Weights,
  writeT5Checkpoint,
} from "../src/index";
import { FIXTURES, fixture } from "./t5-fixtures";

const temp = await mkdtemp(join(tmpdir(), "lmcot-roundtrip-"));
afterAll(() => rm(temp, { recursive: true, force: true }));

/** Every tensor as shape + sha256 of its bytes, so a comparison is bit for bit (NaN payloads and -0 included). */
function bits(weights: T5Weights): Map<string, string> {
  return new Map(
    [...weights].map(([name, t]) => [
      name,
      `[${t.shape}] ${createHash("sha256")
        .update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength))
        .digest("hex")}`,
    ]),
  );
}

const sha256 = async (file: string) =>
  createHash("sha256")
    .update(await readFile(file))
    .digest("hex");

async function sourceTensors(folder: string): Promise<T5Weights> {
  const files = (await readdir(folder)).filter((f) => f.endsWith(".safetensors"));
  const all: T5Weights = new Map();
  for (const f of files) for (const [k, v] of await readSafetensors(join(folder, f))) all.set(k, v);
  return all;
}

describe("T5 checkpoint round trip (read, then write with no change)", () => {
  for (const name of FIXTURES) {
    it(`${name}: every tensor bit for bit, the same key set, the same files`, async () => {
      const source = fixture(name);
      const checkpoint = await readT5Checkpoint(source);
      const out = join(temp, name);
      const sharded = name.endsWith("sharded");
      const written = await writeT5Checkpoint(out, {
        rawConfig: checkpoint.rawConfig,
        weights: checkpoint.weights,
        generation: checkpoint.generationConfig,
        tokenizerFrom: source,
        maxShardSize: sharded ? 300_000 : undefined,
      });
      const before = bits(await sourceTensors(source));
      const after = bits(await sourceTensors(out));
      expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
      expect(after).toEqual(before);
      expect((await readT5Checkpoint(out)).weights.size).toBe(checkpoint.weights.size);
      // the files themselves: save_pretrained's bytes (header layout, order, padding) and index
      const weightFiles = written.filter((f) => f.endsWith(".safetensors") || f.endsWith(".index.json"));
      for (const f of [...weightFiles, ...checkpoint.tokenizerFiles]) {
        expect(await sha256(join(out, f)), f).toBe(await sha256(join(source, f)));
      }
      expect(JSON.parse(await readFile(join(out, "config.json"), "utf8"))).toEqual(checkpoint.rawConfig);
      expect(written.some((f) => f.startsWith("model-0000"))).toBe(sharded);
    });
  }

  it("keys are exactly save_pretrained's: shared.weight only, lm_head.weight only when untied", async () => {
    const flan = await readT5Checkpoint(fixture("mini-flan-t5"));
    const v10 = await readT5Checkpoint(fixture("mini-t5-v1_0"));
    expect(flan.weights.size).toBe(61);
    expect(v10.weights.size).toBe(55);
    expect(flan.weights.has("lm_head.weight")).toBe(true);
    expect(v10.weights.has("lm_head.weight")).toBe(false);
    for (const c of [flan, v10]) {
      expect(c.weights.has("encoder.embed_tokens.weight")).toBe(false);
      expect(c.weights.has("decoder.embed_tokens.weight")).toBe(false);
    }
    expect(flan.config).toMatchObject({ feed_forward_proj: "gated-gelu", tie_word_embeddings: false });
    expect(v10.config).toMatchObject({ feed_forward_proj: "relu", tie_word_embeddings: true });
    expect(flan.config.num_decoder_layers).toBe(2);
    expect(flan.config.num_layers).toBe(3);
  });

  it("shards as huggingface_hub does: a tensor that tips a shard over starts the next; one above the limit gets its own, at once", () => {
    const sizes: [string, number][] = [
      ["a", 10],
      ["b", 15],
      ["big", 50],
      ["c", 10],
      ["d", 30],
    ];
    expect(planShards(sizes, 30)).toEqual([["big"], ["a", "b"], ["c"], ["d"]]);
    expect(planShards(sizes, 1000)).toEqual([["a", "b", "big", "c", "d"]]);
    expect(DEFAULT_MAX_SHARD_SIZE).toBe(5_000_000_000); // save_pretrained's "5GB"
  });
});
