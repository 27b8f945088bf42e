import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DataValidationError } from "@lmcot/core";
import { describe, expect, it } from "vitest";
import {
  attachAliases,
  filterExamples,
  loadSample,
  readAliases,
  readAll,
  readDataset,
  sample,
  samplePath,
  trainEvalSplit,
} from "../src/index";
import { SKIPPING_CHUNK } from "../src/json-scan";

const dir = mkdtempSync(join(tmpdir(), "lmcot-datasets-"));
const write = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const hotpotLines = readFileSync(samplePath("hotpotqa"), "utf8").trim().split("\n");
const hotpotRecords = hotpotLines.map((l) => JSON.parse(l));

async function failure(path: string, options = {}): Promise<string> {
  try {
    await readAll(path, options);
  } catch (error) {
    expect(DataValidationError.isInstance(error)).toBe(true);
    return (error as Error).message;
  }
  throw new Error("expected the read to fail");
}

describe("readDataset", () => {
  it("reads the official JSON array form, pretty-printed, the same as JSONL", async () => {
    const array = write("dev.json", JSON.stringify(hotpotRecords.slice(0, 5), null, 2));
    const fromArray = await readAll(array);
    const fromJsonl = await readAll(samplePath("hotpotqa"));
    expect(fromArray).toEqual(fromJsonl.slice(0, 5));
    expect(fromArray[0]).toMatchObject({
      id: "5a8b57f25542995d1e6f1371",
      dataset: "hotpotqa",
      question: "Were Scott Derrickson and Ed Wood of the same nationality?",
      answer: "yes",
      type: "comparison",
      level: "hard",
    });
    expect(fromArray[0]!.context).toHaveLength(10);
    expect(fromArray[0]!.supportingFacts![0]).toEqual({ title: "Scott Derrickson", sentence: 0 });
  });

  it("reads records whose text crosses the read-buffer boundary (a >1 MB array)", async () => {
    const many = Array.from({ length: 200 }, (_, i) => ({
      ...hotpotRecords[i % hotpotRecords.length],
      _id: `r${i}`,
    }));
    const path = write("big.json", JSON.stringify(many));
    expect(readFileSync(path).length).toBeGreaterThan(1 << 20);
    const ids: string[] = [];
    for await (const e of readDataset(path)) ids.push(e.id);
    expect(ids).toEqual(many.map((r) => r._id));
  });

  it("maps 2WikiMultiHopQA records, keeping evidences and ids", async () => {
    const examples = await loadSample("2wikimultihopqa");
    expect(examples).toHaveLength(2);
    expect(examples[0]).toMatchObject({
      dataset: "2wikimultihopqa",
      type: "compositional",
      answer: "20 March 851",
    });
    expect(examples[0]!.evidences![0]).toEqual(["Lothair II", "mother", "Ermengarde of Tours"]);
    expect(examples[1]!.extra).toMatchObject({ answer_id: "Q7188342" });
  });

  it("names file, record, line and field of a bad value", async () => {
    const bad = structuredClone(hotpotRecords.slice(0, 3));
    bad[2].context[2][1] = "not a list";
    const message = await failure(write("dev.json", JSON.stringify(bad, null, 1)));
    expect(message).toMatch(/^dev\.json: line \d+: record 2: context\[2\]\[1\] must be an array$/);
  });

  it("names a missing field", async () => {
    const bad = structuredClone(hotpotRecords.slice(0, 2));
    delete bad[1].question;
    expect(await failure(write("missing.jsonl", bad.map((r: unknown) => JSON.stringify(r)).join("\n")))).toBe(
      "missing.jsonl: line 2: record 1: question is missing",
    );
  });

  it("rejects wrong types with the field path", async () => {
    const bad = structuredClone(hotpotRecords.slice(0, 1));
    bad[0].supporting_facts[0][1] = "zero";
    expect(await failure(write("types.jsonl", JSON.stringify(bad[0])))).toBe(
      "types.jsonl: line 1: record 0: supporting_facts[0][1] must be a number",
    );
  });

  it("reports a truncated array file", async () => {
    const text = JSON.stringify(hotpotRecords.slice(0, 3));
    expect(await failure(write("cut.json", text.slice(0, text.length - 500)))).toMatch(
      /^cut\.json: line 1: record 2 ends inside a record \(the file is truncated\)$/,
    );
    expect(
      await failure(write("cut2.json", `${JSON.stringify(hotpotRecords.slice(0, 1))}`.slice(0, -1))),
    ).toMatch(/ends before the closing `]`/);
  });

  it("reports empty files and non-array JSON", async () => {
    expect(await failure(write("empty.json", "  \n"))).toBe("empty.json is empty");
    expect(await failure(write("numbers.json", "[1, 2]"))).toBe(
      "numbers.json: line 1: record 0 must be an object",
    );
  });

  it("reports a JSONL torn last line, or skips it on request", async () => {
    const torn = `${hotpotLines.slice(0, 3).join("\n")}\n${hotpotLines[3]!.slice(0, 100)}`;
    const path = write("torn.jsonl", torn);
    expect(await failure(path)).toMatch(/^torn\.jsonl: line 4: record 3 is a torn last line/);
    const skipped: string[] = [];
    const got = await readAll(path, { onError: "skip", onSkip: (e) => skipped.push(e.message) });
    expect(got).toHaveLength(3);
    expect(skipped).toHaveLength(1);
  });

  it("skips and reports bad records in skip mode, keeping the good ones", async () => {
    const lines = hotpotLines.slice(0, 4).map((l) => JSON.parse(l));
    lines[1].answer = 42;
    const skipped: string[] = [];
    const got = await readAll(write("mixed.jsonl", lines.map((l: unknown) => JSON.stringify(l)).join("\n")), {
      onError: "skip",
      onSkip: (e) => skipped.push(e.message),
    });
    expect(got.map((e) => e.id)).toEqual([lines[0]._id, lines[2]._id, lines[3]._id]);
    expect(skipped).toEqual(["mixed.jsonl: line 2: record 1: answer must be a string"]);
  });
});

