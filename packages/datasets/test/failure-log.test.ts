import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FailureRecord, failureRecord, ServerError } from "@lmcot/core";
import { describe, expect, it } from "vitest";
import { openFailureLog, openFailures, pruneFailures, readFailures } from "../src/index";

const failure = (key: string, message: string): FailureRecord =>
  failureRecord(key, new ServerError(message, { status: 500 }), { cell: "c" });

describe("failure log (errors.jsonl)", () => {
  it("appends records, reads them back, and prunes to the latest record of each kept key", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "lmcot-errors-")), "errors.jsonl");
    const log = await openFailureLog(path);
    await Promise.all([log.append(failure("a", "one")), log.append(failure("b", "two"))]);
    await log.close();
    expect((await readFailures(path)).map((f) => f.key)).toEqual(["a", "b"]);
    appendFileSync(path, '{"key":"torn');
    const again = await openFailureLog(path, { keep: (f) => f.key !== "a" });
    await again.append(failure("b", "three"));
    await again.append(failure("c", "four"));
    expect((await readFailures(path)).map((f) => f.message)).toEqual(["two", "three", "four"]);
    await again.close();
    expect((await readFailures(path)).map((f) => f.message)).toEqual(["three", "four"]);
    await pruneFailures(path, (f) => f.key !== "c");
    expect(readFileSync(path, "utf8").trim().split("\n")).toHaveLength(1);
    expect((await readFailures(path)).map((f) => f.message)).toEqual(["three"]);
  });

  it("names a bad line; a missing file has no failures", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lmcot-errors-"));
    expect(await readFailures(join(dir, "none.jsonl"))).toEqual([]);
    writeFileSync(join(dir, "errors.jsonl"), '{"key":"a"}\n');
    await expect(readFailures(join(dir, "errors.jsonl"))).rejects.toThrow(
      /^errors\.jsonl: line 1: errorClass/,
    );
  });

  it("openFailures: the latest failure per key that has not succeeded since", () => {
    const records = [failure("a", "1"), failure("b", "2"), failure("a", "3")];
    expect(openFailures(records, (k) => k === "b").map((f) => f.message)).toEqual(["3"]);
    expect(openFailures(records, () => false).map((f) => f.message)).toEqual(["2", "3"]);
  });
});
