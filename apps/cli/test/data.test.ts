import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { samplePath } from "@lmcot/datasets";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lmcotEnv } from "./run-cli";

// 600 HotpotQA dev-shaped records (the 57 bundled ones, repeated with new ids) as the official
// JSON array, served on loopback.
const bundled = readFileSync(samplePath("hotpotqa"), "utf8").trim().split("\n");
const records = Array.from({ length: 600 }, (_, i) =>
  bundled[i % bundled.length]!.replace(/"_id": ?"/, `"_id": "${i}-`),
);
const body = Buffer.from(`[${records.join(",\n")}]`);
let server: Server;
let url = "";

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url?.startsWith("/truncated/")) {
      // Close-delimited (no length, no chunking): the client cannot tell the body was cut.
      req.socket.write("HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n");
      return void req.socket.end(body.subarray(0, body.length / 2));
    }
    res.writeHead(200, { "content-length": body.length });
    // A server that stalls after its first bytes, until the client gives up.
    if (req.url?.startsWith("/stalled/")) return void res.write(body.subarray(0, 100));
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(
  () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
);

/** A fresh data folder whose registry points hotpotqa:dev at the test server. */
function dataEnv(fileUrl = `${url}/hotpot_dev_distractor_v1.json`) {
  const dir = mkdtempSync(join(tmpdir(), "lmcot-data-cli-"));
  writeFileSync(
    join(dir, "registry.json"),
    JSON.stringify({ datasets: [{ name: "hotpotqa:dev", url: fileUrl }] }),
  );
  return { dir, env: { LMCOT_DATA_DIR: dir, LMCOT_DATA_MIRROR: undefined, LMCOT_DATA_REGISTRY: undefined } };
}

describe("lmcot data", () => {
  it("get downloads with progress on stderr, path finds it, verify checks it and catches a change", async () => {
    const { dir, env } = dataEnv();
    const got = await lmcotEnv(env, "data", "get", "hotpotqa:dev");
    expect(got.code).toBe(0);
    const file = join(dir, "user/hotpotqa/dev/hotpot_dev_distractor_v1.json");
    expect(got.stdout).toBe(`hotpotqa:dev\t${file}\n`);
    expect(got.stderr).toMatch(/hotpotqa:dev .*MB \/ .*MB \(100%\), .*MB\/s, done/);
    expect(got.stderr).toContain("trusted on first use");
    expect(readFileSync(file).equals(body)).toBe(true);

    expect((await lmcotEnv(env, "data", "path", "hotpotqa:dev")).stdout).toBe(`${file}\n`);
    const list = await lmcotEnv(env, "data", "list", "--json");
    const rows = JSON.parse(list.stdout).datasets as { id: string; cached: boolean; licence: string }[];
    expect(rows.find((r) => r.id === "hotpotqa:dev")).toMatchObject({
      cached: true,
      licence: "CC BY-SA 4.0",
    });
    expect(rows.find((r) => r.id === "2wikimultihopqa:dev")?.cached).toBe(false);

    expect((await lmcotEnv(env, "data", "verify")).stdout).toMatch(
      /^ok {6}hotpotqa:dev {2}sha256 [0-9a-f]{64} matches the one recorded at its first download \(.*; not pinned\); parsed: 600 hotpotqa records \(.* MB\)\n$/,
    );
    writeFileSync(file, "[]");
    const bad = await lmcotEnv(env, "data", "verify", "hotpotqa:dev");
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain("FAILED  hotpotqa:dev: checksum mismatch");
  });

  it("a missing dataset names the command to run; an unknown one suggests the nearest (exit 2)", async () => {
    const { env } = dataEnv();
    const missing = await lmcotEnv(env, "data", "path", "hotpotqa:dev");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("run `lmcot data get hotpotqa:dev`");
    const unknown = await lmcotEnv(env, "data", "get", "hotpotqa:dve");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("did you mean hotpotqa:dev?");
  });

  it("offline: exit 1 naming the URL, the cache folder and how to place the file by hand", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const fileUrl = `http://127.0.0.1:${port}/hotpot_dev_distractor_v1.json`;
    const { dir, env } = dataEnv(fileUrl);
    const r = await lmcotEnv(env, "data", "get", "hotpotqa:dev");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${fileUrl}: cannot connect (ECONNREFUSED)`);
    expect(r.stderr).toContain(`The cache is ${dir}`);
    expect(r.stderr).toContain("to place it by hand");
  });
});

describe("lmcot data get trusts only good bytes", () => {
  it("a truncated close-delimited body is refused with the line it ends on, and nothing is cached", async () => {
    const { dir, env } = dataEnv(`${url}/truncated/hotpot_dev_distractor_v1.json`);
    const r = await lmcotEnv(env, "data", "get", "hotpotqa:dev");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `${url}/truncated/hotpot_dev_distractor_v1.json is not a valid hotpotqa file: hotpot_dev_distractor_v1.json: line`,
    );
    expect(r.stderr).toContain("ends inside a record (the file is truncated)");
    expect(existsSync(join(dir, "user"))).toBe(false);
    expect(existsSync(join(dir, "manifest.json"))).toBe(false);
    expect((await lmcotEnv(env, "data", "verify")).stdout).toBe("nothing in the cache to verify\n");
  });

  it("--stall-timeout and --total-timeout bound a stalled server; a bad value is a usage error", async () => {
    const { env } = dataEnv(`${url}/stalled/hotpot_dev_distractor_v1.json`);
    // Six stalled attempts take at least 3 s, so the 2 s total is what ends it.
    const r = await lmcotEnv(
      env,
      "data",
      "get",
      "hotpotqa:dev",
      "--stall-timeout",
      "0.5",
      "--total-timeout",
      "2",
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `${url}/stalled/hotpot_dev_distractor_v1.json: not downloaded within the 2 s total timeout (raise it with --total-timeout or LMCOT_DATA_TOTAL_TIMEOUT)`,
    );
    const zero = await lmcotEnv(env, "data", "get", "hotpotqa:dev", "--stall-timeout", "0");
    expect(zero.code).toBe(2);
    expect(zero.stderr).toContain('--stall-timeout must be a number > 0, got "0"');
    const bad = await lmcotEnv({ ...env, LMCOT_DATA_TOTAL_TIMEOUT: "soon" }, "data", "get", "hotpotqa:dev");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('LMCOT_DATA_TOTAL_TIMEOUT must be a positive number of seconds, got "soon"');
  }, 30_000);
});

describe("commands take datasets from the cache", () => {
  it("the issue's check: lmcot data get hotpotqa:dev, then bench --datasets hotpotqa:dev:500 --dry-run", async () => {
    const { env } = dataEnv();
    const before = await lmcotEnv(env, "bench", "--datasets", "hotpotqa:dev:500", "--dry-run");
    expect(before.code).toBe(2);
    expect(before.stderr).toContain("run `lmcot data get hotpotqa:dev`");
    expect((await lmcotEnv(env, "data", "get", "hotpotqa:dev")).code).toBe(0);
    const dry = await lmcotEnv(env, "bench", "--datasets", "hotpotqa:dev:500", "--dry-run");
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^standard · hotpotqa · .*: 500 examples/m);
    expect(dry.stdout).toMatch(/^TOTAL: 1500 examples/m);
    const tooMany = await lmcotEnv(env, "bench", "--datasets", "hotpotqa:dev:601", "--dry-run");
    expect(tooMany.code).toBe(2);
    expect(tooMany.stderr).toContain("hotpotqa:dev:601 asks for 601 examples, but hotpotqa:dev has 600");
  }, 60_000);

  it("bench --download fetches what is missing; eval --gold and distill --input take an id", async () => {
    const { dir, env } = dataEnv();
    const dry = await lmcotEnv(env, "bench", "--datasets", "hotpotqa:dev:20", "--download", "--dry-run");
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^TOTAL: 60 examples/m);

    const pred = join(dir, "pred.json");
    writeFileSync(pred, JSON.stringify({ answer: { "0-5a8b57f25542995d1e6f1371": "yes" }, sp: {} }));
    const scored = await lmcotEnv(
      env,
      "eval",
      "--gold",
      "hotpotqa:dev",
      "--pred",
      pred,
      "--allow-missing",
      "--json",
    );
    expect(scored.code).toBe(0);
    expect(JSON.parse(scored.stdout)).toMatchObject({ dataset: "hotpotqa", n: 600 });

    const out = join(dir, "distilled");
    const distilled = await lmcotEnv(
      env,
      ...["distill", "--teacher", "extractive:reader", "--input", "hotpotqa:dev:8", "--out", out, "--json"],
    );
    expect(distilled.code).toBe(0);
    expect(JSON.parse(distilled.stdout).calls).toBe(8);
  }, 60_000);
});
