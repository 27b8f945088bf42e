import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { samplePath } from "@lmcot/datasets";
import { describe, expect, it } from "vitest";
import { lmcot } from "./run-cli";

const dir = mkdtempSync(join(tmpdir(), "lmcot-ask-methods-"));
const write = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};
const offline = ["--large", "extractive:reader", "--small", "extractive:selector"];
const question = "Which film came out first, Aas Ka Panchhi or Phoolwari?";
const paragraphs = "Phoolwari is a 1946 Indian film.\n\nAas Ka Panchhi is a 1961 Hindi film.\n";

describe("lmcot ask --method all and its context", () => {
  it("runs the three methods on one question, side by side, and as a JSON array", async () => {
    const example = ["--example", "hotpotqa:5a8b57f25542995d1e6f1371", ...offline, "--method", "all"];
    const text = await lmcot("ask", ...example);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/\nmethod +answer +usage\nstandard +\S.*\ncot +\S.*\nlm-guided +\S.*small/);
    expect(text.stdout).toMatch(
      /Rationales:\n {2}cot \(extractive:reader\): .+\n {2}lm-guided \(extractive:selector\): .+/,
    );
    const json = await lmcot("ask", ...example, "--json");
    expect(json.code).toBe(0);
    const predictions = JSON.parse(json.stdout);
    expect(predictions.map((p: { method: string }) => p.method)).toEqual(["standard", "cot", "lm-guided"]);
    for (const p of predictions)
      expect(p).toMatchObject({ exampleId: "5a8b57f25542995d1e6f1371", emptyAnswer: false });
  });

  it("reads a plain-text context with --context-format text, and an example file's question", async () => {
    const context = write("ctx.txt", paragraphs);
    const r = await lmcot(
      "ask",
      "--question",
      question,
      "--context",
      context,
      "--context-format",
      "text",
      ...offline,
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    // The offline reader answers from the passages (plain text has no titles to match the question).
    expect(r.stdout).toMatch(/\nAnswer: (Phoolwari|Aas Ka Panchhi)\n/);
    const record = readFileSync(samplePath("hotpotqa"), "utf8").split("\n")[0]!;
    const e = await lmcot(
      "ask",
      "--context",
      write("record.json", record),
      "--method",
      "standard",
      ...offline,
    );
    expect(e.code).toBe(0);
    expect(e.stdout).toMatch(/^Question: Were Scott Derrickson and Ed Wood of the same nationality\?\n/);
    expect(e.stdout).toContain("Gold: yes");
  });

  it("refuses a context file that is broken JSON, naming the file and where it breaks", async () => {
    const broken = write("broken.json", '[{"title": "Phoolwari", "sentences": ["a film."]},\n {"title": }]');
    const r = await lmcot("ask", "--question", question, "--context", broken, ...offline);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^lmcot: broken\.json: line 2 is not valid JSON at column 12 \(.*\); for a plain-text context, pass --context-format text\n/,
    );
    // Plain text is read as JSON only when asked: the same text with the flag is fine.
    const text = write("broken.txt", paragraphs);
    expect((await lmcot("ask", "--question", question, "--context", text, ...offline)).code).toBe(1);
  });

  it("a missing context file is a usage error", async () => {
    const r = await lmcot("ask", "--question", question, "--context", join(dir, "nope.json"), ...offline);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--context: no such file:");
  });

  it("warns when there is no context, and flags an empty answer on stderr and in --json", async () => {
    const r = await lmcot("ask", "--question", "Who?", "--method", "standard", "--json", ...offline);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      "lmcot: warning: no --context: the models answer from the question alone\n" +
        "lmcot: warning: standard: the answer is empty (no context was given)\n",
    );
    expect(JSON.parse(r.stdout)).toMatchObject({ answer: "", emptyAnswer: true });
    const text = await lmcot("ask", "--question", "Who?", "--method", "standard", ...offline);
    expect(text.stdout).toContain("Answer: (empty)");
  });
});
