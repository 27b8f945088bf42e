import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { exportT5Onnx, readT5Checkpoint } from "../src/index";
import { fixture } from "./t5-fixtures";

const temp = await mkdtemp(join(tmpdir(), "lmcot-export-"));
afterAll(() => rm(temp, { recursive: true, force: true }));

const json = async (file: string) => JSON.parse(await readFile(file, "utf8"));

describe("exportT5Onnx writes the folder transformers.js reads", () => {
  it("the source's config fields, generation config and tokenizer files byte for byte", async () => {
    const { files } = await exportT5Onnx(fixture("mini-flan-t5"), join(temp, "flan"));
    expect(files).toEqual([
      "config.json",
      "generation_config.json",
      "tokenizer.json",
      "tokenizer_config.json",
      "special_tokens_map.json",
      "spiece.model",
      "onnx/encoder_model.onnx",
      "onnx/decoder_model_merged.onnx",
    ]);
    expect(await json(join(temp, "flan", "config.json"))).toEqual(
      await json(join(fixture("mini-flan-t5"), "config.json")),
    );
    expect(await json(join(temp, "flan", "generation_config.json"))).toEqual(
      await json(join(fixture("mini-flan-t5"), "generation_config.json")),
    );
    for (const f of ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "spiece.model"]) {
      expect(
        Buffer.compare(
          await readFile(join(temp, "flan", f)),
          await readFile(join(fixture("mini-flan-t5"), f)),
        ),
        f,
      ).toBe(0);
    }
  });

  it("fills model_type and num_decoder_layers when config.json leaves them to the defaults", async () => {
    const source = join(temp, "sparse-config");
    await cp(fixture("mini-t5-v1_0"), source, { recursive: true });
    const config = await json(join(source, "config.json"));
    delete config.model_type;
    await writeFile(join(source, "config.json"), JSON.stringify(config));
    const checkpoint = await readT5Checkpoint(source);
    // a checkpoint built in memory (as a trainer has it), with no source folder: the tokenizer comes from tokenizerFrom
    await exportT5Onnx(
      {
        config: checkpoint.config,
        weights: checkpoint.weights,
        rawConfig: { ...config, num_decoder_layers: undefined },
      },
      join(temp, "sparse-out"),
      { tokenizerFrom: source },
    );
    const written = await json(join(temp, "sparse-out", "config.json"));
    expect(written.model_type).toBe("t5");
    expect(written.num_decoder_layers).toBe(2);
    expect(await json(join(temp, "sparse-out", "generation_config.json"))).toEqual({
      decoder_start_token_id: 0,
      eos_token_id: 1,
      pad_token_id: 0,
    });
  });

  it("an abort (Ctrl-C) between files rejects and removes the half-written folder", async () => {
    const parent = join(temp, "aborted");
    await mkdir(parent);
    const controller = new AbortController();
    const { signal } = controller;
    // abort once the first ONNX file is written (the export checks the signal before each file)
    let checks = 0;
    const check = signal.throwIfAborted.bind(signal);
    signal.throwIfAborted = () => {
      if (++checks === 2) controller.abort(new Error("interrupted"));
      check();
    };
    await expect(
      exportT5Onnx(fixture("mini-flan-t5"), join(parent, "out"), { quantize: "q8", signal }),
    ).rejects.toThrow("interrupted");
    expect(checks).toBe(2);
    expect(await readdir(parent)).toEqual([]);
  });
});
