import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { anthropicBatchRoutes } from "./batch-server-anthropic";
import { hex, type Job, type Provider } from "./batch-server-jobs";
import { openaiBatchRoutes } from "./batch-server-openai";
import { type WrongEndpoint, wrongEndpoint } from "./fault-server";
import { anthropicErrorBody, openaiErrorBody } from "./wire";

export interface BatchRequestInfo {
  provider: "openai" | "anthropic";
  customId: string;
  body: Record<string, unknown>;
  batchId?: string;
}

export type BatchAnswer =
  | { text: string; inputTokens?: number; outputTokens?: number }
  | { status: number; message: string; type?: string };

export type BatchFate =
  | { status: "completed" }
  | { status: "expired"; finished: number }
  | { status: "failed"; code?: string; message?: string };

export interface BatchServerOptions {
  /** Default: text = `answer: ` + first 20 chars of the last user message; tokens 10/3. */
  answer?: (req: BatchRequestInfo) => BatchAnswer | Promise<BatchAnswer>;
  /** Polls (GET of the batch) before it ends; default 1 (ends on the first poll after validating). */
  pollsToEnd?: number;
  /** Fate of the n-th batch created (0-based, counted per provider); default completed. "expired" executes only the first `finished` requests. */
  fate?: (info: { provider: "openai" | "anthropic"; index: number; requests: number }) => BatchFate;
  /** Write result lines in a shuffled (seeded, deterministic) order, not input order. Default false. */
  shuffle?: boolean;
  apiKey?: string;
  /**
   * The n-th request (0-based, per route) to a route ("files.create", "batches.retrieve", …) gets
   * no answer until the client goes away (`hang`), a wrong server's reply (`html`, `html-501`,
   * `foreign-json`) or this HTTP status with the provider's error body; undefined answers normally.
   */
  misbehave?: (route: string, index: number) => "hang" | WrongEndpoint | number | undefined;
  /**
   * Keep only what answering needs (for scale benchmarks of hundreds of thousands of requests): an
   * uploaded input file's bytes are dropped once a batch is created over it, and each request body
   * is cut to its model and the first 200 characters of its last message. Default false.
   */
  forgetInputs?: boolean;
}

export interface BatchServer {
  url: string;
  openaiBaseURL: string;
  anthropicBaseURL: string;
  /** Everything created, in order. */
  readonly created: {
    provider: "openai" | "anthropic";
    id: string;
    customIds: string[];
    model: string | undefined;
  }[];
  /** Request counters by route name ("files.create", "batches.retrieve", "messages.batches.results", "messages", …). */
  readonly calls: Record<string, number>;
  /** Ends a batch now with a fate (default completed); takes effect on the next request that reads it. */
  end(id: string, fate?: BatchFate): void;
  /** The variables that point `openai:` and `anthropic:` model ids (and the CLI) at this server with `key`. */
  env(key: string): Record<string, string>;
  close(): Promise<void>;
}

export interface Reply {
  status: number;
  json?: unknown;
  raw?: Buffer | string;
  type?: string;
}

export interface RouteContext {
  params: string[];
  query: URLSearchParams;
  body: Buffer;
  headers: IncomingHttpHeaders;
}

export interface Route {
  method: string;
  pattern: RegExp;
  name: string;
  handle: (ctx: RouteContext) => Reply | Promise<Reply>;
}

/** State the provider route tables share. */
export interface BatchState {
  url: string;
  options: BatchServerOptions;
  jobs: Map<string, Job>;
  created: BatchServer["created"];
  newJob(provider: Provider, id: string, lines: Job["lines"], invalid?: unknown): Job;
}

/** A request cut to what the default answer reads (`forgetInputs`). */
function slim(line: Job["lines"][number]): Job["lines"][number] {
  const { model, messages } = line.body as {
    model?: unknown;
    messages?: { role?: string; content?: unknown }[];
  };
  const last = Array.isArray(messages) ? messages.at(-1) : undefined;
  // Copied, not sliced: a V8 slice keeps the whole prompt alive, and a 20k × 18 grid sends 360k of them.
  const content =
    typeof last?.content === "string" ? Buffer.from(last.content.slice(0, 200)).toString() : last?.content;
  return { customId: line.customId, body: { model, messages: last ? [{ role: last.role, content }] : [] } };
}

/** OpenAI: `Authorization: Bearer`. Anthropic: `x-api-key`, or `Authorization: Bearer` as @anthropic-ai/sdk 1.x sends it. */
const authorized = (provider: Provider, headers: IncomingHttpHeaders, key: string | undefined) =>
  key === undefined ||
  headers.authorization === `Bearer ${key}` ||
  (provider === "anthropic" && headers["x-api-key"] === key);

