import type { IncomingMessage } from "node:http";

/** Names a loopback server is reached by; a page on another site reaching it by DNS rebinding sends its own. */
const LOOPBACK_NAMES = ["localhost", "127.0.0.1", "::1"];
/** Addresses that listen on every interface: the server is meant to be reached by any name. */
const WILDCARDS = new Set(["0.0.0.0", "::", ""]);

/** `example.com:5000` → `example.com`, `[::1]:5000` → `::1`, lower case. */
function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith("[")) {
    const end = h.indexOf("]");
    return h.slice(1, end < 0 ? undefined : end);
  }
  const colon = h.indexOf(":");
  return colon >= 0 && colon === h.lastIndexOf(":") ? h.slice(0, colon) : h;
}

/**
 * The Host names a request may carry: loopback names and the address the server was asked to bind
 * (`--host`) and did bind; none checked when it listens on every interface (`0.0.0.0`, `::`).
 */
export function allowedHosts(bindHost: string, boundAddress: string): Set<string> | "any" {
  if (WILDCARDS.has(bindHost) || WILDCARDS.has(boundAddress)) return "any";
  return new Set([...LOOPBACK_NAMES, hostName(bindHost), boundAddress.toLowerCase()]);
}

/** Why a request's headers alone refuse it (403 / 415), or undefined. */
export function refusal(
  req: IncomingMessage,
  hosts: Set<string> | "any",
  origins: readonly string[],
): { status: 403 | 415; error: string } | undefined {
  const host = req.headers.host;
  if (host === undefined) return { status: 403, error: "no Host header" };
  if (hosts !== "any" && !hosts.has(hostName(host)))
    return {
      status: 403,
      error: `Host ${JSON.stringify(host)} is not this server's address (bind it with --host to accept it)`,
    };
  if (req.method !== "POST") return undefined;
  const origin = req.headers.origin;
  // Browsers send Origin; PPO engines' HTTP clients do not.
  if (origin !== undefined && !origins.includes(origin))
    return { status: 403, error: `requests from a web page (Origin ${JSON.stringify(origin)}) are refused` };
  const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/json")
    return {
      status: 415,
      error: `Content-Type must be application/json, got ${type ? JSON.stringify(type) : "none"}`,
    };
  return undefined;
}
