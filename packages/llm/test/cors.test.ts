import { describe, expect, it } from "vitest";
import { faultServers } from "./helpers";

const start = faultServers();

describe("test servers with cors: true (for browser tests)", () => {
  it("answer a preflight with the asked-for headers, uncounted, and allow any origin on the call", async () => {
    const s = await start({ reply: "Answer: Paris", cors: true });
    const preflight = await fetch(`${s.url}/v1/chat/completions`, {
      method: "OPTIONS",
      headers: {
        origin: "http://127.0.0.1:1",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,content-type,x-stainless-os",
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-headers")).toBe(
      "authorization,content-type,x-stainless-os",
    );
    const call = await fetch(`${s.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "capital of France?" }] }),
    });
    expect(call.headers.get("access-control-allow-origin")).toBe("*");
    expect((await call.json()).choices[0].message.content).toBe("Answer: Paris");
    expect(s.seen.map((r) => r.method)).toEqual(["POST"]);
  });
});
