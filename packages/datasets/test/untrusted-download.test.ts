import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deflateSync, gzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import {
  DataFetchError,
  downloadLimits,
  type GetDatasetOptions,
  getDataset,
  readManifest,
  verifyDataset,
} from "../src/index";
import { gzipBomb } from "./bombs";
import { type DataServer, hotpotFile, startDataServer } from "./data-server";

const fast = { policy: { baseDelayMs: 1, random: () => 0 } } satisfies GetDatasetOptions;
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const tempDir = () => mkdtempSync(join(tmpdir(), "lmcot-data-"));
const PART_DIR = join(".partial", "user__mine__dev__dev.json");

const servers: DataServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});
async function serve(routes: Parameters<typeof startDataServer>[0]): Promise<DataServer> {
  const server = await startDataServer(routes);
  servers.push(server);
  return server;
}

/** Options for `mine:dev`, a user entry served at `url`, with more of the entry's fields in `fields`. */
function entry(
  dir: string,
  url: string,
  extra: Partial<GetDatasetOptions> = {},
  fields: { bytes?: number; maxBytes?: number } = {},
) {
  return {
    ...fast,
    dataDir: dir,
    download: true,
    entries: [{ name: "mine:dev", url, ...fields }],
    ...extra,
  } satisfies GetDatasetOptions;
}

async function failure(promise: Promise<unknown>): Promise<DataFetchError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(DataFetchError.is(error), String(error)).toBe(true);
  return error as DataFetchError;
}

/** Nothing of the dataset in the cache: no file, no manifest line, no partial download. */
function expectNothingCached(dir: string) {
  expect(existsSync(join(dir, "user/mine/dev/dev.json"))).toBe(false);
  expect(readManifest(dir).files).toEqual({});
  const partial = join(dir, PART_DIR);
  expect(existsSync(partial) ? readdirSync(partial) : []).toEqual([]);
}

describe("a download is parsed before it is cached", () => {
  it("a truncated close-delimited body of an unpinned entry is refused, naming the line, and nothing is cached", async () => {
    const body = hotpotFile(200);
    const server = await serve({
      "/dev.json": { body: body.subarray(0, body.length / 2), closeDelimited: true },
    });
    const dir = tempDir();
    const error = await failure(getDataset("mine", "dev", entry(dir, `${server.url}/dev.json`)));
    expect(error.code).toBe("data_invalid");
    expect(error.message).toContain(
      `${server.url}/dev.json is not a valid dataset file: dev.json: line 1: record`,
    );
    expect(error.message).toContain("ends inside a record (the file is truncated)");
    expect(error.message).toContain("the download was discarded");
    expectNothingCached(dir);
  });

  it("data verify of an unpinned entry says it checked the recorded sha256 and parsed every record, and fails a file that was recorded but does not parse", async () => {
    const server = await serve({ "/dev.json": { body: hotpotFile(30) } });
    const dir = tempDir();
    await getDataset("mine", "dev", entry(dir, `${server.url}/dev.json`));
    const ok = await verifyDataset("mine:dev", entry(dir, `${server.url}/dev.json`));
    expect(ok.checked).toMatch(
      /^sha256 [0-9a-f]{64} matches the one recorded at its first download \(.*; not pinned\); parsed: 30 records$/,
    );
    const pinned = await verifyDataset(
      "mine:dev",
      entry(dir, `${server.url}/dev.json`, { sha256: ok.sha256 }),
    );
    expect(pinned.checked).toContain("matches the pinned one (pinned by --sha256)");
    // A cache written by an earlier lmcot, which recorded a truncated file without parsing it.
    const cut = hotpotFile(30).subarray(0, 2000);
    writeFileSync(ok.path, cut);
    const manifest = readManifest(dir);
    manifest.files["user/mine/dev/dev.json"] = {
      sha256: sha(cut),
      bytes: cut.length,
      recordedAt: "2026-01-01",
    };
    writeFileSync(join(dir, "manifest.json"), JSON.stringify(manifest));
    const bad = await failure(verifyDataset("mine:dev", entry(dir, `${server.url}/dev.json`)));
    expect(bad.code).toBe("data_invalid");
    expect(bad.message).toContain("dev.json: line 1: record");
    expect(bad.message).toContain("(the file is truncated)");
  });

  it("a file placed by hand is parsed before it is recorded", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, "user/mine/dev"), { recursive: true });
    writeFileSync(join(dir, "user/mine/dev/dev.json"), '[{"_id": "q1", "question": "Why?"}]');
    const error = await failure(
      getDataset("mine", "dev", {
        dataDir: dir,
        entries: [{ name: "mine:dev", url: "http://127.0.0.1:9/dev.json" }],
      }),
    );
    expect(error.code).toBe("data_invalid");
    expect(error.message).toContain("dev.json: line 1: record 0: answer is missing");
    expect(readManifest(dir).files).toEqual({});
  });
});

