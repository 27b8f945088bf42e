import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildReport } from "../src/index";
import { tempDir } from "./helpers";
import { writeReportFixture } from "./report-fixture";

/**
 * report.json / .md / .html against the files the record-holding report (before the streaming
 * columns) wrote for the same run directory: every number, table and chart identical. Only the
 * generation time and the temporary directory's path differ, and are replaced before comparing.
 */
const normalize = (text: string, dir: string, generatedAt: string) =>
  text.split(dir).join("<run>").split(generatedAt).join("<generated>");

describe("the streamed report matches the record-holding report's output", () => {
  for (const [name, minClaimN] of [
    ["claims-100", 100],
    ["claims-20", 20],
  ] as const)
    it(`on the report fixture (min claim n ${minClaimN})`, async () => {
      const dir = tempDir("lmcot-report-golden-");
      writeReportFixture(dir);
      const { data } = await buildReport(dir, { minClaimN });
      const read = (file: string) => normalize(readFileSync(join(dir, file), "utf8"), dir, data.generatedAt);
      const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
      // The files in full, by hash; the markdown and the JSON without its examples as text, to show a difference.
      const { examples, ...rest } = JSON.parse(read("report.json"));
      await expect(read("report.md")).toMatchFileSnapshot(`fixtures/report-golden/${name}.report.md`);
      await expect(`${JSON.stringify(rest, null, 1)}\n`).toMatchFileSnapshot(
        `fixtures/report-golden/${name}.report-without-examples.json.txt`,
      );
      const hashes = {
        "report.json": sha256(read("report.json")),
        "report.md": sha256(read("report.md")),
        "report.html": sha256(read("report.html")),
        examples: sha256(JSON.stringify(examples)),
      };
      await expect(`${JSON.stringify(hashes, null, 2)}\n`).toMatchFileSnapshot(
        `fixtures/report-golden/${name}.sha256.txt`,
      );
    });
});
