import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { BadRequestError, ModelNotFoundError } from "@lmcot/core";
import { readT5Checkpoint } from "@lmcot/model-writer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportT5OnnxFrom, readT5CheckpointFrom, resolveCheckpoint } from "../src/index";
import { tempDir } from "./helpers/fixtures";

/** model-writer's copy of the mini T5 / FLAN-T5 checkpoints made with Hugging Face transformers. */
const FIXTURES = join(import.meta.dirname, "..", "..", "model-writer", "test", "fixtures", "t5");

/** A loopback "hub mirror": `/<org>/<name>/resolve/main/<file>` from the fixture folders, 404 otherwise. */
const requests: string[] = [];
const hidden = new Set<string>();
const cut = new Set<string>();
let server: Server;
let host: string;
let temp: Awaited<ReturnType<typeof tempDir>>;

beforeAll(async () => {
  temp = await tempDir("lmcot-hub-");
  server = createServer(async (req, res) => {
    requests.push(req.url ?? "");
    const match = /^\/lmcot-test\/([\w.-]+)\/resolve\/main\/([\w.-]+)$/.exec(req.url ?? "");
    const file = match && join(FIXTURES, match[1] as string, match[2] as string);
    if (!file || !existsSync(file) || hidden.has(`${match?.[1]}/${match?.[2]}`)) {
      res.writeHead(404).end("Entry not found");
      return;
    }
    const body = await readFile(file);
    res.writeHead(200, { "content-length": body.length });
    if (cut.has(`${match?.[1]}/${match?.[2]}`)) {
      res.write(body.subarray(0, body.length >> 1), () => res.destroy());
      return;
    }
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  host = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(async () => {
  server?.close();
  await temp?.cleanup();
});

const settings = (cache: string) => ({
  allowRemoteModels: true,
  remoteHost: host,
  cacheDir: join(temp.dir, cache),
  localModelPath: join(temp.dir, "models"),
  loadTimeoutMs: 10_000,
});

describe("hub ids: download, cache and mirror (loopback mirror)", () => {
  it("a sharded checkpoint downloads once (index, every shard), then reads from the cache", async () => {
    requests.length = 0;
    const checkpoint = await readT5CheckpointFrom("lmcot-test/mini-flan-t5-sharded", settings("cache-a"));
    const direct = await readT5Checkpoint(join(FIXTURES, "mini-flan-t5"));
    expect(checkpoint.folder).toBe(join(temp.dir, "cache-a", "lmcot-test", "mini-flan-t5-sharded"));
    expect([...checkpoint.weights.keys()].sort()).toEqual([...direct.weights.keys()].sort());
    for (const [name, t] of direct.weights) expect(checkpoint.weights.get(name)?.data, name).toEqual(t.data);
    const fetched = requests.filter((r) => r.includes(".safetensors")).map((r) => r.split("/").pop());
    expect(fetched.slice(0, 2)).toEqual(["model.safetensors", "model.safetensors.index.json"]);
    expect(fetched.slice(2).sort()).toEqual([
      "model-00001-of-00004.safetensors",
      "model-00002-of-00004.safetensors",
      "model-00003-of-00004.safetensors",
      "model-00004-of-00004.safetensors",
    ]);
    requests.length = 0;
    await readT5CheckpointFrom("lmcot-test/mini-flan-t5-sharded", settings("cache-a"));
    expect(requests).toEqual([]);
  });

  it("a single-file checkpoint comes with its tokenizer files and exports from its hub id", async () => {
    const out = join(temp.dir, "exported");
    const { files } = await exportT5OnnxFrom("lmcot-test/mini-t5-v1_0", out, {
      settings: settings("cache-b"),
    });
    expect(files).toEqual(
      expect.arrayContaining(["tokenizer.json", "onnx/encoder_model.onnx", "onnx/decoder_model_merged.onnx"]),
    );
    const cached = join(temp.dir, "cache-b", "lmcot-test", "mini-t5-v1_0");
    expect(await readFile(join(out, "tokenizer.json"))).toEqual(
      await readFile(join(cached, "tokenizer.json")),
    );
  });

  it("a shard the mirror lacks is named, as for a local folder", async () => {
    hidden.add("mini-flan-t5-sharded/model-00003-of-00004.safetensors");
    try {
      const error = await readT5CheckpointFrom("lmcot-test/mini-flan-t5-sharded", settings("cache-c")).catch(
        (e: unknown) => e,
      );
      expect(BadRequestError.isInstance(error)).toBe(true);
      expect((error as Error).message).toMatch(
        /index\.json: shard model-00003-of-00004\.safetensors is missing/,
      );
    } finally {
      hidden.clear();
    }
  });

  it("a download cut off midway fails, naming the file, and leaves nothing in the cache", async () => {
    cut.add("mini-t5-v1_0/model.safetensors");
    try {
      const error = await resolveCheckpoint("lmcot-test/mini-t5-v1_0", settings("cache-f")).catch(
        (e: unknown) => e,
      );
      expect(ModelNotFoundError.isInstance(error)).toBe(true);
      expect((error as Error).message).toMatch(
        /mini-t5-v1_0\/resolve\/main\/model\.safetensors: download failed/,
      );
      const cached = join(temp.dir, "cache-f", "lmcot-test", "mini-t5-v1_0");
      expect((await readdir(cached)).filter((f) => f.includes("model"))).toEqual([]);
    } finally {
      cut.clear();
    }
  });

  it("an id the mirror does not have, downloads off, and a local models dir", async () => {
    const missing = await resolveCheckpoint("lmcot-test/nope", settings("cache-d")).catch((e: unknown) => e);
    expect(ModelNotFoundError.isInstance(missing)).toBe(true);
    expect((missing as Error).message).toMatch(/checkpoint lmcot-test\/nope: .*config\.json not found/);

    requests.length = 0;
    const offline = await resolveCheckpoint("lmcot-test/mini-t5-v1_0", {
      ...settings("cache-e"),
      allowRemoteModels: false,
    }).catch((e: unknown) => e);
    expect((offline as Error).message).toMatch(
      /not found in .*models\/lmcot-test\/mini-t5-v1_0 \(downloads are off\)/,
    );
    expect(requests).toEqual([]);

    // a hub id under localModelPath is used as it is, without the network
    const local = await resolveCheckpoint("mini-t5-v1_0", {
      ...settings("cache-e"),
      localModelPath: FIXTURES,
    });
    expect(local).toBe(join(FIXTURES, "mini-t5-v1_0"));
    expect(requests).toEqual([]);
  });
});
