import { request } from "node:http";
import { describe, expect, it } from "vitest";
import { allowedHosts } from "../src/guard";
import type { RewardServer } from "../src/server";
import { constantJudge } from "./helpers";
import { openrlhf, post, serve } from "./server-helpers";

/** A raw request, so the Host header can be any name (fetch sets it from the URL). */
function raw(server: RewardServer, path: string, method: string, headers: Record<string, string>, body = "") {
  return new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
    const req = request(`${server.url}${path}`, { method, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

const body = JSON.stringify(openrlhf(1));

describe("reward server: cross-site requests are refused", () => {
  it("a POST that is not application/json gets 415, one with a web page's Origin 403; the judge is never called", async () => {
    const judge = constantJudge(4);
    const server = await serve({ judge });
    // What a web page can send without a preflight: a text/plain form or fetch.
    const plain = await post(server, body, { "content-type": "text/plain;charset=UTF-8" });
    expect(plain.status).toBe(415);
    expect(plain.body.error).toBe('Content-Type must be application/json, got "text/plain"');
    const form = await post(server, body, { "content-type": "application/x-www-form-urlencoded" });
    expect(form.status).toBe(415);
    const page = await post(server, body, { origin: "https://evil.example" });
    expect(page.status).toBe(403);
    expect(page.body.error).toMatch(/Origin "https:\/\/evil\.example"/);
    const sandboxed = await post(server, body, { origin: "null" });
    expect(sandboxed.status).toBe(403);
    expect(judge.requests).toHaveLength(0);
    // A PPO engine's client: JSON, no Origin.
    expect((await post(server, body, { "content-type": "application/json; charset=utf-8" })).status).toBe(
      200,
    );
    expect(judge.requests.length).toBeGreaterThan(0);
  });

  it("an allowed origin may POST", async () => {
    const server = await serve({}, { allowedOrigins: ["http://127.0.0.1:8080"] });
    expect((await post(server, body, { origin: "http://127.0.0.1:8080" })).status).toBe(200);
    expect((await post(server, body, { origin: "http://127.0.0.1:8081" })).status).toBe(403);
  });

  it("a Host that is not the bound address or a loopback name gets 403 (DNS rebinding), with or without a token", async () => {
    for (const token of [undefined, "tok-123456789"]) {
      const judge = constantJudge(4);
      const server = await serve({ judge }, token ? { token } : {});
      const auth: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
      const headers = (host: string) => ({ host, "content-type": "application/json", ...auth });
      const rebound = await raw(server, "/get_reward", "POST", headers(`evil.example:${server.port}`), body);
      expect(rebound.status).toBe(403);
      expect(rebound.body.error).toMatch(/Host "evil\.example:\d+" is not this server's address/);
      expect((await raw(server, "/health", "GET", { host: "evil.example" })).status).toBe(403);
      expect(judge.requests).toHaveLength(0);
      for (const host of [
        `127.0.0.1:${server.port}`,
        `localhost:${server.port}`,
        "LOCALHOST",
        `[::1]:${server.port}`,
      ])
        expect((await raw(server, "/get_reward", "POST", headers(host), body)).status, host).toBe(200);
    }
  });

  it("the Host names allowed: loopback and the --host address; any when bound to every interface", () => {
    expect(allowedHosts("127.0.0.1", "127.0.0.1")).toEqual(new Set(["localhost", "127.0.0.1", "::1"]));
    expect(allowedHosts("10.1.2.3", "10.1.2.3")).toEqual(
      new Set(["localhost", "127.0.0.1", "::1", "10.1.2.3"]),
    );
    expect(allowedHosts("Reward.Lan", "10.1.2.3")).toEqual(
      new Set(["localhost", "127.0.0.1", "::1", "reward.lan", "10.1.2.3"]),
    );
    expect(allowedHosts("[::1]", "::1")).toEqual(new Set(["localhost", "127.0.0.1", "::1"]));
    expect(allowedHosts("0.0.0.0", "0.0.0.0")).toBe("any");
    expect(allowedHosts("::", "::")).toBe("any");
  });

  it("/health stays open without the token and shows no token, key or URL credentials", async () => {
    const token = "tok-health-secret-42";
    const key = "sk-proj-abcdefghijklmnopqrstuvwx";
    const server = await serve(
      {},
      {
        token,
        secrets: [key],
        info: {
          judge: `openai-compatible:http://user:${key}@127.0.0.1:9/v1#judge`,
          large: `openai-compatible:http://admin:hunter2pass@127.0.0.1:9/v1#big`,
          note: `token ${token}`,
        },
      },
    );
    const res = await fetch(`${server.url}/health`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain(token);
    expect(text).not.toContain(key);
    expect(text).not.toContain("hunter2pass");
    expect(JSON.parse(text)).toMatchObject({
      status: "ok",
      judge: "openai-compatible:http://[redacted]@127.0.0.1:9/v1#judge",
      large: "openai-compatible:http://[redacted]@127.0.0.1:9/v1#big",
    });
  });
});
