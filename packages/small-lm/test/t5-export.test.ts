import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { exportT5Onnx } from "@lmcot/model-writer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getRationaleModel } from "../src/index";
import { tempDir } from "./helpers/fixtures";

/** model-writer's copy of the mini T5 / FLAN-T5 checkpoints made with Hugging Face transformers. */
const FIXTURES = join(import.meta.dirname, "..", "..", "model-writer", "test", "fixtures", "t5");
const MODELS = ["mini-flan-t5", "mini-t5-v1_0"] as const;

interface ReferenceInput {
  name: string;
  text: string;
  input_ids: number[];
  greedy: { sequence: number[]; new_tokens: number[] };
}
const reference = (name: string): ReferenceInput[] =>
  JSON.parse(readFileSync(join(FIXTURES, name, "reference.json"), "utf8")).inputs;

let temp: Awaited<ReturnType<typeof tempDir>>;

beforeAll(async () => {
  temp = await tempDir("lmcot-t5-export-");
  for (const name of MODELS)
    await exportT5Onnx(join(FIXTURES, name), join(temp.dir, name), { quantize: "q8" });
}, 120_000);
afterAll(() => temp?.cleanup());

describe("exportT5Onnx: the Hugging Face checkpoints run in transformers.js", () => {
  for (const name of MODELS) {
    it(`${name}: transformers.js greedy tokens equal Hugging Face's for all four inputs`, async () => {
      const { env, AutoTokenizer, AutoModelForSeq2SeqLM } = await import("@huggingface/transformers");
      env.allowRemoteModels = false;
      env.allowLocalModels = true;
      env.localModelPath = `${temp.dir}/`;
      const tokenizer = await AutoTokenizer.from_pretrained(name);
      const model = await AutoModelForSeq2SeqLM.from_pretrained(name, { dtype: "fp32", device: "cpu" });
      try {
        for (const input of reference(name)) {
          const ids = tokenizer.encode(input.text);
          expect(ids, input.name).toEqual(input.input_ids);
          const { input_ids, attention_mask } = tokenizer(input.text);
          const out = (await model.generate({
            input_ids,
            attention_mask,
            max_new_tokens: 16,
            do_sample: false,
          })) as { tolist(): bigint[][] };
          expect(out.tolist()[0]?.map(Number), input.name).toEqual(input.greedy.sequence);
        }
      } finally {
        await model.dispose();
      }
    }, 120_000);

    it(`${name}: @lmcot/small-lm's transformers: model gives the same 16 greedy tokens`, async () => {
      const rationale = await getRationaleModel(`transformers:${join(temp.dir, name)}`, {
        allowRemoteModels: false,
      });
      try {
        const inputs = reference(name);
        const out = await rationale.generate(
          inputs.map((i) => i.text),
          { maxNewTokens: 16, temperature: 0 },
        );
        expect(out.map((o) => o.tokenIds)).toEqual(inputs.map((i) => i.greedy.new_tokens));
        expect(out.every((o) => o.finishReason === "length")).toBe(true);
      } finally {
        await rationale.dispose?.();
      }
    }, 120_000);
  }

  it("ONNX external data (limits lowered to 1 KB, chunks of 256 KB): weights in onnx/*.onnx_data*, listed in config.json, same greedy tokens", async () => {
    const folder = join(temp.dir, "external");
    const { files } = await exportT5Onnx(join(FIXTURES, "mini-flan-t5"), folder, {
      externalDataThreshold: 1024,
      externalDataChunkBytes: 256 * 1024,
      quantize: "q8",
    });
    expect(files.filter((f) => f.includes(".onnx_data")).sort()).toEqual([
      "onnx/decoder_model_merged.onnx_data",
      "onnx/decoder_model_merged.onnx_data_1",
      "onnx/decoder_model_merged.onnx_data_2",
      "onnx/decoder_model_merged_quantized.onnx_data",
      "onnx/decoder_model_merged_quantized.onnx_data_1",
      "onnx/encoder_model.onnx_data",
      "onnx/encoder_model.onnx_data_1",
      "onnx/encoder_model_quantized.onnx_data",
      "onnx/encoder_model_quantized.onnx_data_1",
    ]);
    for (const f of files.filter((f) => f.includes(".onnx_data")))
      expect(statSync(join(folder, f)).size).toBeLessThanOrEqual(256 * 1024);
    const config = JSON.parse(readFileSync(join(folder, "config.json"), "utf8"));
    expect(config["transformers.js_config"].use_external_data_format).toEqual({
      "encoder_model.onnx": 2,
      "decoder_model_merged.onnx": 3,
      "encoder_model_quantized.onnx": 2,
      "decoder_model_merged_quantized.onnx": 2,
    });
    // the .onnx files hold the graph only: far smaller than the weights they name
    expect(statSync(join(folder, "onnx", "decoder_model_merged.onnx")).size).toBeLessThan(
      statSync(join(folder, "onnx", "decoder_model_merged.onnx_data")).size / 4,
    );
    const rationale = await getRationaleModel(`transformers:${folder}`, { allowRemoteModels: false });
    try {
      const inputs = reference("mini-flan-t5");
      const out = await rationale.generate(
        inputs.map((i) => i.text),
        { maxNewTokens: 16, temperature: 0 },
      );
      expect(out.map((o) => o.tokenIds)).toEqual(inputs.map((i) => i.greedy.new_tokens));
    } finally {
      await rationale.dispose?.();
    }
  }, 120_000);

  it("the q8 export loads and generates 16 tokens per input", async () => {
    const q8 = await getRationaleModel(`transformers:${join(temp.dir, "mini-flan-t5")}`, {
      allowRemoteModels: false,
      dtype: "q8",
    });
    try {
      const inputs = reference("mini-flan-t5");
      const out = await q8.generate(
        inputs.map((i) => i.text),
        { maxNewTokens: 16, temperature: 0 },
      );
      expect(out.map((o) => o.tokenIds?.length)).toEqual([16, 16, 16, 16]);
      // int8 weights of a random model whose top-2 margins go down to 0.016: most tokens agree with
      // float32 (46 of 64 here), not all; a broken graph would agree by chance only (1 in 1024)
      const same = out.flatMap((o, i) =>
        (o.tokenIds ?? []).map((t, j) => t === inputs[i]?.greedy.new_tokens[j]),
      );
      expect(same.filter(Boolean).length).toBeGreaterThanOrEqual(32);
    } finally {
      await q8.dispose?.();
    }
  }, 120_000);
});
