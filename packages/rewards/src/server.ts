import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { StringDecoder } from "node:string_decoder";
import { errorMessage, failureRecord, LmcotError, redact } from "@lmcot/core";
import { allowedHosts, refusal } from "./guard";
import { throttledLog } from "./log-throttle";
import { pacer } from "./pace";
import { parseRewardRequest, RequestItemError, requestItem } from "./protocol";
import type { ItemReward, RewardItem, RewardScorer, ScoreOutcome } from "./scorer";

export interface RewardServerOptions {
  scorer: RewardScorer;
  /** Default 0: any free port (the CLI defaults to 5000). */
  port?: number;
  /**
   * Default 127.0.0.1; anything else exposes the judge's budget to the network. A request's Host
   * header must name this address or a loopback name (a DNS-rebinding guard), unless it is a
   * wildcard (`0.0.0.0`, `::`).
   */
  host?: string;
  /**
   * Browser origins allowed to POST (default none): a request with any other `Origin` header gets 403.
   * POSTs need `Content-Type: application/json` (415 otherwise), so a page cannot send a form.
   */
  allowedOrigins?: string[];
  /** When set, `POST /get_reward` needs `Authorization: Bearer <token>`. */
  token?: string;
  /** Larger bodies get 413 (default 16 MiB). */
  maxBodyBytes?: number;
  /** More items in one request get 413 (default 4096). */
  maxItems?: number;
  /** Tokens stripped around each response (default `DEFAULT_SPECIAL_TOKENS`). */
  specialTokens?: string[];
  /**
   * Called once per request with a one-line summary (never the bodies, never the token); refused
   * tokens at most once per `authLogIntervalMs` (default 10 s), with a count.
   */
  log?: (line: string) => void;
  authLogIntervalMs?: number;
  /** Strings redacted from error messages in replies and logs (the token always is). */
  secrets?: string[];
  /** Shown by `GET /health`, with secrets and credentials in URLs redacted. */
  info?: Record<string, unknown>;
}

export interface RewardServer {
  readonly url: string;
  readonly port: number;
  /** Requests being scored right now. */
  readonly inFlight: number;
  /** Stops accepting requests, lets in-flight ones finish and answer, then closes. */
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

/** How long a refused request's body is still read (and dropped) before its connection is cut. */
const LINGER_MS = 10_000;

/**
 * Reads and drops what is left of a request's body, so a client that sends its whole body before it
 * reads the answer (Python's `requests`) gets the 401 / 413 instead of a reset connection; a body
 * still coming after `LINGER_MS` gets the connection cut.
 */
function discardBody(req: IncomingMessage): void {
  if (req.complete) return;
  const cut = setTimeout(() => req.socket.destroy(), LINGER_MS);
  cut.unref();
  const done = () => clearTimeout(cut);
  req.once("end", done).once("close", done).resume();
}

/** The body as text, decoded chunk by chunk as it arrives (a large body is never decoded in one go). */
function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const decoder = new StringDecoder("utf8");
    const parts: string[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners("data");
        discardBody(req);
        reject(new HttpError(413, `body is over the ${limit}-byte limit`));
        return;
      }
      parts.push(decoder.write(chunk));
    });
    req.on("end", () => resolve(parts.join("") + decoder.end()));
    req.on("error", reject);
  });
}

/** The declared body size, when it is over the limit: answered before a byte of the body is read. */
function declaredTooLarge(req: IncomingMessage, limit: number): HttpError | undefined {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit)
    return new HttpError(413, `body is ${declared} bytes, over the ${limit}-byte limit`);
  return undefined;
}

function authorised(req: IncomingMessage, token: string | undefined): boolean {
  if (token === undefined) return true;
  const given = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? "")?.[1]?.trim() ?? "";
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

const round = (x: number) => (Number.isFinite(x) ? Math.round(x * 1e6) / 1e6 : x);
const orNull = (x: number) => (Number.isNaN(x) ? null : round(x));

/** The 5xx reply of a request with failed items: which ones (input indices) and why, keys redacted. */
function failedReply(outcomes: readonly ScoreOutcome[], secrets: readonly string[]) {
  const failed = outcomes.flatMap((o, index) => {
    if (o.ok) return [];
    const r = failureRecord(String(index), o.error, { secrets });
    return [
      {
        index,
        error_class: r.errorClass,
        ...(r.status !== undefined ? { status: r.status } : {}),
        error: r.message,
        typed: LmcotError.isInstance(o.error),
      },
    ];
  });
  const first = failed[0]!;
  return {
    // 502: a model behind the server failed; 500: something else did (a bug).
    status: failed.every((f) => f.typed) ? 502 : 500,
    body: {
      error: `${failed.length} of ${outcomes.length} items failed; first, item ${first.index}: ${first.error_class}: ${first.error}`,
      failed: failed.map(({ typed: _, ...f }) => f),
    },
  };
}

