import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ZipFile } from "yazl";
import { DataFetchError, getDataset, readManifest } from "../src/index";
import { zipBomb } from "./bombs";
import { type DataServer, startDataServer } from "./data-server";

function twoWikiFile(count: number): Buffer {
  const records = Array.from({ length: count }, (_, i) => ({
    _id: `w${i}`,
    question: `Who is the father of X${i}?`,
    answer: `Y${i}`,
    type: "compositional",
    supporting_facts: [[`X${i}`, 0]],
    context: [[`X${i}`, [`X${i} is the child of Y${i}.`]]],
    evidences: [[`X${i}`, "father", `Y${i}`]],
    entity_ids: `Q${i}_Q${i + 1}`,
  }));
  return Buffer.from(JSON.stringify(records));
}

/** The release archive's layout: one folder holding train.json, dev.json and test.json. */
async function releaseZip(dev = twoWikiFile(12), extra: Record<string, Buffer> = {}): Promise<Buffer> {
  const zip = new ZipFile();
  zip.addBuffer(twoWikiFile(30), "data/train.json");
  zip.addBuffer(dev, "data/dev.json");
  zip.addBuffer(twoWikiFile(12), "data/test.json");
  for (const [name, body] of Object.entries(extra)) zip.addBuffer(body, name);
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

let server: DataServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("2WikiMultiHopQA release archive", () => {
  it("is downloaded from the mirror, unpacked with yauzl, and every split recorded", async () => {
    server = await startDataServer({ "/data.zip": { body: await releaseZip() } });
    const dir = mkdtempSync(join(tmpdir(), "lmcot-data-"));
    const options = { dataDir: dir, download: true, mirror: server.url };
    const dev = await getDataset("2wikimultihopqa", "dev", options);
    expect(dev.path).toBe(join(dir, "2wikimultihopqa/dev.json"));
    const ids: string[] = [];
    for await (const e of dev.read()) ids.push(e.id);
    expect(ids).toHaveLength(12);
    expect(Object.keys(readManifest(dir).files).sort()).toEqual([
      "2wikimultihopqa/data.zip",
      "2wikimultihopqa/dev.json",
      "2wikimultihopqa/test.json",
      "2wikimultihopqa/train.json",
    ]);
    // The other splits came out of the same archive: no second download.
    await getDataset("2wikimultihopqa", "train", options);
    expect(server.log).toHaveLength(1);
  });

  it("a truncated archive is an error and nothing lands in the cache", async () => {
    const zip = await releaseZip();
    server = await startDataServer({ "/data.zip": { body: zip.subarray(0, Math.floor(zip.length / 2)) } });
    const dir = mkdtempSync(join(tmpdir(), "lmcot-data-"));
    const error = await getDataset("2wikimultihopqa", "dev", {
      dataDir: dir,
      download: true,
      mirror: server.url,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(DataFetchError.is(error, "archive_corrupt")).toBe(true);
    expect((error as Error).message).toContain("2wikimultihopqa/data.zip is not a readable zip archive");
    expect(existsSync(join(dir, "2wikimultihopqa"))).toBe(false);
    expect(readManifest(dir).files).toEqual({});
    expect(readdirSync(join(dir, ".partial", "2wikimultihopqa__data.zip"))).toEqual([]);
  });

  /** The built-in 2wikimultihopqa:dev through LMCOT_DATA_MIRROR: the error, and nothing cached. */
  async function refused(zip: Buffer, extra: { maxBytes?: number } = {}): Promise<DataFetchError> {
    server = await startDataServer({ "/data.zip": { body: zip } });
    const dir = mkdtempSync(join(tmpdir(), "lmcot-data-"));
    const saved = process.env.LMCOT_DATA_MIRROR;
    process.env.LMCOT_DATA_MIRROR = server.url;
    const error = await getDataset("2wikimultihopqa", "dev", { dataDir: dir, download: true, ...extra })
      .then(
        () => undefined,
        (e: unknown) => e,
      )
      .finally(() => {
        if (saved === undefined) delete process.env.LMCOT_DATA_MIRROR;
        else process.env.LMCOT_DATA_MIRROR = saved;
      });
    expect(DataFetchError.is(error), String(error)).toBe(true);
    expect(existsSync(join(dir, "2wikimultihopqa"))).toBe(false);
    expect(readManifest(dir).files).toEqual({});
    expect(readdirSync(join(dir, ".partial", "2wikimultihopqa__data.zip"))).toEqual([]);
    return error as DataFetchError;
  }

  it("a zip bomb (a 1 MB archive whose member expands to 1 GiB) is refused before a byte is unpacked", async () => {
    const bomb = zipBomb("data/dev.json", 1 << 30);
    expect(bomb.length).toBeLessThan(2e6);
    const error = await refused(bomb);
    expect(error.code).toBe("too_large");
    expect(error.message).toBe(
      "2wikimultihopqa/data.zip: member data/dev.json expands 1 MB of compressed data past 1024 MB, more than 100× (a decompression bomb?); it was discarded and nothing was cached",
    );
  }, 60_000);

  it("a member larger than the limit (--max-mb, maxBytes) is refused", async () => {
    // The archive itself fits; its largest member (30 records) does not.
    const zip = await releaseZip();
    const limit = zip.length + 1;
    expect(twoWikiFile(30).length).toBeGreaterThan(limit);
    const error = await refused(zip, { maxBytes: limit });
    expect(error.code).toBe("too_large");
    expect(error.message).toContain(
      `2wikimultihopqa/data.zip: member data/train.json is larger than its ${limit} bytes limit`,
    );
  });

  it("a substituted member that does not parse as 2WikiMultiHopQA is not cached, though the archive is unpinned", async () => {
    const aliases = Buffer.from(JSON.stringify([{ Q_id: "Q1", aliases: ["One"] }]));
    const error = await refused(await releaseZip(aliases));
    expect(error.code).toBe("data_invalid");
    expect(error.message).toContain(
      "2wikimultihopqa/data.zip: member dev.json is not a valid 2wikimultihopqa file: dev.json: line 1: record 0: _id is missing",
    );
    expect(error.message).toContain("the download was discarded and the cache left as it was");
  });

  it("a member outside the splits must at least be JSON or JSONL", async () => {
    const error = await refused(
      await releaseZip(undefined, { "data/id_aliases.json": Buffer.from("<html>") }),
    );
    expect(error.code).toBe("data_invalid");
    expect(error.message).toContain(
      "member id_aliases.json is not a valid JSON file: id_aliases.json: line 1",
    );
  });

  it("zip slip: the error names the offending member, not a truncated archive", async () => {
    // yazl refuses to write such a name: write a safe one of the same length and patch it in.
    const zip = await releaseZip(undefined, { "xx/evil.json": twoWikiFile(1) });
    const slip = Buffer.from(zip.toString("latin1").replaceAll("xx/evil.json", "../evil.json"), "latin1");
    const error = await refused(slip);
    expect(error.code).toBe("archive_unsafe");
    expect(error.message).toBe(
      '2wikimultihopqa/data.zip holds a member named "../evil.json", a path that points outside the folder it is unpacked into (zip slip: invalid relative path); the archive was refused and nothing of it was cached',
    );
  });

  it("a second member of the same name, which would replace the first when unpacked, is refused", async () => {
    const error = await refused(await releaseZip(undefined, { "old/dev.json": twoWikiFile(3) }));
    expect(error.code).toBe("archive_unsafe");
    expect(error.message).toContain(
      "2wikimultihopqa/data.zip holds two members named dev.json (data/dev.json and old/dev.json)",
    );
  });
});
