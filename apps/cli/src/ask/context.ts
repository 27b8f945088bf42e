import { existsSync } from "node:fs";
import { basename } from "node:path";
import { DataValidationError, type Example, type Paragraph } from "@lmcot/core";
import { readJson, readText, validate } from "@lmcot/datasets";
import { z } from "zod";
import { UsageError } from "../usage-error";

const paragraphs = z.union([
  z.array(z.object({ title: z.string(), sentences: z.array(z.string()) })),
  z.array(z.tuple([z.string(), z.array(z.string())])),
]);

/** An lmcot `Example` or an official record: its context, and its question and answer when it has them. */
const withContext = z.object({
  context: paragraphs,
  question: z.string().optional(),
  answer: z.string().optional(),
});

export type ContextFormat = "json" | "text";

/** What a context file gives: paragraphs, and an example file's question and gold answer. */
export interface ContextFile {
  context: Paragraph[];
  question?: string;
  answer?: string;
}

const toParagraphs = (parsed: z.infer<typeof paragraphs>): Paragraph[] =>
  parsed.map((p) => (Array.isArray(p) ? { title: p[0], sentences: p[1] } : p));

/** Plain text: paragraphs split on blank lines, sentences after `.`, `!` or `?`. */
function fromText(text: string): Paragraph[] {
  return text
    .split(/\n\s*\n/)
    .map((block) => block.trim())
    .filter(Boolean)
    .map((block, i) => ({ title: `Passage ${i + 1}`, sentences: block.split(/(?<=[.!?])\s+/) }));
}

/**
 * A context file: JSON paragraphs (`[{title, sentences}]` or HotpotQA's `[[title, [sentences]]]`), a
 * JSON example holding them in `context`, or plain text with `format: "text"`. A missing file is a
 * usage error; JSON that does not parse is an error naming the file and where it breaks.
 */
export async function readContext(path: string, format: ContextFormat = "json"): Promise<ContextFile> {
  if (!existsSync(path)) throw new UsageError(`--context: no such file: ${path}`);
  if (format === "text") return { context: fromText(await readText(path)) };
  const file = basename(path);
  let value: unknown;
  try {
    value = await readJson(path);
  } catch (error) {
    const message = (error as Error).message;
    if (!DataValidationError.isInstance(error) || !message.includes("JSON")) throw error;
    throw new DataValidationError(`${message}; for a plain-text context, pass --context-format text`);
  }
  if (Array.isArray(value)) return { context: toParagraphs(validate(paragraphs, value, { file })) };
  const example = validate(withContext, value, { file });
  return { ...example, context: toParagraphs(example.context) };
}

/** The example `lmcot ask --question … [--context …]` answers. */
export async function customExample(
  question: string | undefined,
  context: string | undefined,
  format: ContextFormat,
  warn: (message: string) => void,
): Promise<Example> {
  const found = context === undefined ? undefined : await readContext(context, format);
  const asked = question ?? found?.question;
  if (!asked) throw new UsageError("give --question (with --context), or --example");
  if (!found?.context.length)
    warn(
      found
        ? `${basename(context!)} holds no paragraphs: the models answer from the question alone`
        : "no --context: the models answer from the question alone",
    );
  return {
    id: "ask",
    dataset: "custom",
    question: asked,
    answer: found?.answer ?? "",
    context: found?.context ?? [],
  };
}