describe("samples and sampling", () => {
  it("ships the real samples", async () => {
    expect(await loadSample("hotpotqa")).toHaveLength(57);
    const qa = await loadSample("2wikimultihopqa-qa");
    expect(qa).toHaveLength(1000);
    expect(qa[1]).toMatchObject({
      id: "dev-1",
      answer: "Mask of Fu Manchu",
      answerAliases: ["Mask of Fu Manchu", "The Mask of Fu Manchu"],
      context: [],
    });
  });

  it("samples deterministically by seed", async () => {
    const all = await loadSample("hotpotqa");
    const a = sample(all, 10, 42).map((e) => e.id);
    expect(sample(all, 10, 42).map((e) => e.id)).toEqual(a);
    expect(sample(all, 10, 43).map((e) => e.id)).not.toEqual(a);
    expect(new Set(a).size).toBe(10);
    expect(sample(all, 100, 1)).toHaveLength(57);
  });

  it("filters by type and level, and splits train / eval disjointly", async () => {
    const all = await loadSample("hotpotqa");
    const comparison = filterExamples(all, { type: "comparison" });
    expect(comparison.length).toBeGreaterThan(0);
    expect(comparison.every((e) => e.type === "comparison")).toBe(true);
    expect(filterExamples(all, { level: ["hard", "medium"] }).every((e) => e.level !== "easy")).toBe(true);
    const { train, eval: held } = trainEvalSplit(all, 20, 0);
    expect(held).toHaveLength(20);
    expect(train).toHaveLength(37);
    expect(new Set([...train, ...held].map((e) => e.id)).size).toBe(57);
  });

  it("attaches 2Wiki aliases by answer_id", async () => {
    const [, second] = await loadSample("2wikimultihopqa");
    const path = write(
      "id_aliases.json",
      `${JSON.stringify({ Q_id: "Q7188342", aliases: ["Phulwari"], demonyms: [] })}\n`,
    );
    const aliases = await readAliases(path);
    expect(attachAliases(second!, aliases).answerAliases).toEqual(["Phoolwari", "Phulwari"]);
  });
});

