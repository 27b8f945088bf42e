import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  DataFetchError,
  type GetDatasetOptions,
  getDataset,
  loadDatasetSpec,
  readManifest,
} from "../src/index";
import { type DataServer, hotpotFile, startDataServer } from "./data-server";

const fast = { policy: { baseDelayMs: 1, random: () => 0 } } satisfies GetDatasetOptions;
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const tempDir = () => mkdtempSync(join(tmpdir(), "lmcot-data-"));

let server: DataServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Options for `mine:dev`, a user entry served by the test server at `/dev.json`. */
function entry(dir: string, extra: Partial<GetDatasetOptions> = {}): GetDatasetOptions {
  return {
    ...fast,
    dataDir: dir,
    download: true,
    entries: [{ name: "mine:dev", url: `${server?.url}/dev.json` }],
    ...extra,
  };
}

async function failure(promise: Promise<unknown>): Promise<DataFetchError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(DataFetchError.is(error)).toBe(true);
  return error as DataFetchError;
}

describe("getDataset downloads", () => {
  it("resumes a download cut mid-way with an HTTP Range request", async () => {
    const body = hotpotFile(2000);
    server = await startDataServer({ "/dev.json": { body, cutAt: 100_000 } });
    const dir = tempDir();
    const local = await getDataset("mine", "dev", entry(dir));
    expect(readFileSync(local.path).equals(body)).toBe(true);
    expect(server.log.map((r) => [r.status, r.range])).toEqual([
      [200, undefined],
      [206, "bytes=100000-"],
    ]);
    expect(local.sha256).toBe(sha(body));
    expect(readManifest(dir).files["user/mine/dev/dev.json"]?.sha256).toBe(sha(body));
    let n = 0;
    for await (const _ of local.read()) n++;
    expect(n).toBe(2000);
  });

  it("resumes the part an earlier, interrupted run left behind", async () => {
    const body = hotpotFile(2000);
    server = await startDataServer({ "/dev.json": { body, chunkDelayMs: 5 } });
    const dir = tempDir();
    const stop = new AbortController();
    const onProgress = (p: { bytes: number }) => (p.bytes > 100_000 ? stop.abort() : undefined);
    await expect(
      getDataset("mine", "dev", entry(dir, { signal: stop.signal, onProgress })),
    ).rejects.toThrow();
    expect(existsSync(join(dir, "user/mine/dev/dev.json"))).toBe(false);
    const local = await getDataset("mine", "dev", entry(dir));
    expect(readFileSync(local.path).equals(body)).toBe(true);
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(server.log.at(-1)?.range ?? "")?.[1]);
    expect(resumedAt).toBeGreaterThan(100_000);
    expect(server.log.at(-1)?.status).toBe(206);
  });

  it("retries 5xx answers with backoff", async () => {
    const body = hotpotFile(10);
    server = await startDataServer({ "/dev.json": { body, fail503: 2 } });
    const retries: number[] = [];
    const local = await getDataset(
      "mine",
      "dev",
      entry(tempDir(), { policy: { ...fast.policy, onRetry: (e) => retries.push(e.attempt) } }),
    );
    expect(readFileSync(local.path).equals(body)).toBe(true);
    expect(server.log.map((r) => r.status)).toEqual([503, 503, 200]);
    expect(retries).toEqual([1, 2]);
  });

  it("refuses a download whose sha256 differs from the pinned one, leaving the cache as it was", async () => {
    server = await startDataServer({ "/dev.json": { body: hotpotFile(10) } });
    const dir = tempDir();
    const error = await failure(getDataset("mine", "dev", entry(dir, { sha256: "0".repeat(64) })));
    expect(error.code).toBe("checksum_mismatch");
    expect(error.message).toContain("pinned by --sha256");
    expect(error.message).toContain("the download was discarded");
    expect(existsSync(join(dir, "user/mine/dev/dev.json"))).toBe(false);
    expect(readManifest(dir).files).toEqual({});
    expect(readdirSync(join(dir, ".partial", "user__mine__dev__dev.json"))).toEqual([]);
  });

  it("trusts on first use: a changed cached file or a changed download is an error, never cached", async () => {
    const body = hotpotFile(10);
    server = await startDataServer({ "/dev.json": { body } });
    const dir = tempDir();
    const notices: string[] = [];
    const local = await getDataset("mine", "dev", entry(dir, { onNotice: (m) => notices.push(m) }));
    expect(notices.join("\n")).toContain("trusted on first use");
    // Later uses verify the record.
    await getDataset("mine", "dev", entry(dir));
    writeFileSync(local.path, hotpotFile(11));
    const changed = await failure(getDataset("mine", "dev", entry(dir)));
    expect(changed.code).toBe("checksum_mismatch");
    expect(changed.message).toContain("recorded at its first download");
    expect(readFileSync(local.path).equals(hotpotFile(11))).toBe(true);
    // The source now serves other bytes: the new download is refused too.
    const { rmSync } = await import("node:fs");
    rmSync(local.path);
    server.routes.set("/dev.json", { body: hotpotFile(12) });
    const redownload = await failure(getDataset("mine", "dev", entry(dir)));
    expect(redownload.code).toBe("checksum_mismatch");
    expect(existsSync(local.path)).toBe(false);
    expect(readManifest(dir).files["user/mine/dev/dev.json"]?.sha256).toBe(sha(body));
  });

  it("says the command to run when a dataset is not downloaded", async () => {
    const dir = tempDir();
    const error = await failure(getDataset("hotpotqa", "dev", { dataDir: dir }));
    expect(error.code).toBe("dataset_missing");
    expect(error.message).toContain("run `lmcot data get hotpotqa:dev`");
    expect(error.message).toContain(join(dir, "hotpotqa/hotpot_dev_distractor_v1.json"));
    expect(error.message).toContain("http://curtis.ml.cmu.edu/datasets/hotpot/hotpot_dev_distractor_v1.json");
  });

  it("offline: names the URL, the cache and how to place the file by hand", async () => {
    server = await startDataServer();
    const url = server.url;
    await server.close();
    server = undefined;
    const dir = tempDir();
    const error = await failure(
      getDataset("mine", "dev", {
        dataDir: dir,
        download: true,
        entries: [{ name: "mine:dev", url: `${url}/dev.json` }],
      }),
    );
    expect(error.code).toBe("dataset_offline");
    expect(error.message).toContain(`${url}/dev.json: cannot connect (ECONNREFUSED)`);
    expect(error.message).toContain(`The cache is ${dir}`);
    expect(error.message).toContain(
      `to place it by hand, download ${url}/dev.json on a machine with internet access and copy it to ${join(dir, "user/mine/dev/dev.json")}`,
    );
  });

  it("a file placed by hand is used and recorded on first use", async () => {
    const dir = tempDir();
    const body = hotpotFile(3);
    const { mkdirSync } = await import("node:fs");
    mkdirSync(join(dir, "user/mine/dev"), { recursive: true });
    writeFileSync(join(dir, "user/mine/dev/dev.json"), body);
    const local = await getDataset("mine", "dev", {
      dataDir: dir,
      entries: [{ name: "mine:dev", url: "http://127.0.0.1:9/dev.json" }],
    });
    expect(local.sha256).toBe(sha(body));
    expect(readManifest(dir).files["user/mine/dev/dev.json"]?.bytes).toBe(body.length);
  });

  it("two concurrent gets of one file download it once", async () => {
    const body = hotpotFile(3000);
    server = await startDataServer({ "/dev.json": { body, chunkDelayMs: 2 } });
    const dir = tempDir();
    const [a, b] = await Promise.all([
      getDataset("mine", "dev", entry(dir)),
      getDataset("mine", "dev", entry(dir)),
    ]);
    expect(a.sha256).toBe(sha(body));
    expect(b.sha256).toBe(sha(body));
    expect(server.log.filter((r) => r.path === "/dev.json")).toHaveLength(1);
  });

  it("a sample larger than the split is an error; a seeded sample is the same each time", async () => {
    server = await startDataServer({ "/dev.json": { body: hotpotFile(50) } });
    const dir = tempDir();
    const options = { ...entry(dir), seed: 3 };
    const a = await loadDatasetSpec("mine:dev:10", options);
    const b = await loadDatasetSpec("mine:dev:10", options);
    expect(a.map((e) => e.id)).toEqual(b.map((e) => e.id));
    expect(a).toHaveLength(10);
    expect(await loadDatasetSpec("mine:dev", options)).toHaveLength(50);
    const error = await failure(loadDatasetSpec("mine:dev:51", options));
    expect(error.message).toBe("mine:dev:51 asks for 51 questions, but mine:dev has 50");
  });

  it("an unknown name suggests the nearest", async () => {
    const error = await failure(getDataset("hotpotqa", "dve", { dataDir: tempDir() }));
    expect(error.code).toBe("dataset_unknown");
    expect(error.message).toContain("did you mean hotpotqa:dev?");
  });
});
