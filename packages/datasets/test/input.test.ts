import { mkdtempSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DataValidationError } from "@lmcot/core";
import { afterEach, describe, expect, it } from "vitest";
import { openRunStore, readAll, readJson, readLines, samplePath } from "../src/index";
import { readChunks } from "../src/utf8";

const dir = mkdtempSync(join(tmpdir(), "lmcot-input-"));
const write = (name: string, data: string | Buffer) => {
  const path = join(dir, name);
  writeFileSync(path, data);
  return path;
};
const hotpotLines = readFileSync(samplePath("hotpotqa"), "utf8").trim().split("\n");
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

async function failure(read: () => Promise<unknown>): Promise<string> {
  try {
    await read();
  } catch (error) {
    expect(DataValidationError.isInstance(error)).toBe(true);
    return (error as Error).message;
  }
  throw new Error("expected the read to fail");
}

async function bytesOf(path: string, highWaterMark: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const { bytes } of readChunks(path, undefined, highWaterMark)) parts.push(Buffer.from(bytes));
  return Buffer.concat(parts);
}

afterEach(() => {
  delete process.env.LMCOT_MAX_RECORD_MB;
});

describe("encoding", () => {
  it("rejects a Latin-1 file, naming the file, line and byte offset of the first bad sequence", async () => {
    const record = JSON.stringify({ ...JSON.parse(hotpotLines[0]!), answer: "Müller" });
    for (const [name, text] of [
      ["latin1.json", `[${hotpotLines[1]},\n${record}]`],
      ["latin1.jsonl", `${hotpotLines[1]}\n${record}\n`],
    ] as const) {
      const data = Buffer.from(text, "latin1");
      expect(await failure(() => readAll(write(name, data)))).toBe(
        `${name}: line 2 is not valid UTF-8 at byte offset ${data.indexOf(0xfc)} (bytes fc 6c 6c 65): save the file as UTF-8 (from Latin-1: iconv -f latin1 -t utf-8)`,
      );
    }
  });

  it("checks sequences split across chunks, whatever the chunk size", async () => {
    const good = Buffer.from("a é 中 😀 z\n".repeat(5));
    const goodPath = write("split.txt", good);
    const bad = Buffer.concat([good, Buffer.from([0xe4, 0xb8, 0x41]), good]);
    const badPath = write("split-bad.txt", bad);
    for (let size = 1; size <= 9; size++) {
      expect(await bytesOf(goodPath, size)).toEqual(good);
      expect(await failure(() => bytesOf(badPath, size))).toMatch(
        new RegExp(
          `^split-bad\\.txt: line 6 is not valid UTF-8 at byte offset ${good.length} \\(bytes e4 b8 41 `,
        ),
      );
    }
  });

  it("rejects overlong forms, surrogates and a bad sequence cut by the end of the file", async () => {
    for (const bytes of [
      [0xc0, 0xaf],
      [0xed, 0xa0, 0x80],
      [0xf4, 0x90, 0x80, 0x80],
      [0xe0, 0x80],
    ]) {
      const path = write("bad.txt", Buffer.from([0x41, ...bytes]));
      expect(await failure(() => bytesOf(path, 2))).toMatch(/at byte offset 1 /);
    }
  });

  it("names UTF-16", async () => {
    const path = write("utf16.json", Buffer.from("\ufeff[]", "utf16le"));
    expect(await failure(() => readAll(path))).toMatch(/^utf16\.json: line 1 .*byte offset 0 .*UTF-16/);
  });

  it("accepts a byte order mark on JSON arrays, JSONL and JSON files, keeping byte offsets right", async () => {
    const expected = (await readAll(samplePath("hotpotqa"))).slice(0, 2);
    const array = write(
      "bom.json",
      Buffer.concat([BOM, Buffer.from(`[${hotpotLines.slice(0, 2).join(",")}]`)]),
    );
    const jsonl = write("bom.jsonl", Buffer.concat([BOM, Buffer.from(hotpotLines.slice(0, 2).join("\n"))]));
    expect(await readAll(array)).toEqual(expected);
    expect(await readAll(jsonl)).toEqual(expected);
    expect(await readJson(write("bom-one.json", Buffer.concat([BOM, Buffer.from('{"a": 1}')])))).toEqual({
      a: 1,
    });
    const lines = [];
    for await (const l of readLines(jsonl)) lines.push(l);
    expect(lines[0]!.end).toBe(BOM.length + Buffer.byteLength(hotpotLines[0]!) + 1);

    const run = write("bom-run.jsonl", Buffer.concat([BOM, Buffer.from('{"key":"a"}\n{"key":"b')]));
    const store = await openRunStore(run);
    expect(store.info).toEqual({ existing: 1, droppedTornLine: true });
    await store.close();
    expect(readFileSync(run)).toEqual(Buffer.concat([BOM, Buffer.from('{"key":"a"}\n')]));
  });
});

