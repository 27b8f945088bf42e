import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { AuthenticationError, BadRequestError, ModelNotFoundError } from "@lmcot/core";
import { readT5Checkpoint } from "@lmcot/model-writer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportT5OnnxFrom, readT5CheckpointFrom, resolveCheckpoint } from "../src/index";
import { tempDir } from "./helpers/fixtures";

/** model-writer's copy of the mini T5 / FLAN-T5 checkpoints made with Hugging Face transformers. */
const FIXTURES = join(import.meta.dirname, "..", "..", "model-writer", "test", "fixtures", "t5");

/** A loopback "hub mirror": `/<org>/<name>/resolve/main/<file>` from the fixture folders, 404 otherwise. */
const requests: string[] = [];
const hidden = new Set<string>();
/** Files whose next `cut` responses stop halfway (the connection is reset). */
const cut = new Map<string, number>();
/** When set, every request must carry this bearer token (a gated repo). */
let token: string | undefined;
let server: Server;
let host: string;
let temp: Awaited<ReturnType<typeof tempDir>>;

beforeAll(async () => {
  temp = await tempDir("lmcot-hub-");
  server = createServer(async (req, res) => {
    requests.push(req.url ?? "");
    if (token !== undefined && req.headers.authorization !== `Bearer ${token}`) {
      res.writeHead(401).end("Access to this repo is restricted");
      return;
    }
    const match = /^\/lmcot-test\/([\w.-]+)\/resolve\/main\/([\w.-]+)$/.exec(req.url ?? "");
    const file = match && join(FIXTURES, match[1] as string, match[2] as string);
    if (!file || !existsSync(file) || hidden.has(`${match?.[1]}/${match?.[2]}`)) {
      res.writeHead(404).end("Entry not found");
      return;
    }
    const body = await readFile(file);
    res.writeHead(200, { "content-length": body.length });
    const key = `${match?.[1]}/${match?.[2]}`;
    if ((cut.get(key) ?? 0) > 0) {
      cut.set(key, (cut.get(key) ?? 0) - 1);
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
      expect(BadRequestError.isInstance(error), String(error)).toBe(true);
      expect((error as Error).message).toMatch(
        /index\.json: shard model-00003-of-00004\.safetensors is missing/,
      );
    } finally {
      hidden.clear();
    }
  });

  it("a download cut off midway is retried; no partial file ever lands in the cache", async () => {
    cut.set("mini-t5-v1_0/model.safetensors", 2);
    requests.length = 0;
    const folder = await resolveCheckpoint("lmcot-test/mini-t5-v1_0", settings("cache-f"));
    expect(requests.filter((r) => r.endsWith("/model.safetensors"))).toHaveLength(3);
    const direct = await readT5Checkpoint(join(FIXTURES, "mini-t5-v1_0"));
    const read = await readT5Checkpoint(folder);
    for (const [name, t] of direct.weights) expect(read.weights.get(name)?.data, name).toEqual(t.data);
    expect((await readdir(folder)).filter((f) => f.includes(".tmp."))).toEqual([]);
  });

  it("a gated repo: 401 says to set HF_TOKEN (not retried); with HF_TOKEN the token is sent", async () => {
    token = "hf_loopback_test";
    const saved = process.env.HF_TOKEN;
    try {
      delete process.env.HF_TOKEN;
      requests.length = 0;
      const error = await resolveCheckpoint("lmcot-test/mini-t5-v1_0", settings("cache-g")).catch(
        (e: unknown) => e,
      );
      expect(AuthenticationError.isInstance(error), String(error)).toBe(true);
      expect((error as Error).message).toMatch(/HTTP 401 for .*config\.json \(a gated repo\? set HF_TOKEN\)/);
      expect(requests).toHaveLength(1);
      process.env.HF_TOKEN = token;
      expect(await resolveCheckpoint("lmcot-test/mini-t5-v1_0", settings("cache-g"))).toMatch(/cache-g/);
    } finally {
      token = undefined;
      if (saved === undefined) delete process.env.HF_TOKEN;
      else process.env.HF_TOKEN = saved;
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
