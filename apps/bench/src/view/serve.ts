import { mkdirSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { VIEW_CSP } from "./page";

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
};

/** Writes the viewer's files to `dir`: open `dir/index.html` from disk, no server needed. */
export function exportView(files: Map<string, string>, dir: string): string {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of files) writeFileSync(join(dir, name), text);
  return join(dir, "index.html");
}

/** Serves the viewer's files read-only on 127.0.0.1 (port 0: any free port). */
export async function serveView(
  files: Map<string, string>,
  options: { port?: number } = {},
): Promise<{ url: string; server: Server; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    // Another site's page reaching this port through DNS rebinding sends its own host name: refused.
    if (!/^(127\.0\.0\.1|localhost)(:\d+)?$/.test(req.headers.host ?? "")) {
      res.writeHead(403, { "content-type": "text/plain" }).end("forbidden host\n");
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname.slice(1) || "index.html";
    const body = files.get(path);
    if (body === undefined) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      return;
    }
    res
      .writeHead(200, {
        "content-type": TYPES[path.split(".").pop() ?? ""] ?? "text/plain",
        "cache-control": "no-store",
        "x-content-type-options": "nosniff",
        "content-security-policy": `${VIEW_CSP}; frame-ancestors 'none'`,
      })
      .end(req.method === "HEAD" ? undefined : body);
  });
  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(options.port ?? 0, "127.0.0.1", () => ok());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    server,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}
