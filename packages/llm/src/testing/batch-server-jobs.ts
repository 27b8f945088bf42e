// Provider-neutral batch state for batch-server.ts: polls, execution through `answer`, fates.
import { randomBytes } from "node:crypto";
import type { BatchAnswer, BatchFate, BatchRequestInfo, BatchServerOptions } from "./batch-server";

export type Provider = "openai" | "anthropic";

export interface BatchLine {
  customId: string;
  body: Record<string, unknown>;
}

/** How a batch ended: every executed request has an answer; the rest share `unexecuted`. */
export interface Ending {
  status: "completed" | "expired" | "failed" | "cancelled";
  at: number;
  code?: string;
  message?: string;
}

export interface Job {
  provider: Provider;
  id: string;
  createdAt: number;
  lines: BatchLine[];
  fate: BatchFate;
  /** Set when the input did not validate: the batch fails on its first poll. */
  invalid?: unknown;
  polls: number;
  answers: BatchAnswer[];
  phase: "validating" | "in_progress" | "finalizing" | "cancelling" | "ended";
  inProgressAt?: number;
  finalizingAt?: number;
  cancellingAt?: number;
  ending?: Ending;
  forced?: BatchFate;
  lock: Promise<void>;
}

/** The request body as a JSON object, or undefined. */
export function jsonBody(body: Buffer): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(body.toString("utf8"));
    return value && typeof value === "object" && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

export const hex = (bytes: number) => randomBytes(bytes).toString("hex");
export const seconds = (ms: number) => Math.floor(ms / 1000);

export const isSuccess = (a: BatchAnswer): a is Extract<BatchAnswer, { text: string }> => "text" in a;

/** Text of the last user message, whether content is a string or a list of parts. */
function lastUserText(body: Record<string, unknown>): string {
  const messages = Array.isArray(body.messages)
    ? (body.messages as { role?: string; content?: unknown }[])
    : [];
  const content = messages.filter((m) => m.role === "user").at(-1)?.content;
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((p: { text?: unknown }) => (typeof p?.text === "string" ? p.text : "")).join("");
}

export const defaultAnswer = (req: BatchRequestInfo): BatchAnswer => ({
  text: `answer: ${lastUserText(req.body).slice(0, 20)}`,
  inputTokens: 10,
  outputTokens: 3,
});

export async function answerOf(options: BatchServerOptions, req: BatchRequestInfo): Promise<BatchAnswer> {
  try {
    return await (options.answer ?? defaultAnswer)(req);
  } catch (e) {
    return { status: 500, message: e instanceof Error ? e.message : String(e) };
  }
}

/** Request indices in output order: input order, or a deterministic shuffle seeded by the batch id. */
export function outputOrder(job: Job, shuffle: boolean | undefined): number[] {
  const order = job.lines.map((_, i) => i);
  if (!shuffle) return order;
  let seed = [...job.id].reduce((h, c) => (Math.imul(h, 31) + c.charCodeAt(0)) | 0, 17);
  const next = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/**
 * Moves a job on. A poll (`poll: true`) counts toward `pollsToEnd`: polls before it execute a
 * growing share of the requests (in_progress; with pollsToEnd >= 3 the last one is finalizing,
 * all executed); the ending poll executes the rest the fate allows and ends the batch. A failed
 * fate or an invalid input ends on the first poll; a cancel ends on the next poll. `end()`
 * forces an ending on the next look at the job, poll or not. Serialized per job.
 */
export function advance(job: Job, options: BatchServerOptions, poll: boolean): Promise<void> {
  job.lock = job.lock.then(() => step(job, options, poll));
  return job.lock;
}

async function step(job: Job, options: BatchServerOptions, poll: boolean) {
  if (job.phase === "ended") return;
  const total = job.lines.length;
  const execute = async (upto: number) => {
    while (job.answers.length < Math.min(upto, total)) {
      const line = job.lines[job.answers.length]!;
      const info = { provider: job.provider, customId: line.customId, body: line.body, batchId: job.id };
      job.answers.push(await answerOf(options, info));
    }
  };
  const finish = async (fate: BatchFate) => {
    const now = Date.now();
    job.inProgressAt ??= now;
    if (fate.status === "failed") {
      job.ending = { status: "failed", at: now, code: fate.code, message: fate.message };
    } else {
      await execute(fate.status === "expired" ? fate.finished : total);
      job.finalizingAt ??= Date.now();
      job.ending = { status: fate.status, at: Date.now() };
    }
    job.phase = "ended";
  };
  if (!poll && !job.forced) return;
  if (poll) job.polls++;
  const now = Date.now();
  if (job.invalid !== undefined) {
    job.ending = { status: "failed", at: now };
    job.phase = "ended";
    return;
  }
  if (job.forced) return finish(job.forced);
  if (job.phase === "cancelling") {
    job.ending = { status: "cancelled", at: now };
    job.phase = "ended";
    return;
  }
  const pollsToEnd = Math.max(1, options.pollsToEnd ?? 1);
  if (job.fate.status === "failed" || job.polls >= pollsToEnd) return finish(job.fate);
  const limit = job.fate.status === "expired" ? job.fate.finished : total;
  job.inProgressAt ??= now;
  if (pollsToEnd >= 3 && job.polls === pollsToEnd - 1) {
    await execute(limit);
    job.finalizingAt = Date.now();
    job.phase = "finalizing";
  } else {
    await execute(Math.min(limit, Math.floor((total * job.polls) / pollsToEnd)));
    job.phase = "in_progress";
  }
}

/** Starts cancelling (after any step under way); false when the batch has already ended. */
export async function cancel(job: Job): Promise<boolean> {
  let ok = false;
  job.lock = job.lock.then(() => {
    ok = job.phase !== "ended";
    if (ok && job.phase !== "cancelling") {
      job.phase = "cancelling";
      job.cancellingAt = Date.now();
    }
  });
  await job.lock;
  return ok;
}
