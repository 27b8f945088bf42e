import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AuthenticationError,
  type Example,
  type GenerateRequest,
  parsePrompt,
  rationalePrompt,
  ServerError,
} from "@lmcot/core";
import { ScriptedLanguageModel } from "@lmcot/core/testing";
import { loadSample } from "@lmcot/datasets";
import { describe, expect, it } from "vitest";
import { distill, exportSchemas, readKept, validateExport, writeExport } from "../src/index";

const temp = () => mkdtempSync(join(tmpdir(), "lmcot-distill-"));
const all = await loadSample("hotpotqa");
const examples: Example[] = all.slice(0, 8);
const answerOf = (r: GenerateRequest) =>
  examples.find((e) => e.question === parsePrompt(r.prompt!)!.question)!.answer;

/** A teacher that is right on even questions, wrong on odd ones, and malformed on a few. */
function teacher() {
  return new ScriptedLanguageModel(
    [
      (r) => {
        const i = examples.findIndex((e) => e.question === parsePrompt(r.prompt!)!.question);
        if (i === 2) return "";
        if (i === 3) return "I think the answer is obvious.";
        if (i === 5) return `Reasoning: ${"very ".repeat(500)}long\nPrediction: ${answerOf(r)}`;
        if (i % 2 === 1) return "Reasoning: A guess.\nPrediction: Nobody";
        return {
          text: `Reasoning: The context says it. The answer is ${answerOf(r)}.\nPrediction: ${answerOf(r)}`,
          costUsd: 0.001,
        };
      },
    ],
    "scripted:teacher",
  );
}