/**
 * A loopback server (127.0.0.1 only) speaking the OpenAI Batch API (files + batches, plus
 * chat completions) and the Anthropic Message Batches API (plus messages), for the official SDKs.
 */
export async function batchServer(options: BatchServerOptions = {}): Promise<BatchServer> {
  const calls: Record<string, number> = {};
  const created: BatchServer["created"] = [];
  const jobs = new Map<string, Job>();
  const counts = { openai: 0, anthropic: 0 };
  const state: BatchState = {
    url: "",
    options,
    jobs,
    created,
    newJob(provider, id, lines, invalid) {
      const index = counts[provider]++;
      const fate =
        invalid === undefined
          ? (options.fate?.({ provider, index, requests: lines.length }) ?? { status: "completed" })
          : { status: "completed" as const };
      const job: Job = {
        provider,
        id,
        createdAt: Date.now(),
        lines: options.forgetInputs ? lines.map(slim) : lines,
        fate,
        invalid,
        polls: 0,
        answers: [],
        phase: "validating",
        lock: Promise.resolve(),
      };
      jobs.set(id, job);
      const model = lines.find((l) => typeof l.body.model === "string")?.body.model as string | undefined;
      created.push({ provider, id, customIds: lines.map((l) => l.customId), model });
      return job;
    },
  };
  const routes: [Provider, Route][] = [
    ...anthropicBatchRoutes(state).map((r): [Provider, Route] => ["anthropic", r]),
    ...openaiBatchRoutes(state).map((r): [Provider, Route] => ["openai", r]),
  ];

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const send = (reply: Reply, provider: Provider) => {
        const requestId = `req_${hex(12)}`;
        res.writeHead(reply.status, {
          "content-type": reply.type ?? "application/json",
          [provider === "openai" ? "x-request-id" : "request-id"]: requestId,
        });
        res.end(reply.raw ?? JSON.stringify(reply.json));
      };
      let provider: Provider = url.pathname.startsWith("/v1/messages") ? "anthropic" : "openai";
      try {
        for (const [p, route] of routes) {
          const match = req.method === route.method ? route.pattern.exec(url.pathname) : null;
          if (!match) continue;
          provider = p;
          const index = calls[route.name] ?? 0;
          calls[route.name] = index + 1;
          const trouble = options.misbehave?.(route.name, index);
          if (trouble === "hang") return;
          if (typeof trouble === "number") {
            const message = `${route.name} failed (test fault ${trouble})`;
            const json =
              p === "openai" ? openaiErrorBody(trouble, message) : anthropicErrorBody(trouble, message);
            return send({ status: trouble, json }, p);
          }
          if (trouble !== undefined) return wrongEndpoint(res, trouble);
          if (!authorized(p, req.headers, options.apiKey)) {
            return send(
              p === "openai"
                ? {
                    status: 401,
                    json: openaiErrorBody(
                      401,
                      "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.",
                    ),
                  }
                : { status: 401, json: anthropicErrorBody(401) },
              p,
            );
          }
          const ctx = {
            params: match.slice(1),
            query: url.searchParams,
            body: Buffer.concat(chunks),
            headers: req.headers,
          };
          return send(await route.handle(ctx), p);
        }
        const message = `Unknown request URL: ${req.method} ${url.pathname}.`;
        send(
          provider === "openai"
            ? {
                status: 404,
                json: { error: { message, type: "invalid_request_error", param: null, code: "unknown_url" } },
              }
            : { status: 404, json: anthropicErrorBody(404, "Not found", "not_found_error") },
          provider,
        );
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        send(
          {
            status: 500,
            json: provider === "openai" ? openaiErrorBody(500, message) : anthropicErrorBody(500, message),
          },
          provider,
        );
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  state.url = `http://127.0.0.1:${port}`;
  return {
    url: state.url,
    openaiBaseURL: `${state.url}/v1`,
    anthropicBaseURL: state.url,
    created,
    calls,
    end(id, fate = { status: "completed" }) {
      const job = jobs.get(id);
      if (!job) throw new Error(`batchServer: no batch ${id}`);
      job.forced = fate;
    },
    env: (key) => ({
      OPENAI_BASE_URL: `${state.url}/v1`,
      OPENAI_API_KEY: key,
      ANTHROPIC_BASE_URL: state.url,
      ANTHROPIC_API_KEY: key,
    }),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
