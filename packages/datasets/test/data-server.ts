import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** How one path is served; the faults apply to the first requests only. */
export interface Route {
  body: Buffer;
  /** Answer this many requests with 503 before serving. */
  fail503?: number;
  /** Cut the connection after this many body bytes, on the first response that sends bytes. */
  cutAt?: number;
  /** Range is not supported: always 200 with the whole body, and no `accept-ranges`. */
  ignoreRange?: boolean;
  /** Extra response headers, e.g. `content-encoding` for a body that is already encoded. */
  headers?: Record<string, string>;
  /** No length and no chunking: the body ends where the connection closes (HTTP/1.0 style). */
  closeDelimited?: boolean;
  /** Answer 302 to this URL. */
  redirect?: string;
  /** Send each 64 KB chunk after this many ms. */
  chunkDelayMs?: number;
  /** Hold the rest of the body, after the first chunk, until this settles. */
  gate?: Promise<unknown>;
}

export interface DataServer {
  url: string;
  routes: Map<string, Route>;
  /** Every request: path, Range header and the status sent. */
  log: { path: string; range?: string; acceptEncoding?: string; status: number }[];
  close(): Promise<void>;
}

/** A loopback HTTP server (127.0.0.1) serving generated files with Range support and injected faults. */
export async function startDataServer(routes: Record<string, Route> = {}): Promise<DataServer> {
  const table = new Map(Object.entries(routes));
  const log: DataServer["log"] = [];
  const cut = new Set<string>();
  const server: Server = createServer(async (req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const route = table.get(path);
    const range = req.headers.range;
    const acceptEncoding = req.headers["accept-encoding"];
    const done = (status: number) =>
      log.push({ path, ...(range ? { range } : {}), ...(acceptEncoding ? { acceptEncoding } : {}), status });
    if (!route) {
      done(404);
      return void res.writeHead(404).end("not found");
    }
    if (route.fail503 && route.fail503 > 0) {
      route.fail503--;
      done(503);
      return void res.writeHead(503, { "retry-after": "0" }).end("busy");
    }
    if (route.redirect) {
      done(302);
      return void res.writeHead(302, { location: route.redirect }).end();
    }
    if (route.closeDelimited && req.socket) {
      done(200);
      const head = Object.entries(route.headers ?? {}).map(([k, v]) => `${k}: ${v}\r\n`);
      req.socket.write(`HTTP/1.1 200 OK\r\nconnection: close\r\n${head.join("")}\r\n`);
      return void req.socket.end(route.body);
    }
    const size = route.body.length;
    const m = !route.ignoreRange && range ? /^bytes=(\d+)-$/.exec(range) : null;
    const start = m ? Number(m[1]) : 0;
    if (m && start >= size) {
      done(416);
      return void res.writeHead(416, { "content-range": `bytes */${size}` }).end();
    }
    const status = m ? 206 : 200;
    done(status);
    res.writeHead(status, {
      ...route.headers,
      "content-length": String(size - start),
      ...(route.ignoreRange ? {} : { "accept-ranges": "bytes" }),
      ...(m ? { "content-range": `bytes ${start}-${size - 1}/${size}` } : {}),
    });
    const cutAt = route.cutAt !== undefined && !cut.has(path) ? route.cutAt : undefined;
    for (let at = start; at < size; at += 1 << 16) {
      const end = Math.min(size, at + (1 << 16));
      if (cutAt !== undefined && end - start > cutAt) {
        cut.add(path);
        res.write(route.body.subarray(at, start + cutAt));
        await new Promise((r) => setTimeout(r, 20));
        return void res.destroy();
      }
      if (!res.write(route.body.subarray(at, end))) await new Promise((r) => res.once("drain", r));
      if (at === start && route.gate) await route.gate;
      if (route.chunkDelayMs) await new Promise((r) => setTimeout(r, route.chunkDelayMs));
    }
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    routes: table,
    log,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A HotpotQA-shaped record (the official JSON fields). */
export function hotpotRecord(i: number, padding = 0): Record<string, unknown> {
  const filler = "x".repeat(padding);
  return {
    _id: `q${i}`,
    question: `Which came first, A${i} or B${i}?`,
    answer: `A${i}`,
    supporting_facts: [
      [`A${i}`, 0],
      [`B${i}`, 0],
    ],
    context: [
      [`A${i}`, [`A${i} was founded in 1844.`, `It is old. ${filler}`]],
      [`B${i}`, [`B${i} was founded in 1989.`]],
    ],
    type: "comparison",
    level: "hard",
  };
}

/** A HotpotQA-shaped JSON array of `count` records, as the official files are written. */
export function hotpotFile(count: number, padding = 0): Buffer {
  const parts = ["["];
  for (let i = 0; i < count; i++) parts.push(`${i ? ", " : ""}${JSON.stringify(hotpotRecord(i, padding))}`);
  parts.push("]");
  return Buffer.from(parts.join(""));
}