describe("readRaw with skipKeys", () => {
  it("leaves the skipped keys out, wherever they sit in the record, in arrays and JSONL", async () => {
    const { readRaw } = await import("../src/index");
    const records = [
      { context: [["t", ["s"]]], _id: "first", answer: "a" },
      { _id: "middle", context: { nested: ["]", "}", '"quoted"'] }, answer: "b" },
      { _id: "last", answer: "c", context: [] },
    ];
    for (const [name, text] of [
      ["skip.json", JSON.stringify(records, null, 2)],
      ["skip-compact.json", JSON.stringify(records)],
      ["skip.jsonl", records.map((r) => JSON.stringify(r)).join("\n")],
    ] as const) {
      const got = [];
      for await (const raw of readRaw(write(name, text), { skipKeys: ["context"] })) got.push(raw.value);
      expect(got, name).toEqual(records.map(({ context: _, ...rest }) => rest));
    }
  });
});

describe("the JSON array scanner at the read-buffer boundary", () => {
  it.each([
    ["1 MB boundary of a plain read", 1 << 20, []],
    ["4 MB boundary of a read that skips keys", SKIPPING_CHUNK, ["context"]],
  ])(
    "reads escapes, quotes and skipped keys cut at every position by the %s",
    async (_, boundary, skipKeys) => {
      const { readRaw, readRawBatches } = await import("../src/files");
      const tricky = 'a \\ b \\\\" c "} ]';
      const context = [[tricky, [tricky, "\\"]]];
      // The escapes of the second record's _id (read), then of its context (skipped, or read), straddle it.
      const shifted = [
        ...Array.from({ length: 12 }, (_, shift) => ({ shift, contextFirst: false })),
        ...Array.from({ length: 24 }, (_, shift) => ({ shift, contextFirst: true })),
      ];
      for (const { shift, contextFirst } of shifted) {
        const tricked = { _id: tricky, answer: tricky, supporting_facts: [[tricky, 0]] };
        // The first record ends just before the boundary.
        const records = [
          { _id: "pad", answer: "x".repeat(boundary - 40 - shift) },
          contextFirst ? { context, ...tricked } : { ...tricked, context },
          { _id: "after", answer: "y", context: [] },
        ];
        const path = write(`boundary-${boundary}-${shift}-${contextFirst}.json`, JSON.stringify(records));
        const want = records.map(({ context, ...rest }) => (skipKeys.length ? rest : { ...rest, context }));
        const got = [];
        for await (const raw of readRaw(path, { skipKeys })) got.push(raw.value);
        expect(got, `shift ${shift}`).toEqual(want);
        const batches = [];
        for await (const batch of readRawBatches(path, { skipKeys })) batches.push(batch);
        expect(batches.flat().map((r) => [r.record, r.value])).toEqual(want.map((v, i) => [i, v]));
      }
    },
  );

  it("counts the lines of a skipped value, to name the line of a bad record after it", async () => {
    const { readRaw } = await import("../src/files");
    const context = JSON.stringify([["t", ['a \\" [ {', "b"]]], null, 1);
    const text = `[{"_id": "a", "context": ${context}},\n{"_id": tru}]`;
    const path = write("bad-after-skip.json", text);
    const error = await (async () => {
      for await (const _ of readRaw(path, { skipKeys: ["context"] }));
    })().catch((e: Error) => e);
    expect(String(error)).toMatch(new RegExp(`line ${text.split("\n").length}: record 1 is not valid JSON`));
  });

  it("hands out the records before a bad one, then names it", async () => {
    const { readRaw } = await import("../src/files");
    const path = write("bad-second.json", '[{"_id": "a"},\n{"_id": tru},\n{"_id": "c"}]');
    const got: unknown[] = [];
    const error = await (async () => {
      for await (const raw of readRaw(path)) got.push(raw.value);
    })().catch((e: Error) => e);
    expect(got).toEqual([{ _id: "a" }]);
    expect(String(error)).toMatch(/bad-second\.json: line 2: record 1 is not valid JSON/);
  });
});