describe("distill", () => {
  it("keeps correct rationales, drops the rest with reasons, and writes stats", async () => {
    const out = temp();
    const stats = await distill({ teacher: teacher(), examples, outDir: out });
    const kept = readFileSync(join(out, "kept.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const dropped = readFileSync(join(out, "dropped.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(kept.map((k) => k.id).sort()).toEqual([examples[0]!.id, examples[4]!.id, examples[6]!.id].sort());
    expect(kept[0].rationale).toMatch(/^The context says it\./);
    const reasons = Object.fromEntries(dropped.map((d) => [d.id, d.reason]));
    expect(reasons[examples[2]!.id]).toBe("malformed reply: empty reply");
    expect(reasons[examples[3]!.id]).toBe("malformed reply: no `Prediction:` in the reply");
    expect(reasons[examples[5]!.id]).toMatch(/^rationale too long \(501 words > 400\)$/);
    expect(reasons[examples[1]!.id]).toMatch(/^wrong prediction \(EM 0\.00 < 1\)$/);
    expect(stats).toMatchObject({
      questions: 8,
      calls: 8,
      kept: 3,
      dropped: 5,
      keptRatio: 3 / 8,
      teacher: "scripted:teacher",
    });
    expect(stats.costUsd).toBeCloseTo(0.003);
    expect(stats.dropReasons).toEqual({
      "malformed reply": 2,
      "rationale too long": 1,
      "wrong prediction": 2,
    });
    expect(JSON.parse(readFileSync(join(out, "stats.json"), "utf8")).kept).toBe(3);
    expect(stats.rationaleWords!.median).toBeGreaterThan(3);
  });

  it("keeps every correct sample when sampling k per question, and F1 filters work", async () => {
    const out = temp();
    const stats = await distill({
      teacher: teacher(),
      examples,
      outDir: out,
      samples: 2,
      filter: { metric: "f1", threshold: 0.5 },
    });
    expect(stats.calls).toBe(16);
    expect(stats.kept).toBe(6);
  });

  it("resumes a killed run without repeating calls or duplicating lines", async () => {
    const out = temp();
    const first = teacher();
    await distill({ teacher: first, examples: examples.slice(0, 4), outDir: out });
    // Simulate a kill in the middle of an append.
    writeFileSync(
      join(out, "teacher.jsonl"),
      `${readFileSync(join(out, "teacher.jsonl"), "utf8")}{"key":"torn`,
    );
    const second = teacher();
    const stats = await distill({ teacher: second, examples, outDir: out });
    expect(second.requests).toHaveLength(4);
    expect(stats.calls).toBe(8);
    const ids = readFileSync(join(out, "kept.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("exports TRL SFT, OpenAI chat and seq2seq files whose input is exactly the rationale prompt", async () => {
    const out = temp();
    await distill({ teacher: teacher(), examples, outDir: out });
    const rows = await readKept(join(out, "kept.jsonl"));
    for (const format of ["trl", "openai", "seq2seq"] as const) {
      const path = join(out, `${format}.jsonl`);
      expect(writeExport(rows, format, path)).toBe(3);
      expect(await validateExport(path, format)).toBe(3);
      const first = JSON.parse(readFileSync(path, "utf8").split("\n")[0]!);
      exportSchemas[format].parse(first);
      const input =
        format === "trl" ? first.prompt : format === "openai" ? first.messages[0].content : first.source;
      expect(input).toBe(rationalePrompt.render(rows[0]!.example));
    }
    const sft = JSON.parse(readFileSync(join(out, "trl.jsonl"), "utf8").split("\n")[0]!);
    expect(Object.keys(sft)).toEqual(["prompt", "completion"]);
  });

  it("rejects malformed export lines with file and line numbers", async () => {
    const out = temp();
    const path = join(out, "sft.jsonl");
    writeFileSync(
      path,
      `${JSON.stringify({ prompt: "p", completion: "c" })}\n${JSON.stringify({ prompt: "p" })}\n`,
    );
    await expect(validateExport(path, "trl")).rejects.toThrow("sft.jsonl: line 2: completion is missing");
    writeFileSync(
      path,
      `${JSON.stringify({
        messages: [
          { role: "user", content: "q" },
          { role: "user", content: "again" },
        ],
      })}\n`,
    );
    await expect(validateExport(path, "openai")).rejects.toThrow(
      "sft.jsonl: line 1: messages must end with the assistant's message",
    );
    writeFileSync(path, "{not json\n");
    await expect(validateExport(path, "seq2seq")).rejects.toThrow("sft.jsonl: line 1 is not valid JSON");
  });

  it("writes failed teacher calls to errors.jsonl, and a re-run that succeeds clears them", async () => {
    const out = temp();
    const flaky = new ScriptedLanguageModel([
      (r) => {
        const i = examples.findIndex((e) => e.question === parsePrompt(r.prompt!)!.question);
        if (i < 2) throw new ServerError("teacher 500 for sk-proj-abcdefghijklmnopqrstuv", { status: 500 });
        return `Reasoning: r.\nPrediction: ${answerOf(r)}`;
      },
    ]);
    const result = await distill({ teacher: flaky, examples, outDir: out, concurrency: 1 });
    expect(result).toMatchObject({ failedCalls: 2, calls: 6 });
    expect(result.failures.map((f) => f.errorClass)).toEqual(["server", "server"]);
    const errors = readFileSync(join(out, "errors.jsonl"), "utf8").trim().split("\n");
    expect(errors).toHaveLength(2);
    expect(JSON.parse(errors[0]!)).toMatchObject({
      cell: "teacher",
      status: 500,
      message: "teacher 500 for [redacted]",
    });
    const again = await distill({ teacher: teacher(), examples, outDir: out });
    expect(again.failedCalls).toBe(0);
    expect(readFileSync(join(out, "errors.jsonl"), "utf8")).toBe("");
  });

  it("stops at once when the teacher's key is refused", async () => {
    const out = temp();
    const refused = new ScriptedLanguageModel([
      () => {
        throw new AuthenticationError("401 bad key", { status: 401 });
      },
    ]);
    const result = await distill({ teacher: refused, examples, outDir: out, concurrency: 1 });
    expect(result.stoppedBy).toBe("fatal");
    expect(result.fatal?.failure.errorClass).toBe("authentication");
    expect(refused.requests).toHaveLength(1);
  });
});
