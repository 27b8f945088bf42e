import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { errorMessage, LmcotError } from "@lmcot/core";
import { describeIssues, RequestItemError, requestItem, rewardRequestSchema } from "./protocol";
import type { ItemReward, RewardScorer } from "./scorer";

export interface RewardServerOptions {
  scorer: RewardScorer;
  /** Default 0: any free port (the CLI defaults to 5000). */
  port?: number;
  /** Default 127.0.0.1; anything else exposes the judge's budget to the network. */
  host?: string;
  /** When set, `POST /get_reward` needs `Authorization: Bearer <token>`. */
  token?: string;
  /** Larger bodies get 413 (default 16 MiB). */
  maxBodyBytes?: number;
  /** More items in one request get 413 (default 4096). */
  maxItems?: number;
  /** Tokens stripped around each response (default `DEFAULT_SPECIAL_TOKENS`). */
  specialTokens?: string[];
  /** Called once per request with a one-line summary (never the bodies, never the token). */
  log?: (line: string) => void;
  /** Shown by `GET /health`. */
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

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit)
    return Promise.reject(new HttpError(413, `body is ${declared} bytes, over the ${limit}-byte limit`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners("data");
        req.resume();
        reject(new HttpError(413, `body is over the ${limit}-byte limit`));
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function authorised(req: IncomingMessage, token: string | undefined): boolean {
  if (token === undefined) return true;
  const given = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? "")?.[1]?.trim() ?? "";
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

const round = (x: number) => (Number.isFinite(x) ? Math.round(x * 1e6) / 1e6 : x);

function detailOf(r: ItemReward) {
  return {
    reward: round(r.reward),
    ...(r.normalized !== undefined ? { normalized: round(r.normalized) } : {}),
    ...(r.taskReward !== undefined
      ? { task_reward: r.taskReward, answer: r.answer, em: r.em, f1: round(r.f1 ?? 0) }
      : {}),
    ...(r.aspectReward !== undefined
      ? {
          aspect_reward: Number.isNaN(r.aspectReward) ? null : round(r.aspectReward),
          aspects: Object.fromEntries(
            Object.entries(r.aspects).map(([k, v]) => [k, Number.isNaN(v) ? null : round(v)]),
          ),
        }
      : {}),
    ...(r.failures.length
      ? { judge_failures: r.failures.map((f) => ({ aspect: f.aspect, error: f.error })) }
      : {}),
    cost_usd: r.usage.costUsd,
    cached_calls: r.usage.cachedCalls,
  };
}

/**
 * Starts the reward HTTP server: `POST /get_reward` (OpenRLHF's remote reward model shape) and
 * `GET /health`. Every body is validated; errors are JSON `{ "error", "field"? }` with 400 / 401 /
 * 404 / 405 / 413 / 502 / 503.
 */
export async function startRewardServer(options: RewardServerOptions): Promise<RewardServer> {
  const maxBody = options.maxBodyBytes ?? 16 * 1024 * 1024;
  const maxItems = options.maxItems ?? 4096;
  const started = Date.now();
  let inFlight = 0;
  let served = 0;
  let closing = false;
  let drained: (() => void) | undefined;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0];
    if (closing)
      return send(res, 503, { error: "the reward server is shutting down" }, { connection: "close" });
    if (path === "/health") {
      if (req.method !== "GET") return send(res, 405, { error: "use GET /health" }, { allow: "GET" });
      const { scorer } = options;
      return send(res, 200, {
        status: "ok",
        in_flight: inFlight,
        served,
        uptime_s: Math.round((Date.now() - started) / 1000),
        items: scorer.totals.items,
        judge_failures: scorer.totals.judgeFailures,
        cost_usd: scorer.totals.usage.costUsd,
        cached_calls: scorer.totals.usage.cachedCalls,
        ...options.info,
      });
    }
    if (path !== "/get_reward")
      return send(res, 404, { error: `no route ${path}; use POST /get_reward or GET /health` });
    if (req.method !== "POST") return send(res, 405, { error: "use POST /get_reward" }, { allow: "POST" });
    if (!authorised(req, options.token))
      return send(res, 401, { error: "missing or wrong bearer token" }, { "www-authenticate": "Bearer" });

    inFlight++;
    const began = Date.now();
    const controller = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) controller.abort();
    });
    try {
      const text = await readBody(req, maxBody);
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (error) {
        throw new HttpError(400, `body is not valid JSON: ${errorMessage(error)}`);
      }
      const parsed = rewardRequestSchema.safeParse(json);
      if (!parsed.success) {
        const { field, message } = describeIssues(parsed.error);
        throw new HttpError(400, message, field);
      }
      const body = parsed.data;
      if (body.query.length > maxItems)
        throw new HttpError(
          413,
          `query has ${body.query.length} items, over the ${maxItems}-item limit`,
          "query",
        );
      const items = body.query.map((_, i) => {
        try {
          return requestItem(body, i, options.specialTokens);
        } catch (error) {
          if (error instanceof RequestItemError) throw new HttpError(400, error.message, error.field);
          throw error;
        }
      });
      let result: Awaited<ReturnType<RewardScorer["scoreBatch"]>>;
      try {
        result = await options.scorer.scoreBatch(items, { signal: controller.signal });
      } catch (error) {
        throw new HttpError(
          LmcotError.isInstance(error) ? 502 : 500,
          `scoring failed: ${errorMessage(error)}`,
        );
      }
      served++;
      const rewards = result.rewards.map(round);
      send(
        res,
        200,
        {
          rewards,
          scores: rewards,
          extra_logs: {
            task_reward: result.items.map((r) => r.taskReward ?? 0),
            aspect_reward: result.items.map((r) =>
              r.aspectReward === undefined || Number.isNaN(r.aspectReward) ? 0 : round(r.aspectReward),
            ),
          },
          ...(body.detail ? { details: result.items.map(detailOf) } : {}),
        },
        closing ? { connection: "close" } : {},
      );
      options.log?.(`POST /get_reward ${items.length} items 200 ${Date.now() - began} ms`);
    } catch (error) {
      const status = error instanceof HttpError ? error.status : 500;
      const field = error instanceof HttpError ? error.field : undefined;
      if (!res.headersSent && !res.destroyed)
        send(
          res,
          status,
          { error: errorMessage(error), ...(field ? { field } : {}) },
          status === 413 || closing ? { connection: "close" } : {},
        );
      options.log?.(`POST /get_reward ${status} ${errorMessage(error)}`);
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
      if (!res.headersSent) send(res, 500, { error: errorMessage(error) });
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
