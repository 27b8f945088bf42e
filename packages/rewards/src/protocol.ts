import { type Example, fnv1a, parsePrompt } from "@lmcot/core";
import { z } from "zod";
import type { RewardItem } from "./scorer";

const sameLengths = (
  body: { query: unknown[]; prompts: unknown[]; labels: unknown[] },
  ctx: z.RefinementCtx,
) => {
  for (const field of ["prompts", "labels"] as const)
    if (body[field].length !== body.query.length)
      ctx.addIssue({
        code: "custom",
        path: [field],
        message: `has ${body[field].length} items but query has ${body.query.length}`,
      });
};

const itemFields = {
  query: z.array(z.string()),
  prompts: z.array(z.string()),
  labels: z.array(z.union([z.string(), z.array(z.string()).min(1)])),
};

/**
 * The body of `POST /get_reward`, OpenRLHF's remote reward model shape (`--remote_rm_url`):
 * `query[i]` is prompt + response, `prompts[i]` the prompt, `labels[i]` the gold answer (or every
 * accepted alias). `detail: true` adds the per-item breakdown to the reply.
 */
export const rewardRequestSchema = z
  .object({ ...itemFields, detail: z.boolean().optional() })
  .superRefine(sameLengths);

// Arrays checked as arrays only (not element by element): the items are checked a slice at a time.
const anArray = z.custom<unknown[]>((v) => Array.isArray(v), "expected an array");
const requestShape = z
  .object({ query: anArray, prompts: anArray, labels: anArray, detail: z.boolean().optional() })
  .superRefine(sameLengths);
const itemSlice = z.object(itemFields);

/**
 * `rewardRequestSchema`'s check, a slice of items at a time with `pace` awaited between slices, so a
 * 4,096-item body never holds the event loop. Throws `RequestItemError` naming the first bad field.
 */
export async function parseRewardRequest(
  json: unknown,
  pace: () => Promise<void>,
  sliceSize = 256,
): Promise<RewardRequest> {
  const shape = requestShape.safeParse(json);
  if (!shape.success) {
    const issue = shape.error.issues[0]!;
    throw new RequestItemError(issuePath(issue.path) || "body", issue.message);
  }
  const body = shape.data;
  for (let start = 0; start < body.query.length; start += sliceSize) {
    await pace();
    const end = start + sliceSize;
    const slice = itemSlice.safeParse({
      query: body.query.slice(start, end),
      prompts: body.prompts.slice(start, end),
      labels: body.labels.slice(start, end),
    });
    if (!slice.success) {
      const issue = slice.error.issues[0]!;
      const [field, index, ...rest] = issue.path;
      const path = [field!, typeof index === "number" ? start + index : index!, ...rest];
      throw new RequestItemError(issuePath(path), issue.message);
    }
  }
  return body as RewardRequest;
}

export type RewardRequest = z.infer<typeof rewardRequestSchema>;

/** `labels[3]`, `query`, … from a zod issue path. */
export function issuePath(path: readonly PropertyKey[]): string {
  return path
    .map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
    .join("");
}

/** The first problem of a failed parse as `field: message`. */
export function describeIssues(error: z.ZodError): { field: string; message: string } {
  const issue = error.issues[0]!;
  const field = issuePath(issue.path) || "body";
  return { field, message: `${field}: ${issue.message}` };
}

/** Special tokens a trainer's detokeniser can leave around the response (padding, end of text). */
export const DEFAULT_SPECIAL_TOKENS = [
  "<pad>",
  "</s>",
  "<s>",
  "<|endoftext|>",
  "<|im_end|>",
  "<|eot_id|>",
  "<|end_of_text|>",
  "<unk>",
];

/** A request item that cannot be turned into a reward item; the server answers 400 naming it. */
export class RequestItemError extends Error {
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`${field}: ${problem}`);
  }
}

function stripSpecial(text: string, tokens: readonly string[]): string {
  let s = text;
  for (;;) {
    const before = s;
    s = s.trim();
    for (const t of tokens) {
      while (s.endsWith(t)) s = s.slice(0, -t.length).trimEnd();
      while (s.startsWith(t)) s = s.slice(t.length).trimStart();
    }
    if (s === before) return s;
  }
}

/**
 * The response part of `query`: what follows `prompt` in it (left padding before the prompt is
 * skipped), without surrounding special tokens.
 */
export function responseOf(
  query: string,
  prompt: string,
  tokens: readonly string[] = DEFAULT_SPECIAL_TOKENS,
): string | undefined {
  const at = query.startsWith(prompt) ? 0 : query.indexOf(prompt);
  if (at < 0) return undefined;
  return stripSpecial(query.slice(at + prompt.length), tokens);
}

/**
 * The example a rationale prompt was rendered from: question and context read back from the prompt
 * (core's `rationalePrompt` layout), the gold answer and its aliases given. Undefined when the prompt
 * has no `Question: …` line.
 */
export function exampleFromPrompt(prompt: string, answer: string, aliases?: string[]): Example | undefined {
  const parsed = parsePrompt(prompt);
  if (!parsed?.question) return undefined;
  return {
    id: fnv1a(prompt),
    dataset: "custom",
    question: parsed.question,
    answer,
    ...(aliases ? { answerAliases: aliases } : {}),
    context: parsed.context,
  };
}

/** Turns request item `i` into a reward item: the rationale is the response, the label is the gold. */
export function requestItem(body: RewardRequest, i: number, tokens?: readonly string[]): RewardItem {
  const prompt = body.prompts[i]!;
  const label = body.labels[i]!;
  const golds = typeof label === "string" ? [label] : label;
  const example = exampleFromPrompt(prompt, golds[0]!, golds.length > 1 ? golds : undefined);
  if (!example)
    throw new RequestItemError(
      `prompts[${i}]`,
      "has no `Question: …` line (expected lmcot's rationale prompt layout)",
    );
  const rationale = responseOf(body.query[i]!, prompt, tokens);
  if (rationale === undefined)
    throw new RequestItemError(`query[${i}]`, "does not contain prompts[" + i + "]");
  return { example, rationale };
}
