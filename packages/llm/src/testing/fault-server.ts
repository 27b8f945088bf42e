import { createHash } from "node:crypto";
import type { ServerResponse } from "node:http";
import { geminiErrorBody, geminiItem, geminiResponse } from "./gemini";
import { anthropicMessage, type LoopbackOptions, loopback, openaiCompletion, type Seen, sse } from "./server";
import { sseEvents } from "./streams";
import { anthropicErrorBody, completionsBody, openaiErrorBody } from "./wire";

/**
 * What a failing request gets: an HTTP status with the provider's error body, a connection reset,
 * a 200 whose JSON body is cut short, no answer at all until the server closes (`hang`), or a 200
 * whose body trickles in over `slowMs` (`slow`). A base URL that points at the wrong server:
 * `html` (200 `text/html`, a web page), `html-501` (what `python3 -m http.server` says to a POST),
 * `foreign-json` (200 JSON in another API's shape).
 */
export type Fault =
  | 400
  | 401
  | 403
  | 404
  | 429
  | 500
  | 503
  | 529
  | "reset"
  | "truncated"
  | "hang"
  | "slow"
  | WrongEndpoint;

export type WrongEndpoint = "html" | "html-501" | "foreign-json";

/** What a server that is not the provider's API sends: a web page, http.server's 501 page, other JSON. */
export function wrongEndpoint(res: ServerResponse, kind: WrongEndpoint): void {
  if (kind === "foreign-json") {
    res.writeHead(200, { "content-type": "application/json" });
    return void res.end(JSON.stringify({ status: "ok", service: "inventory", items: [] }));
  }
  const status = kind === "html" ? 200 : 501;
  const page =
    kind === "html"
      ? "<!DOCTYPE html>\n<html><head><title>Welcome</title></head>\n<body><h1>It works!</h1></body></html>\n"
      : `<!DOCTYPE HTML>\n<html lang="en">\n    <head>\n        <meta charset="utf-8">\n        <title>Error response</title>\n    </head>\n    <body>\n        <h1>Error response</h1>\n        <p>Error code: 501</p>\n        <p>Message: Unsupported method ('POST').</p>\n        <p>Error code explanation: 501 - Server does not support this operation.</p>\n    </body>\n</html>\n`;
  res.writeHead(status, {
    "content-type": "text/html;charset=utf-8",
    "content-length": Buffer.byteLength(page),
  });
  res.end(page);
}

const WRONG = new Set<unknown>(["html", "html-501", "foreign-json"]);

/** The wire format a request used, by path (`other`: a path a web server at the base URL got). */
export type WireApi = "chat" | "completions" | "messages" | "gemini" | "other";

export interface FaultRequest extends Seen {
  api: WireApi;
  /** The item's text (system, messages and prompt joined by newlines): what `failShare` hashes. */
  item: string;
  /** Whether the client asked for server-sent events (`stream: true`, Gemini's `streamGenerateContent`). */
  stream: boolean;
  /** 0-based position among the requests the server has seen. */
  index: number;
  /** The fault it got, if any. */
  fault?: Fault;
}

export interface FaultServerOptions extends LoopbackOptions {
  /** The text of a successful answer, or a function of the request (default "Answer: yes"). */
  reply?: string | ((request: FaultRequest) => string);
  /**
   * OpenAI chat only: reasoning text sent beside the reply as `reasoning_content` (DeepSeek, vLLM),
   * its words counted as `completion_tokens_details.reasoning_tokens` and inside `completion_tokens`.
   */
  reasoning?: string | ((request: FaultRequest) => string);
  /** What a failing request gets (default 500). Given alone, every request fails. */
  fault?: Fault;
  /** The first N requests fail. */
  failFirst?: number;
  /** This share (0–1) of items fails on every attempt, picked by a hash of the item's text. */
  failShare?: number;
  /** Decides per request instead: a fault, or undefined to answer. */
  failWhen?: (request: FaultRequest) => Fault | undefined;
  /** `retry-after` seconds sent with 429, 503 and 529 (default 0; null sends none). */
  retryAfter?: number | null;
  /** Put the request's method, path and headers (keys included) into error messages, as some servers do. */
  echoRequest?: boolean;
  /** How long a `slow` body takes to arrive (default 1000 ms). */
  slowMs?: number;
}

/** Where an item falls in [0, 1): the same text always lands at the same place. */
export function itemShare(item: string): number {
  return createHash("sha256").update(item).digest().readUInt32BE(0) / 2 ** 32;
}

const text = (content: unknown) => (typeof content === "string" ? content : JSON.stringify(content));

