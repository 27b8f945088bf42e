import { mkdirSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { VIEW_CSP, type ViewFiles } from "./page";

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
};

/**
 * Writes the viewer's files to `dir`: open `dir/index.html` from disk, no server needed. Each item's
 * details go to `items/<i>.js`, read from the run files one item at a time.
 */
export function exportView(files: ViewFiles, dir: string): string {
  mkdirSync(join(dir, "items"), { recursive: true });
  for (const [name, text] of files.fixed) writeFileSync(join(dir, name), text);
  for (let i = 0; i < files.items; i++) writeFileSync(join(dir, "items", `${i}.js`), files.item(i));
  return join(dir, "index.html");
}

/** The body of `path`: a fixed file, or `items/<i>.js` made from the run files; undefined: none such. */
function body(files: ViewFiles, path: string): string | undefined {
  const item = /^items\/(0|[1-9]\d{0,8})\.js$/.exec(path);
  if (!item) return files.fixed.get(path);
  const i = Number(item[1]);
  return i < files.items ? files.item(i) : undefined;
}

/**
 * Serves the viewer's files read-only on 127.0.0.1 (port 0: any free port). An item's details are
 * read from the run files when its page asks for them; a run file changed since (a record that no
 * longer validates) is a 500 naming the file and line, and the server stays up.
 */
export async function serveView(
  files: ViewFiles,
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
    let text: string | undefined;
    try {
      text = body(files, path);
    } catch (error) {
      res.writeHead(500, { "content-type": "text/plain" }).end(`${(error as Error).message}\n`);
      return;
    }
    if (text === undefined) {
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
      .end(req.method === "HEAD" ? undefined : text);
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