describe("Content-Encoding", () => {
  it("a gzip or deflate body is decoded and cached (identity asked for, so plain bodies stay resumable)", async () => {
    const body = hotpotFile(500);
    const server = await serve({
      "/gz.json": { body: gzipSync(body), headers: { "content-encoding": "gzip" } },
      "/deflate.json": { body: deflateSync(body), headers: { "content-encoding": "deflate" } },
    });
    for (const name of ["gz", "deflate"]) {
      const dir = tempDir();
      const local = await getDataset("mine", "dev", entry(dir, `${server.url}/${name}.json`));
      expect(readFileSync(local.path).equals(body)).toBe(true);
      expect(local.sha256).toBe(sha(body));
    }
    expect(server.log.map((r) => r.status)).toEqual([200, 200]);
    expect(server.log.map((r) => r.acceptEncoding)).toEqual(["identity", "identity"]);
  });

  it("a gzip bomb (1 MB decoding to 1 GiB) is stopped past 100× and leaves no .partial behind", async () => {
    const bomb = gzipBomb(1 << 30);
    const server = await serve({ "/dev.json": { body: bomb, headers: { "content-encoding": "gzip" } } });
    const dir = tempDir();
    let most = 0;
    const onProgress = (p: { bytes: number }) => {
      most = Math.max(most, p.bytes);
    };
    const error = await failure(
      getDataset("mine", "dev", entry(dir, `${server.url}/dev.json`, { onProgress })),
    );
    expect(error.code).toBe("too_large");
    expect(error.message).toContain("more than 100× (a decompression bomb?)");
    expect(most).toBeLessThanOrEqual(100 * bomb.length + (1 << 20));
    expect(server.log).toHaveLength(1);
    expectNothingCached(dir);
  }, 60_000);

  it("a download longer than the registry's size is stopped at that size, not read to its end", async () => {
    const body = hotpotFile(2000);
    const server = await serve({ "/dev.json": { body, closeDelimited: true } });
    const dir = tempDir();
    const error = await failure(
      getDataset("mine", "dev", entry(dir, `${server.url}/dev.json`, {}, { bytes: 10_000 })),
    );
    expect(error.code).toBe("too_large");
    expect(error.message).toContain(`${server.url}/dev.json is larger than its 10000 bytes limit`);
    expectNothingCached(dir);
  });

  it("a decoded body over the registry entry's maxBytes is refused", async () => {
    const body = hotpotFile(500);
    const server = await serve({
      "/dev.json": { body: gzipSync(body), headers: { "content-encoding": "gzip" } },
    });
    const dir = tempDir();
    const error = await failure(
      getDataset("mine", "dev", entry(dir, `${server.url}/dev.json`, {}, { maxBytes: 20_000 })),
    );
    expect(error.code).toBe("too_large");
    expect(error.message).toContain(`${server.url}/dev.json is larger than its 20000 bytes limit`);
    expect(error.message).toContain(
      "raise the limit with --max-mb, LMCOT_DATA_MAX_MB or the registry entry's maxBytes",
    );
    expectNothingCached(dir);
  });
});

