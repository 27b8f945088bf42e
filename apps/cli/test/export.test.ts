import { existsSync, readFileSync } from "node:fs";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, truncate, unlink, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getRationaleModel } from "@lmcot/small-lm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lmcotEnv } from "./run-cli";

/** model-writer's copy of the mini T5 / FLAN-T5 checkpoints made with Hugging Face transformers. */
const FIXTURES = join(__dirname, "..", "..", "..", "packages", "model-writer", "test", "fixtures", "t5");
const offline = { HF_HUB_OFFLINE: "1", HF_ENDPOINT: undefined };

let temp: string;
beforeAll(async () => {
  temp = await mkdtemp(join(tmpdir(), "lmcot-export-"));
});
afterAll(() => rm(temp, { recursive: true, force: true }));

describe("lmcot export onnx", () => {
  it("turns a FLAN-T5 folder into one that transformers: generates from as Hugging Face does", async () => {
    const out = join(temp, "flan-onnx");
    const r = await lmcotEnv(
      offline,
      "export",
      "onnx",
      join(FIXTURES, "mini-flan-t5"),
      "--out",
      out,
      "--quantize",
      "q8",
      "--json",
    );
    expect(r.code, r.stderr).toBe(0);
    const { folder, files } = JSON.parse(r.stdout) as {
      folder: string;
      files: { file: string; bytes: number }[];
    };
    expect(folder).toBe(out);
    expect(files.map((f) => f.file).sort()).toEqual([
      "config.json",
      "generation_config.json",
      "onnx/decoder_model_merged.onnx",
      "onnx/decoder_model_merged_quantized.onnx",
      "onnx/encoder_model.onnx",
      "onnx/encoder_model_quantized.onnx",
      "special_tokens_map.json",
      "spiece.model",
      "tokenizer.json",
      "tokenizer_config.json",
    ]);
    const reference = JSON.parse(readFileSync(join(FIXTURES, "mini-flan-t5", "reference.json"), "utf8"))
      .inputs as { text: string; greedy: { new_tokens: number[] } }[];
    const model = await getRationaleModel(`transformers:${out}`, { allowRemoteModels: false });
    try {
      const generated = await model.generate(
        reference.map((i) => i.text),
        { maxNewTokens: 16, temperature: 0 },
      );
      expect(generated.map((g) => g.tokenIds)).toEqual(reference.map((i) => i.greedy.new_tokens));
    } finally {
      await model.dispose?.();
    }
  }, 120_000);

  it("takes a hub id through the mirror of HF_ENDPOINT and the cache of LMCOT_CACHE_DIR", async () => {
    const requests: string[] = [];
    const server: Server = createServer(async (req, res) => {
      requests.push(req.url ?? "");
      const match = /^\/lmcot-test\/([\w.-]+)\/resolve\/main\/([\w.-]+)$/.exec(req.url ?? "");
      const file = match ? join(FIXTURES, match[1] as string, match[2] as string) : "";
      if (!match || !existsSync(file)) res.writeHead(404).end();
      else res.writeHead(200).end(await readFile(file));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const env = {
        HF_HUB_OFFLINE: undefined,
        LMCOT_OFFLINE: undefined,
        HF_ENDPOINT: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        LMCOT_CACHE_DIR: join(temp, "hub-cache"),
        LMCOT_MODELS_DIR: join(temp, "no-models"),
      };
      const out = join(temp, "from-hub");
      const r = await lmcotEnv(env, "export", "onnx", "lmcot-test/mini-t5-v1_0", "--out", out);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/Wrote .*from-hub:\n\s+config\.json/);
      expect(existsSync(join(out, "onnx", "decoder_model_merged.onnx"))).toBe(true);
      expect(requests).toContain("/lmcot-test/mini-t5-v1_0/resolve/main/model.safetensors");
      expect(existsSync(join(temp, "hub-cache", "lmcot-test", "mini-t5-v1_0", "model.safetensors"))).toBe(
        true,
      );
    } finally {
      server.close();
    }
  }, 120_000);
});