function describe(seen: Seen): Pick<FaultRequest, "api" | "item" | "stream"> | undefined {
  const path = seen.url.split("?")[0] ?? "";
  const body = seen.body;
  const stream = body.stream === true;
  const turns = Array.isArray(body.messages) ? (body.messages as { content?: unknown }[]) : [];
  const contents = turns.map((m) => text(m.content));
  if (/:(stream)?generateContent$/i.test(path))
    return { api: "gemini", item: geminiItem(body), stream: path.endsWith(":streamGenerateContent") };
  if (path.endsWith("/chat/completions")) return { api: "chat", item: contents.join("\n"), stream };
  if (path.endsWith("/completions"))
    return {
      api: "completions",
      item: Array.isArray(body.prompt) ? body.prompt.join("\n") : text(body.prompt),
      stream,
    };
  if (path.endsWith("/messages"))
    return {
      api: "messages",
      item: [...(body.system !== undefined ? [text(body.system)] : []), ...contents].join("\n"),
      stream,
    };
  return undefined;
}

/** The model a Gemini path names: `/v1beta/models/gemini-2.5-flash:generateContent` → `gemini-2.5-flash`. */
const modelOf = (url: string) => /models\/([^:/?]+)/.exec(url)?.[1] ?? "model";

function chooseFault(request: FaultRequest, options: FaultServerOptions): Fault | undefined {
  if (options.failWhen) return options.failWhen(request);
  const fault = options.fault ?? 500;
  const selective = options.failFirst !== undefined || options.failShare !== undefined;
  if (!selective) return options.fault;
  if (request.index < (options.failFirst ?? 0)) return fault;
  if (itemShare(request.item) < (options.failShare ?? 0)) return fault;
  return undefined;
}

function successBody(request: FaultRequest, reply: string, reasoning = "") {
  const inputTokens = (request.item.match(/\S+/g) ?? []).length;
  const reasoningTokens = (reasoning.match(/\S+/g) ?? []).length;
  const outputTokens = (reply.match(/\S+/g) ?? []).length + reasoningTokens;
  const model = String(request.body.model ?? "model");
  if (request.api === "completions") return completionsBody(request.body, reply);
  if (request.api === "gemini")
    return geminiResponse(
      reply,
      { input: inputTokens, output: outputTokens },
      { model: modelOf(request.url) },
    );
  if (request.api === "messages")
    return anthropicMessage(reply, "end_turn", {
      model,
      usage: { input_tokens: inputTokens, output_tokens: outputTokens },
    });
  return openaiCompletion(reply, {
    model,
    ...(request.body.logprobs === true ? { choices: [chatChoiceWithLogprobs(reply, request.body)] } : {}),
    ...(reasoning
      ? {
          choices: [
            {
              index: 0,
              message: { role: "assistant", content: reply, reasoning_content: reasoning },
              logprobs: null,
              finish_reason: "stop",
            },
          ],
        }
      : {}),
    usage: {
      prompt_tokens: inputTokens,
      completion_tokens: outputTokens,
      total_tokens: inputTokens + outputTokens,
      ...(reasoningTokens ? { completion_tokens_details: { reasoning_tokens: reasoningTokens } } : {}),
    },
  });
}

/** A chat choice whose `logprobs.content` has one entry per word piece (and `top_logprobs` when asked). */
function chatChoiceWithLogprobs(reply: string, body: Record<string, unknown>) {
  const top = typeof body.top_logprobs === "number" ? body.top_logprobs : 0;
  const content = (reply.match(/\s*\S+/g) ?? []).map((token, i) => {
    const logprob = -0.25 * ((i % 4) + 1);
    return {
      token,
      logprob,
      bytes: null,
      top_logprobs: Array.from({ length: top }, (_, k) => ({
        token: k ? `${token}${k}` : token,
        logprob: logprob - k,
        bytes: null,
      })),
    };
  });
  return {
    index: 0,
    message: { role: "assistant", content: reply, refusal: null },
    logprobs: { content },
    finish_reason: "stop",
  };
}

function errorBody(request: FaultRequest, status: number, echo: boolean) {
  const heard = echo
    ? ` (request: ${request.method} ${request.url}; ${Object.entries(request.headers)
        .map(([name, value]) => `${name}: ${value}`)
        .join("; ")})`
    : "";
  if (request.api === "gemini")
    return geminiErrorBody(status, `Request failed with status ${status}.${heard}`);
  if (request.api === "messages") {
    const body = anthropicErrorBody(status);
    return { ...body, error: { ...body.error, message: body.error.message + heard } };
  }
  const body = openaiErrorBody(status);
  return { error: { ...body.error, message: body.error.message + heard } };
}