describe("record size limit", () => {
  const big = (n: number) => JSON.stringify({ ...JSON.parse(hotpotLines[0]!), answer: "x".repeat(n) });

  it("stops at a record over the limit, naming file, record and line", async () => {
    const array = write("big.json", `[\n${hotpotLines[0]},\n${big(3e6)}\n]`);
    expect(await failure(() => readAll(array, { maxRecordBytes: 1 << 20 }))).toBe(
      "big.json: line 3: record 1 is larger than the 1 MB record size limit (raise it with LMCOT_MAX_RECORD_MB or the maxRecordBytes option)",
    );
    const jsonl = write("big.jsonl", `${hotpotLines[0]}\n${big(3e6)}\n`);
    expect(await failure(() => readAll(jsonl, { maxRecordBytes: 1 << 20 }))).toMatch(
      /^big\.jsonl: line 2 is larger than the 1 MB record size limit/,
    );
    expect(await readAll(jsonl, { maxRecordBytes: 4 << 20 })).toHaveLength(2);
  });

  it("takes the limit from LMCOT_MAX_RECORD_MB", async () => {
    const path = write("env.json", `[${big(600_000)}]`);
    process.env.LMCOT_MAX_RECORD_MB = "0.5";
    expect(await failure(() => readAll(path))).toMatch(
      /record 0 is larger than the 0\.5 MB record size limit/,
    );
    process.env.LMCOT_MAX_RECORD_MB = "1";
    expect(await readAll(path)).toHaveLength(1);
    process.env.LMCOT_MAX_RECORD_MB = "lots";
    await expect(readAll(path)).rejects.toThrow(/LMCOT_MAX_RECORD_MB must be a positive number/);
  });

  it("fails while the record streams in, without buffering it (a 4 GB record, sparse on disk)", async () => {
    process.env.LMCOT_MAX_RECORD_MB = "2";
    for (const [name, head] of [
      ["endless.json", '[{"_id": "a", "answer": "'],
      ["endless.jsonl", '{"_id": "a", "answer": "'],
      ["endless-doc.json", '{"answer": "'],
    ] as const) {
      const path = write(name, head);
      truncateSync(path, 4 * 1024 ** 3);
      const read = name === "endless-doc.json" ? () => readJson(path) : () => readAll(path);
      expect(await failure(read)).toMatch(/is larger than the 2 MB record size limit/);
    }
  });
});

describe("readJson", () => {
  it("says where a file is truncated or malformed, and that an empty one is empty", async () => {
    expect(
      await failure(() => readJson(write("cut.json", '{"answer": {"a": "b"},\n "sp": {"a": [["T", 0]'))),
    ).toBe("cut.json: line 2 ends before its JSON is complete (the file is truncated)");
    expect(await failure(() => readJson(write("bad.json", '{"a": 1,\n"b": 2}\n{"c": 3}')))).toMatch(
      /^bad\.json: line 3 is not valid JSON at column 1 \(Unexpected non-whitespace character/,
    );
    // V8 gives no position here: the reader finds it.
    expect(await failure(() => readJson(write("token.json", '[1,\n {"a": }]')))).toMatch(
      /^token\.json: line 2 is not valid JSON at column 8 \(Unexpected token/,
    );
    expect(await failure(() => readJson(write("empty.json", Buffer.concat([BOM, Buffer.from(" \n")]))))).toBe(
      "empty.json is empty",
    );
  });
});