function detailOf(r: ItemReward) {
  return {
    reward: round(r.reward),
    ...(r.normalized !== undefined ? { normalized: round(r.normalized) } : {}),
    ...(r.taskReward !== undefined
      ? r.answer === undefined
        ? { task_reward: orNull(r.taskReward) }
        : { task_reward: r.taskReward, answer: r.answer, em: r.em, f1: round(r.f1 ?? 0) }
      : {}),
    ...(r.aspectReward !== undefined
      ? {
          aspect_reward: orNull(r.aspectReward),
          aspects: Object.fromEntries(Object.entries(r.aspects).map(([k, v]) => [k, orNull(v)])),
        }
      : {}),
    ...(r.failures.length
      ? { judge_failures: r.failures.map((f) => ({ aspect: f.aspect, error: f.error })) }
      : {}),
    ...(r.callFailures.length
      ? {
          call_failures: r.callFailures.map((f) => ({
            role: f.role,
            ...(f.aspect ? { aspect: f.aspect } : {}),
            error_class: f.errorClass,
            error: f.error,
          })),
        }
      : {}),
    cost_usd: r.usage.costUsd,
    cached_calls: r.usage.cachedCalls,
  };
}

/** What `/health` may show of `info`: the token, keys and URL credentials (`//user:pass@`) redacted. */
function publicInfo(info: Record<string, unknown>, secrets: readonly string[]): Record<string, unknown> {
  const text = redact(JSON.stringify(info), secrets).replace(/\/\/[^/@\s"]*@/g, "//[redacted]@");
  return JSON.parse(text) as Record<string, unknown>;
}

/**
 * Starts the reward HTTP server: `POST /get_reward` (OpenRLHF's remote reward model shape) and
 * `GET /health`. Every body is validated; errors are JSON `{ "error", "field"? }` with 400 / 401 /
 * 403 / 404 / 405 / 413 / 415 / 502 / 503. Requests from web pages are refused (see `host` and
 * `allowedOrigins`).
 */
export async function startRewardServer(options: RewardServerOptions): Promise<RewardServer> {
  const maxBody = options.maxBodyBytes ?? 16 * 1024 * 1024;
  const maxItems = options.maxItems ?? 4096;
  const secrets = [...(options.secrets ?? []), ...(options.token ? [options.token] : [])];
  const log = (line: string) => options.log?.(line);
  const refusedLog = throttledLog(log, options.authLogIntervalMs ?? 10_000);
  const pace = pacer();
  const started = Date.now();
  const info = publicInfo(options.info ?? {}, secrets);
  const origins = options.allowedOrigins ?? [];
  let hosts: ReturnType<typeof allowedHosts> = new Set();
  let inFlight = 0;
  let served = 0;
  let closing = false;
  let drained: (() => void) | undefined;

  /** Validated reward items of a request body, a few at a time so a large batch never holds the loop. */
  const itemsOf = async (text: string) => {
    await pace();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new HttpError(400, `body is not valid JSON: ${errorMessage(error)}`);
    }
    try {
      const body = await parseRewardRequest(json, pace);
      if (body.query.length > maxItems)
        throw new HttpError(
          413,
          `query has ${body.query.length} items, over the ${maxItems}-item limit`,
          "query",
        );
      const items: RewardItem[] = [];
      for (let i = 0; i < body.query.length; i++) {
        await pace();
        items.push(requestItem(body, i, options.specialTokens));
      }
      return { items, detail: body.detail === true };
    } catch (error) {
      if (error instanceof RequestItemError) throw new HttpError(400, error.message, error.field);
      throw error;
    }
  };

  const scoreRequest = async (req: IncomingMessage, res: ServerResponse, signal: AbortSignal) => {
    const began = Date.now();
    const { items, detail } = await itemsOf(await readBody(req, maxBody));
    const outcomes = await options.scorer.scoreEach(items, { signal });
    const headers: Record<string, string> = closing ? { connection: "close" } : {};
    if (outcomes.some((o) => !o.ok)) {
      const { status, body } = failedReply(outcomes, secrets);
      send(res, status, body, headers);
      log(`POST /get_reward ${items.length} items ${status} ${Date.now() - began} ms: ${body.error}`);
      return;
    }
    const results = outcomes.map((o) => (o as { reward: ItemReward }).reward);
    const rewards = options.scorer.normalize(results).map(round);
    served++;
    send(
      res,
      200,
      {
        rewards,
        scores: rewards,
        extra_logs: {
          task_reward: results.map((r) => orNull(r.taskReward ?? 0) ?? 0),
          aspect_reward: results.map((r) => orNull(r.aspectReward ?? 0) ?? 0),
        },
        ...(detail ? { details: results.map(detailOf) } : {}),
      },
      headers,
    );
    log(`POST /get_reward ${items.length} items 200 ${Date.now() - began} ms`);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0];
    // From the headers alone: the body is never read, only dropped.
    const refused = refusal(req, hosts, origins);
    if (refused) {
      refusedLog.hit(
        `${req.method} ${path} ${refused.status} ${refused.error} (from ${req.socket.remoteAddress})`,
      );
      send(res, refused.status, { error: refused.error });
      return discardBody(req);
    }
    if (closing)
      return send(res, 503, { error: "the reward server is shutting down" }, { connection: "close" });
    if (path === "/health") {
      if (req.method !== "GET") return send(res, 405, { error: "use GET /health" }, { allow: "GET" });
      const { totals } = options.scorer;
      return send(res, 200, {
        status: "ok",
        in_flight: inFlight,
        served,
        uptime_s: Math.round((Date.now() - started) / 1000),
        items: totals.items,
        failed_items: totals.failedItems,
        judge_failures: totals.judgeFailures,
        call_failures: totals.callFailures,
        cost_usd: totals.usage.costUsd,
        cached_calls: totals.usage.cachedCalls,
        ...info,
      });
    }
    if (path !== "/get_reward")
      return send(res, 404, { error: `no route ${path}; use POST /get_reward or GET /health` });
    if (req.method !== "POST") return send(res, 405, { error: "use POST /get_reward" }, { allow: "POST" });
    // Both refusals come from the headers alone: the body is never read, only dropped.
    if (!authorised(req, options.token)) {
      refusedLog.hit(`POST /get_reward 401 missing or wrong bearer token (from ${req.socket.remoteAddress})`);
      send(res, 401, { error: "missing or wrong bearer token" }, { "www-authenticate": "Bearer" });
      return discardBody(req);
    }
    const tooLarge = declaredTooLarge(req, maxBody);
    if (tooLarge) {
      log(`POST /get_reward 413 ${tooLarge.message}`);
      send(res, 413, { error: tooLarge.message });
      return discardBody(req);
    }

    inFlight++;
    const controller = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) controller.abort();
    });
    try {
      await scoreRequest(req, res, controller.signal);
    } catch (error) {
      const status = error instanceof HttpError ? error.status : 500;
      const field = error instanceof HttpError ? error.field : undefined;
      const message = redact(errorMessage(error), secrets);
      if (!res.headersSent && !res.destroyed)
        send(
          res,
          status,
          { error: message, ...(field ? { field } : {}) },
          closing ? { connection: "close" } : {},
        );
      log(`POST /get_reward ${status} ${message}`);
    } finally {
      if (!res.writableFinished && !res.destroyed)
        await new Promise<void>((resolve) => {
          res.once("finish", resolve);
          res.once("close", resolve);
        });
      inFlight--;
      if (closing && inFlight === 0) drained?.();
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error) => {
      const message = redact(errorMessage(error), secrets);
      log(`${req.method} ${req.url} 500 ${message}`);
      if (!res.headersSent && !res.destroyed) send(res, 500, { error: message });
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  hosts = allowedHosts(options.host ?? "127.0.0.1", address.address);
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  let closed: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    get inFlight() {
      return inFlight;
    },
    close() {
      closed ??= (async () => {
        closing = true;
        refusedLog.close();
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        if (inFlight > 0) await new Promise<void>((resolve) => (drained = resolve));
        // Answers sent while closing carry `connection: close`; anything still open is idle now.
        server.closeIdleConnections();
        const force = setTimeout(() => server.closeAllConnections(), 1000);
        await stopped;
        clearTimeout(force);
      })();
      return closed;
    },
  };
}
