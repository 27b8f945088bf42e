import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { anthropicErrorBody, openaiErrorBody } from "./wire";

export interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: Record<string, unknown>;
}

export type Handler = (req: Seen, res: ServerResponse, index: number) => void | Promise<void>;

/** The request's JSON body; a body that is not a JSON object is kept as `{ raw }`. */
function parseBody(raw: string): Record<string, unknown> {
  if (!raw) return {};
  try {
    const body = JSON.parse(raw);
    return body && typeof body === "object" && !Array.isArray(body) ? body : { raw };
  } catch {
    return { raw };
  }
}

export interface LoopbackOptions {
  /**
   * Answer browsers' cross-origin calls (a page on another loopback port): preflights get 204 with
   * the asked-for headers allowed, and are not counted in `seen`; every response allows any origin.
   */
  cors?: boolean;
}

function allowCors(req: IncomingMessage, res: ServerResponse): boolean {
  res.setHeader("access-control-allow-origin", "*");
  res.setHeader("access-control-expose-headers", "*");
  if (req.method !== "OPTIONS") return false;
  res.writeHead(204, {
    "access-control-allow-methods": "GET, POST, DELETE, OPTIONS",
    "access-control-allow-headers": req.headers["access-control-request-headers"] ?? "*",
    "access-control-max-age": "600",
  });
  res.end();
  return true;
}

/** A loopback HTTP server (127.0.0.1 only) answering with scripted handlers, in order (the last repeats). */
export async function loopback(handlers: Handler[], options: LoopbackOptions = {}) {
  const seen: Seen[] = [];
  let inFlight = 0;
  let peak = 0;
  const server = createServer((req, res) => {
    if (options.cors && allowCors(req, res)) return;
    let raw = "";
    req.on("data", (c) => (raw += c));
    req.on("end", async () => {
      const index = seen.length;
      const entry = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: parseBody(raw),
      };
      seen.push(entry);
      inFlight++;
      peak = Math.max(peak, inFlight);
      res.on("close", () => inFlight--);
      await handlers[Math.min(index, handlers.length - 1)]!(entry, res, index);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    get peak() {
      return peak;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export const json =
  (status: number, body: unknown, headers: Record<string, string> = {}): Handler =>
  (_req, res) => {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify(body));
  };

export const delayed =
  (ms: number, then: Handler): Handler =>
  (req, res, i) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => resolve(then(req, res, i) as undefined), ms);
      res.on("close", () => {
        clearTimeout(t);
        resolve();
      });
    });

export const openaiCompletion = (content: string, extra: Record<string, unknown> = {}) => ({
  id: "chatcmpl-1",
  object: "chat.completion",
  created: 1_700_000_000,
  model: "gpt-4o-mini-2024-07-18",
  choices: [
    {
      index: 0,
      message: { role: "assistant", content, refusal: null },
      logprobs: null,
      finish_reason: "stop",
    },
  ],
  usage: { prompt_tokens: 42, completion_tokens: 7, total_tokens: 49 },
  ...extra,
});

export const anthropicMessage = (text: string, stop = "end_turn", extra: Record<string, unknown> = {}) => ({
  id: "msg_1",
  type: "message",
  role: "assistant",
  model: "claude-3-5-haiku-20241022",
  content: [{ type: "text", text }],
  stop_reason: stop,
  stop_sequence: null,
  usage: { input_tokens: 40, output_tokens: 6 },
  ...extra,
});

export const openaiError = (status: number, message: string, headers: Record<string, string> = {}) =>
  json(status, openaiErrorBody(status, message), headers);

export const anthropicError = (
  status: number,
  type: string,
  message: string,
  headers: Record<string, string> = {},
) => json(status, anthropicErrorBody(status, message, type), headers);

/** Server-sent events, one `data:` (and optional `event:`) per item. */
export const sse =
  (events: { event?: string; data: unknown }[]): Handler =>
  (_req, res) => {
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    for (const e of events)
      res.write(
        `${e.event ? `event: ${e.event}\n` : ""}data: ${typeof e.data === "string" ? e.data : JSON.stringify(e.data)}\n\n`,
      );
    res.end();
  };
