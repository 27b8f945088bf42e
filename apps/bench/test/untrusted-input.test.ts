import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { html } from "../src/html";
import { buildReport, buildReportData, buildViewData, renderHtml, renderMarkdown } from "../src/index";
import { tempDir } from "./helpers";
import { writeGeneratedRun } from "./view-fixture";

const XSS = '"><img src=x onerror="window.__xss=1">';

/** A generated run whose `line`-th run.jsonl record (1-based) is edited by `edit`. */
function editedRun(line: number, edit: (record: Record<string, unknown>) => void, n = 3): string {
  const dir = tempDir("lmcot-untrusted-");
  writeGeneratedRun(dir, n);
  const file = join(dir, "run.jsonl");
  const lines = readFileSync(file, "utf8").trim().split("\n");
  const record = JSON.parse(lines[line - 1]!) as Record<string, unknown>;
  edit(record);
  lines[line - 1] = JSON.stringify(record);
  writeFileSync(file, `${lines.join("\n")}\n`);
  return dir;
}

describe("run directories are validated on read", () => {
  it("a hand-edited em or contextChars holding markup is an error naming run.jsonl, the line and the field", async () => {
    const em = editedRun(4, (r) => {
      r.em = XSS;
    });
    await expect(buildReport(em)).rejects.toThrow(/^run\.jsonl: line 4: em must be a number$/);
    expect(existsSync(join(em, "report.html"))).toBe(false);
    await expect(buildViewData([em])).rejects.toThrow(/^run\.jsonl: line 4: em must be a number$/);
    const chars = editedRun(2, (r) => {
      r.contextChars = XSS;
    });
    await expect(buildViewData([chars])).rejects.toThrow(
      /^run\.jsonl: line 2: contextChars must be a number$/,
    );
    const nested = editedRun(1, (r) => {
      (r.usage as Record<string, unknown>).inputTokens = XSS;
    });
    await expect(buildReportData(nested)).rejects.toThrow(/line 1: usage\.inputTokens must be a number/);
    const range = editedRun(1, (r) => {
      r.f1 = 7;
    });
    await expect(buildReportData(range)).rejects.toThrow(/line 1: f1 must be ≤ 1/);
  });

  it("contexts.jsonl, rewards.jsonl and run-info.json are checked the same way", async () => {
    const dir = tempDir("lmcot-untrusted-ctx-");
    writeGeneratedRun(dir, 3);
    const contexts = readFileSync(join(dir, "contexts.jsonl"), "utf8").trim().split("\n");
    const c = JSON.parse(contexts[1]!);
    c.supportingFacts[0].sentence = XSS;
    contexts[1] = JSON.stringify(c);
    writeFileSync(join(dir, "contexts.jsonl"), `${contexts.join("\n")}\n`);
    await expect(buildViewData([dir])).rejects.toThrow(
      /^contexts\.jsonl: line 2: supportingFacts\[0\]\.sentence must be a number$/,
    );
    const other = tempDir("lmcot-untrusted-rewards-");
    writeGeneratedRun(other, 3);
    writeFileSync(join(other, "rewards.jsonl"), `${JSON.stringify({ key: "k", reward: XSS })}\n`);
    await expect(buildViewData([other])).rejects.toThrow(/^rewards\.jsonl: line 1: reward must be a number$/);
    const info = tempDir("lmcot-untrusted-info-");
    writeGeneratedRun(info, 3);
    const runInfo = {
      writtenAt: "2026-01-01T00:00:00.000Z",
      versions: { "@lmcot/core": "0.1.0" },
      promptVersions: { standard: "1" },
      temperature: 0,
      selfConsistency: 1,
      seeds: [0],
      large: ["extractive:reader"],
      small: [{ id: "extractive:selector", label: "selector" }],
    };
    writeFileSync(join(info, "run-info.json"), JSON.stringify(runInfo));
    expect((await buildReportData(info)).runInfo?.seeds).toEqual([0]);
    writeFileSync(join(info, "run-info.json"), JSON.stringify({ ...runInfo, seeds: [XSS] }));
    await expect(buildReportData(info)).rejects.toThrow(/^run-info\.json: seeds\[0\] must be a number$/);
  });
});

describe("pages escape by construction", () => {
  it("html`` escapes every value in text and attributes, whatever its type; only html`` markup passes", () => {
    const weird = { toString: () => "<b>x</b>" };
    expect(html`<p title="${XSS}">${XSS}</p>`.text).toBe(
      '<p title="&#34;&#62;&#60;img src=x onerror=&#34;window.__xss=1&#34;&#62;">&#34;&#62;&#60;img src=x onerror=&#34;window.__xss=1&#34;&#62;</p>',
    );
    expect(html`${weird}${42}${["<i>", html`<i>ok</i>`]}${undefined}${null}${false}`.text).toBe(
      "&#60;b&#62;x&#60;/b&#62;42&#60;i&#62;<i>ok</i>",
    );
    expect(html`<a data-x='${"'onmouseover='x"}'>`.text).not.toContain("'onmouseover");
  });

  it("report.html shows markup in any field as text: numbers that are not numbers, types, batches, failures", async () => {
    const dir = tempDir("lmcot-untrusted-report-");
    writeGeneratedRun(dir, 3);
    const data = await buildReportData(dir);
    const bad = XSS as unknown as number;
    data.examples[0]!.em = bad;
    data.examples[0]!.question = XSS;
    data.examples[1]!.cell = { ...data.examples[1]!.cell, id: XSS };
    data.cells[0]!.byType[XSS] = data.cells[0]!.byType.bridge!;
    data.cells[0]!.cell = { ...data.cells[0]!.cell, dataset: XSS };
    data.batches = [{ batch: XSS, model: XSS, requests: bad, status: XSS, succeeded: bad, failed: bad }];
    data.runDir = XSS;
    const page = renderHtml(data);
    expect(page).not.toMatch(/<img/i);
    expect(page).not.toContain('onerror="window');
    expect(page.match(/<script/g)).toHaveLength(1);
    expect(page).toContain('data-correct="0"');
    expect(page).toContain("&#60;img src=x");
  });

  it("report.md escapes table cells: |, line breaks and markup stay inside their cell", async () => {
    const dir = editedRun(1, (r) => {
      r.type = `a|b\n<img src=x onerror=alert(1)>`;
    });
    const md = renderMarkdown(await buildReportData(dir));
    expect(md).not.toContain("<img");
    const lines = md.split("\n");
    const header = lines.findIndex((l) => l.startsWith("| method | dataset | a\\|b &#60;img"));
    expect(header).toBeGreaterThan(0);
    const cells = (line: string) => line.split(/(?<!\\)\|/).length;
    expect(cells(lines[header]!)).toBe(cells(lines[header + 1]!));
    expect(cells(lines[header + 2]!)).toBe(cells(lines[header + 1]!));
  });
});
