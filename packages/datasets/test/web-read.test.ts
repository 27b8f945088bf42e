import { readFileSync } from "node:fs";
import { DataValidationError } from "@lmcot/core";
import { describe, expect, it } from "vitest";
import * as browser from "../src/browser";
import { loadSample, samplePath } from "../src/index";
import { readAll, readDataset } from "../src/web-read";

const hotpotText = readFileSync(samplePath("hotpotqa"), "utf8");
const records = hotpotText
  .trim()
  .split("\n")
  .map((l) => JSON.parse(l));

/** A byte stream cut into `size`-byte chunks, so records, lines and UTF-8 sequences straddle them. */
function chunked(text: string | Uint8Array, size: number): ReadableStream<Uint8Array> {
  const bytes = typeof text === "string" ? new TextEncoder().encode(text) : text;
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + size));
      at += size;
    },
  });
}

async function failure(source: Parameters<typeof readAll>[0]): Promise<string> {
  const error = await readAll(source).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(DataValidationError.isInstance(error)).toBe(true);
  return (error as Error).message;
}

describe("the Web Streams readers (browser entry)", () => {
  it("read the bundled HotpotQA sample from a Blob exactly as the Node reader reads the file", async () => {
    const fromFile = await loadSample("hotpotqa");
    const fromBlob = await readAll(new Blob([hotpotText]));
    expect(fromBlob).toHaveLength(57);
    expect(fromBlob).toEqual(fromFile);
  });

  it("read the official JSON array form, pretty-printed, in 7-byte chunks, the same as JSONL", async () => {
    const array = JSON.stringify(records.slice(0, 4), null, 2);
    const fromArray = await readAll(chunked(array, 7));
    const fromLines = await readAll(
      new Response(
        records
          .slice(0, 4)
          .map((r) => JSON.stringify(r))
          .join("\n"),
      ),
    );
    expect(fromArray.map((e) => e.id)).toEqual(records.slice(0, 4).map((r) => r._id));
    expect(fromArray).toEqual(fromLines);
  });

  it("stop early without reading the rest", async () => {
    let pulls = 0;
    const bytes = new TextEncoder().encode(hotpotText);
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(bytes.slice(pulls * 4096, ++pulls * 4096));
      },
    });
    for await (const example of readDataset(stream)) {
      expect(example.dataset).toBe("hotpotqa");
      break;
    }
    expect(pulls).toBeLessThan(10);
  });

  it("name the line of a record that is not JSON, a torn last line, a truncated array and bad UTF-8", async () => {
    const two = `${JSON.stringify(records[0])}\n{"_id": oops}\n`;
    expect(await failure(new File([two], "dev.jsonl"))).toMatch(/dev\.jsonl.*line 2.*not valid JSON/s);
    const torn = `${JSON.stringify(records[0])}\n${JSON.stringify(records[1]).slice(0, 50)}`;
    expect(await failure(new Blob([torn]))).toMatch(/torn last line/);
    const cut = JSON.stringify(records.slice(0, 2)).slice(0, -20);
    expect(await failure(chunked(cut, 64))).toMatch(/truncated/);
    expect(await failure(chunked(new Uint8Array([0x5b, 0x7b, 0x22, 0xff, 0x22]), 2))).toMatch(
      /not valid UTF-8/,
    );
    expect(await failure(new Blob(["[1, 2]"]))).toMatch(/not a record/);
    expect(await failure(new Blob(["  \n"]))).toMatch(/is empty/);
  });

  it("validate each record and name its field, or skip it when asked", async () => {
    const bad = { ...records[0], question: 42 };
    const text = [records[0], bad, records[1]].map((r) => JSON.stringify(r)).join("\n");
    expect(await failure(new Blob([text]))).toMatch(/question/);
    const skipped: string[] = [];
    const kept = await readAll(new Blob([text]), { onError: "skip", onSkip: (e) => skipped.push(e.message) });
    expect(kept).toHaveLength(2);
    expect(skipped).toHaveLength(1);
  });

  it("say the HTTP status of a URL that cannot be read", async () => {
    const error = await readAll(new Response("gone", { status: 404 })).catch((e: Error) => e);
    expect(String(error)).toMatch(/404/);
  });

  it("the browser entry exports the same reader names as the Node entry", async () => {
    const node = await import("../src/index");
    for (const name of ["readDataset", "readAll", "loadSample", "filterExamples", "sample", "detectFormat"])
      expect([name, typeof (browser as Record<string, unknown>)[name]]).toEqual([
        name,
        typeof (node as Record<string, unknown>)[name],
      ]);
  });
});