describe("lmcot export onnx: bad input exits 2 with one line naming the file and field or tensor, --out untouched", () => {
  let n = 0;
  async function broken(name: string, breakIt: (dir: string) => Promise<void>): Promise<string> {
    const dir = join(temp, `bad-${n++}`);
    await cp(join(FIXTURES, name), dir, { recursive: true });
    await breakIt(dir);
    return dir;
  }
  const editJson = async (file: string, edit: (json: Record<string, unknown>) => void) => {
    const json = JSON.parse(await readFile(file, "utf8"));
    edit(json);
    await writeFile(file, JSON.stringify(json));
  };

  const cases: [string, () => Promise<string>, RegExp][] = [
    [
      "an unsupported feed_forward_proj",
      () =>
        broken("mini-flan-t5", (d) =>
          editJson(join(d, "config.json"), (c) => {
            c.feed_forward_proj = "gated-silu";
          }),
        ),
      /config\.json: feed_forward_proj: "gated-silu" is not supported/,
    ],
    [
      "an unsupported architecture",
      () =>
        broken("mini-t5-v1_0", (d) =>
          editJson(join(d, "config.json"), (c) => {
            c.architectures = ["T5EncoderModel"];
          }),
        ),
      /config\.json: architectures: \["T5EncoderModel"\] is not supported/,
    ],
    [
      "a truncated safetensors file",
      () => broken("mini-t5-v1_0", (d) => truncate(join(d, "model.safetensors"), 300_000)),
      /model\.safetensors: tensor [\w.]+: data ends at byte \d+ but the file holds \d+ data bytes \(truncated file\?\)/,
    ],
    [
      "a shard the index names but that is missing",
      () =>
        broken("mini-flan-t5-sharded", async (d) => {
          await unlink(join(d, "model-00001-of-00004.safetensors"));
          for (const f of ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"])
            await cp(join(FIXTURES, "mini-flan-t5", f), join(d, f));
        }),
      /model\.safetensors\.index\.json: shard model-00001-of-00004\.safetensors is missing/,
    ],
    [
      "a tokenizer larger than vocab_size",
      () =>
        broken("mini-t5-v1_0", (d) =>
          editJson(join(d, "config.json"), (c) => {
            c.vocab_size = 900;
          }),
        ),
      /tokenizer\.json: the tokenizer has 1000 entries \(ids 0–999\) but .*config\.json vocab_size is 900/,
    ],
    [
      "a misshaped tensor",
      () =>
        broken("mini-flan-t5", (d) =>
          editJson(join(d, "config.json"), (c) => {
            c.d_ff = 64;
          }),
        ),
      /model\.safetensors: encoder\.block\.0\.layer\.1\.DenseReluDense\.wi_0\.weight has shape \[96,48\], expected \[64,48\]/,
    ],
    [
      "a folder with only pytorch_model.bin",
      () =>
        broken("mini-t5-v1_0", async (d) => {
          await unlink(join(d, "model.safetensors"));
          await writeFile(join(d, "pytorch_model.bin"), "");
        }),
      /has pytorch_model\.bin but no model\.safetensors; .*save_pretrained\(.*safe_serialization=True\)/,
    ],
  ];

  it.each(cases)("%s", async (_what, make, message) => {
    const dir = await make();
    const parent = join(temp, `out-${n++}`);
    await mkdir(parent);
    const r = await lmcotEnv(offline, "export", "onnx", dir, "--out", join(parent, "model"));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(
      r.stderr
        .trim()
        .split("\n")
        .filter((l) => l.startsWith("lmcot: ")),
    ).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(await readdir(parent)).toEqual([]);
  });

  it("an --out folder that is not empty is refused and left as it was", async () => {
    const out = join(temp, "busy");
    await mkdir(out);
    await writeFile(join(out, "mine.txt"), "keep");
    const r = await lmcotEnv(offline, "export", "onnx", join(FIXTURES, "mini-t5-v1_0"), "--out", out);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/busy: exists and is not empty/);
    expect(await readdir(out)).toEqual(["mine.txt"]);
  });
});