describe("stalls, timeouts, redirects, leftovers", () => {
  it("stall and total timeouts are settable, and the total bounds a server that stalls after every first chunk", async () => {
    const server = await serve({
      "/dev.json": { body: hotpotFile(3000, 3000), gate: new Promise(() => {}) },
    });
    const dir = tempDir();
    const stalls: string[] = [];
    const error = await failure(
      getDataset(
        "mine",
        "dev",
        entry(dir, `${server.url}/dev.json`, {
          stallTimeoutMs: 100,
          totalTimeoutMs: 1500,
          policy: { ...fast.policy, onRetry: (e) => stalls.push((e.error as Error).message) },
        }),
      ),
    );
    expect(error.code).toBe("download_timeout");
    expect(error.message).toContain(`${server.url}/dev.json: not downloaded within the 1.5 s total timeout`);
    expect(error.message).toContain("raise it with --total-timeout or LMCOT_DATA_TOTAL_TIMEOUT");
    expect(stalls[0]).toContain(
      "nothing received for 0.1 s (the stall timeout: --stall-timeout or LMCOT_DATA_STALL_TIMEOUT)",
    );
    // What was received is resumable (the server takes ranges), so it is kept for a re-run, and nothing else.
    const left = readdirSync(join(dir, PART_DIR));
    expect(left.filter((f) => !["download.part", "download.part.url"].includes(f))).toEqual([]);
  });

  it("a registry file entry sets its own stall and total timeouts (seconds)", async () => {
    const server = await serve({
      "/dev.json": { body: hotpotFile(3000, 3000), gate: new Promise(() => {}) },
    });
    const dir = tempDir();
    const registryFile = join(dir, "registry.json");
    const url = `${server.url}/dev.json`;
    writeFileSync(
      registryFile,
      JSON.stringify({ datasets: [{ name: "mine:dev", url, stallTimeout: 0.1, totalTimeout: 1.2 }] }),
    );
    const error = await failure(
      getDataset("mine", "dev", { ...fast, dataDir: dir, download: true, registryFile }),
    );
    expect(error.code).toBe("download_timeout");
    expect(error.message).toContain(`${url}: not downloaded within the 1.2 s total timeout`);
    writeFileSync(registryFile, JSON.stringify({ datasets: [{ name: "mine:dev", url, totalTimeout: -1 }] }));
    await expect(getDataset("mine", "dev", { dataDir: dir, download: true, registryFile })).rejects.toThrow(
      "registry.json: datasets[0].totalTimeout must be > 0",
    );
  });

  it("the limits come from the options, else the registry entry, else the environment, else bounded defaults", () => {
    const saved = { ...process.env };
    try {
      delete process.env.LMCOT_DATA_STALL_TIMEOUT;
      delete process.env.LMCOT_DATA_TOTAL_TIMEOUT;
      delete process.env.LMCOT_DATA_MAX_MB;
      expect(downloadLimits({})).toEqual({
        stallTimeoutMs: 30_000,
        totalTimeoutMs: 3_600_000,
        maxBytes: 4096 * 2 ** 20,
      });
      expect(downloadLimits({}, { maxBytes: 1000, totalTimeoutMs: 5000 })).toMatchObject({
        maxBytes: 1000,
        totalTimeoutMs: 5000,
      });
      process.env.LMCOT_DATA_STALL_TIMEOUT = "2";
      process.env.LMCOT_DATA_TOTAL_TIMEOUT = "10";
      process.env.LMCOT_DATA_MAX_MB = "1";
      expect(downloadLimits({})).toEqual({ stallTimeoutMs: 2000, totalTimeoutMs: 10_000, maxBytes: 2 ** 20 });
      expect(downloadLimits({ stallTimeoutMs: 5, maxBytes: 7 })).toMatchObject({
        stallTimeoutMs: 5,
        maxBytes: 7,
      });
      process.env.LMCOT_DATA_TOTAL_TIMEOUT = "0";
      expect(() => downloadLimits({})).toThrow(
        'LMCOT_DATA_TOTAL_TIMEOUT must be a positive number of seconds, got "0"',
      );
    } finally {
      process.env = saved;
    }
  });

  it("a redirect to another port is followed with a notice, and the manifest records the final URL", async () => {
    const body = hotpotFile(20);
    const target = await serve({ "/real/dev.json": { body } });
    const server = await serve({
      "/dev.json": { body: Buffer.alloc(0), redirect: `${target.url}/real/dev.json` },
    });
    const dir = tempDir();
    const notices: string[] = [];
    const local = await getDataset(
      "mine",
      "dev",
      entry(dir, `${server.url}/dev.json`, { onNotice: (m) => notices.push(m) }),
    );
    expect(readFileSync(local.path).equals(body)).toBe(true);
    expect(notices[0]).toBe(
      `${server.url}/dev.json redirects to another port: following it to ${target.url}/real/dev.json (the manifest records that URL)`,
    );
    expect(readManifest(dir).files["user/mine/dev/dev.json"]).toMatchObject({
      source: `${target.url}/real/dev.json`,
      requested: `${server.url}/dev.json`,
    });
  });

  it("a failed download that cannot be resumed (no Range support) leaves no .partial behind", async () => {
    const server = await serve({
      "/dev.json": { body: hotpotFile(2000), cutAt: 100_000, ignoreRange: true },
    });
    const dir = tempDir();
    const error = await failure(
      getDataset("mine", "dev", entry(dir, `${server.url}/dev.json`, { retries: 0 })),
    );
    expect(error.code).toBe("download_failed");
    expectNothingCached(dir);
  });

  it("an aborted download that cannot be resumed (gzip-encoded: decoded bytes have no offsets) leaves no .partial behind", async () => {
    const body = gzipSync(hotpotFile(20_000, 200));
    expect(body.length).toBeGreaterThan(4 << 16);
    const server = await serve({
      "/dev.json": { body, headers: { "content-encoding": "gzip" }, chunkDelayMs: 50 },
    });
    const dir = tempDir();
    const stop = new AbortController();
    const onProgress = (p: { bytes: number }) => (p.bytes > 0 ? stop.abort() : undefined);
    await expect(
      getDataset("mine", "dev", entry(dir, `${server.url}/dev.json`, { signal: stop.signal, onProgress })),
    ).rejects.toThrow();
    expect(stop.signal.aborted).toBe(true);
    expectNothingCached(dir);
  });
});
