import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ZipFile } from "yazl";
import { DataFetchError, getDataset, readManifest } from "../src/index";
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
async function releaseZip(): Promise<Buffer> {
  const zip = new ZipFile();
  zip.addBuffer(twoWikiFile(30), "data/train.json");
  zip.addBuffer(twoWikiFile(12), "data/dev.json");
  zip.addBuffer(twoWikiFile(12), "data/test.json");
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
});
