// What the scale benchmark and the CLI's kill-and-resume test share: a HotpotQA-format dev file of
// any size built from the bundled real dev records (so contexts have the real lengths), and a
// loopback OpenAI-compatible large LM that counts every request and remembers only a hash of each.
import { createHash } from "node:crypto";
import { createWriteStream, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { parsePrompt } from "@lmcot/core";
import { samplePath } from "@lmcot/datasets";
import { openaiCompletion } from "@lmcot/llm/testing";

/**
 * Writes `n` HotpotQA distractor records as the official JSON array: the bundled dev sample's records
 * in turn, each with a unique `_id` and question (so no two items share a prompt or a cache entry).
 * Returns each question's gold answer.
 */
export async function writeSyntheticDev(path: string, n: number): Promise<Map<string, string>> {
  const records = readFileSync(samplePath("hotpotqa"), "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { _id: string; question: string; answer: string });
  const gold = new Map<string, string>();
  const out = createWriteStream(path);
  out.write("[\n");
  for (let i = 0; i < n; i++) {
    const base = records[i % records.length]!;
    const question = `${base.question.replace(/\?$/, "")} (no. ${i})?`;
    gold.set(question, base.answer);
    const line = `${i ? ",\n" : ""}${JSON.stringify({ ...base, _id: `syn${i}-${base._id}`, question })}`;
    if (!out.write(line)) await new Promise<void>((r) => out.once("drain", () => r()));
  }
  out.write("\n]\n");
  await new Promise<void>((r) => out.end(() => r()));
  return gold;
}

export interface GridServer {
  /** `openai-compatible:` base URL (`…/v1`). */
  baseURL: string;
  /** Requests answered or in progress, in total. */
  readonly requests: number;
  /** Requests whose body (model, messages, sampling) was seen before. */
  readonly repeated: number;
  /** Requests received and not yet answered. */
  readonly inFlight: number;
  /** How many times each request body was seen, by its hash. */
  readonly seen: ReadonlyMap<string, number>;
  /** When (`Date.now()`) each request, by its hash, was first answered. */
  readonly answeredAt: ReadonlyMap<string, number>;
  /** Starts counting afresh (`seen` is kept, so a later repeat of an earlier request still counts). */
  resetCounts(): void;
  close(): Promise<void>;
}

/**
 * A loopback (127.0.0.1) OpenAI chat-completions server answering each question with its gold answer
 * (`gold`, by question) after `delayMs`, in the reply format the methods parse.
 */
export async function gridServer(gold: ReadonlyMap<string, string>, delayMs = 0): Promise<GridServer> {
  const seen = new Map<string, number>();
  const answeredAt = new Map<string, number>();
  let requests = 0;
  let repeated = 0;
  let inFlight = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const hash = createHash("sha256").update(raw).digest("base64");
      const count = (seen.get(hash) ?? 0) + 1;
      seen.set(hash, count);
      requests++;
      if (count > 1) repeated++;
      inFlight++;
      const body = JSON.parse(raw.toString("utf8")) as {
        model: string;
        messages: { role: string; content: string }[];
      };
      const question = parsePrompt(body.messages.at(-1)?.content ?? "")?.question ?? "";
      const content = `Reasoning: The context connects the facts.\nPrediction: ${gold.get(question) ?? "unknown"}`;
      const reply = () => {
        inFlight--;
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify(openaiCompletion(content, { model: body.model })), () => {
          if (!answeredAt.has(hash)) answeredAt.set(hash, Date.now());
        });
      };
      if (delayMs > 0) setTimeout(reply, delayMs);
      else setImmediate(reply);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    get requests() {
      return requests;
    },
    get repeated() {
      return repeated;
    },
    get inFlight() {
      return inFlight;
    },
    seen,
    answeredAt,
    resetCounts() {
      requests = 0;
      repeated = 0;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
