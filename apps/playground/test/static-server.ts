import { createReadStream, existsSync, statSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize } from "node:path";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".mjs": "text/javascript",
  ".css": "text/css",
  ".json": "application/json",
  ".jsonl": "application/x-ndjson",
  ".wasm": "application/wasm",
};

/** A static file server on 127.0.0.1: URL prefix → folder. Every request is recorded in `seen`. */
export async function staticServer(mounts: Record<string, string>) {
  const seen: { url: string; headers: Record<string, unknown> }[] = [];
  const server = createServer((req, res) => {
    const url = decodeURIComponent((req.url ?? "/").split("?")[0]!);
    seen.push({ url, headers: req.headers });
    const prefix = Object.keys(mounts)
      .filter((p) => url.startsWith(p))
      .sort((a, b) => b.length - a.length)[0];
    const root = prefix === undefined ? undefined : mounts[prefix];
    const file = root && normalize(join(root, url.slice(prefix!.length) || "index.html"));
    if (!root || !file?.startsWith(root) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { "content-type": "text/plain" });
      return void res.end("not found");
    }
    res.writeHead(200, {
      "content-type": TYPES[extname(file)] ?? "application/octet-stream",
      "content-length": statSync(file).size,
    });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