/** Writes `body` in about ten pieces spread over `ms`, stopping if the client goes away. */
function dribble(res: ServerResponse, body: string, ms: number): Promise<void> {
  const size = Math.max(1, Math.ceil(body.length / 10));
  return new Promise((resolve) => {
    let at = 0;
    const timer = setInterval(() => {
      if (res.destroyed || at >= body.length) {
        clearInterval(timer);
        if (!res.destroyed) res.end();
        return resolve();
      }
      res.write(body.slice(at, at + size));
      at += size;
    }, ms / 10);
  });
}

const hintedStatuses = new Set([429, 503, 529]);

async function respond(
  request: FaultRequest,
  res: ServerResponse,
  options: FaultServerOptions,
): Promise<void> {
  const fault = request.fault;
  if (fault === "reset") return void res.socket?.destroy();
  if (fault === "hang") return new Promise((resolve) => res.on("close", resolve));
  if (WRONG.has(fault)) return wrongEndpoint(res, fault as WrongEndpoint);
  if (typeof fault === "number") {
    const retryAfter = options.retryAfter === undefined ? 0 : options.retryAfter;
    res.writeHead(fault, {
      "content-type": "application/json",
      ...(hintedStatuses.has(fault) && retryAfter !== null ? { "retry-after": String(retryAfter) } : {}),
    });
    return void res.end(JSON.stringify(errorBody(request, fault, options.echoRequest === true)));
  }
  const reply =
    typeof options.reply === "function" ? options.reply(request) : (options.reply ?? "Answer: yes");
  const reasoning =
    typeof options.reasoning === "function" ? options.reasoning(request) : (options.reasoning ?? "");
  const success = successBody(request, reply, request.api === "chat" ? reasoning : "");
  if (request.stream && request.api !== "completions" && fault === undefined)
    return sse(sseEvents(request.api, success, request.body))(request, res, request.index);
  const body = JSON.stringify(success);
  res.writeHead(200, { "content-type": "application/json" });
  if (fault === "truncated") return void res.end(body.slice(0, Math.floor(body.length / 2)));
  if (fault === "slow") return dribble(res, body, options.slowMs ?? 1000);
  res.end(body);
}

/**
 * A loopback server (127.0.0.1, port 0) speaking OpenAI chat completions (`/v1/chat/completions`,
 * `/chat/completions`), OpenAI legacy completions (`/v1/completions`, with `n`, `logprobs`, `echo`),
 * Anthropic messages (`/v1/messages`) and Gemini (`/v1beta/models/<m>:generateContent`,
 * `:streamGenerateContent`), streaming when asked, that fails chosen requests with a chosen fault. Point
 * `OPENAI_BASE_URL` at `${url}/v1`, `ANTHROPIC_BASE_URL` at `url`, `GOOGLE_GENERATIVE_AI_BASE_URL` at
 * `${url}/v1beta`, or use `openai-compatible:${url}/v1#m`.
 * `seen` holds every request in arrival order, with the fault each got.
 */
export async function faultServer(options: FaultServerOptions = {}) {
  const server = await loopback(
    [
      (seen, res, index) => {
        const wire = describe(seen);
        // A web server at the base URL answers every path alike (batch files and batches too).
        if (!wire && (WRONG.has(options.fault) || options.fault === "hang")) {
          Object.assign(seen, { api: "other", item: "", stream: false, index, fault: options.fault });
          if (options.fault === "hang")
            return new Promise<void>((resolve) => res.on("close", () => resolve()));
          return wrongEndpoint(res, options.fault as WrongEndpoint);
        }
        if (!wire) {
          res.writeHead(404, { "content-type": "application/json" });
          return void res.end(
            JSON.stringify(openaiErrorBody(404, `no route for ${seen.method} ${seen.url}`)),
          );
        }
        const request = Object.assign(seen, wire, { index }) as FaultRequest;
        const fault = chooseFault(request, options);
        if (fault !== undefined) request.fault = fault;
        return respond(request, res, options);
      },
    ],
    options,
  );
  return {
    url: server.url,
    seen: server.seen as FaultRequest[],
    /** Requests that got a fault. */
    get failed(): number {
      return (server.seen as FaultRequest[]).filter((r) => r.fault !== undefined).length;
    },
    get peak(): number {
      return server.peak;
    },
    close: server.close,
  };
}

export type FaultServer = Awaited<ReturnType<typeof faultServer>>;
