import { describe, expect, it } from "vitest";
import {
  BadRequestError,
  InvalidResponseError,
  isFatalError,
  ServerError,
  toLmcotError,
  UnreadableReplyError,
} from "../src/index";

/** An error shaped as the `openai` and `@anthropic-ai/sdk` clients throw for a status: `${status} ${body}` when the body is not JSON. */
const statusError = (status: number, contentType: string | undefined, body: string, error?: unknown) =>
  Object.assign(new Error(`${status} ${body}`), {
    status,
    headers: new Headers(contentType ? { "content-type": contentType } : {}),
    error,
  });

const PAGE = `<!DOCTYPE HTML>\n<html lang="en">\n<head><title>Error response</title></head>\n<body>${"<p>x</p>".repeat(100)}</body></html>`;

describe("toLmcotError on a reply that is not JSON", () => {
  it("an HTML error page with 501 (python3 -m http.server) is a fatal wrong endpoint naming URL, status, type, first bytes", () => {
    const e = toLmcotError(statusError(501, "text/html;charset=utf-8", PAGE), "openai-compatible", [], {
      baseURL: "http://127.0.0.1:8000/v1",
      expected: "an OpenAI chat completion",
    });
    expect(InvalidResponseError.isInstance(e)).toBe(true);
    expect(e.retryable).toBe(false);
    expect(isFatalError(e)).toBe(true);
    expect(e.status).toBe(501);
    expect(e.message).toMatch(
      /^openai-compatible: http:\/\/127\.0\.0\.1:8000\/v1 answered HTTP 501 \(text\/html;charset=utf-8\), which is not an OpenAI chat completion: "<!DOCTYPE HTML> <html lang="en"> <head>.*…"; check the base URL$/,
    );
    expect(e.message.length).toBeLessThan(400);
  });

  it("a proxy's HTML page with 502 stays a retryable server error, by its first bytes", () => {
    const e = toLmcotError(statusError(502, "text/html", PAGE), "openai");
    expect(ServerError.isInstance(e)).toBe(true);
    expect(e.retryable).toBe(true);
    expect(e.message).toMatch(/^openai: HTTP 502 \(text\/html\): "<!DOCTYPE HTML>/);
    expect(e.message.length).toBeLessThan(300);
  });

  it("a JSON error without a JSON content type is still read as the API's error", () => {
    const e = toLmcotError(statusError(400, undefined, "", { message: "max_tokens is too large" }), "openai");
    expect(BadRequestError.isInstance(e)).toBe(true);
  });

  it("keys in a quoted page are redacted, by value and by shape", () => {
    const body = "<html>key=my-gateway-secret-1 other=sk-proj-abcdefghijklmnopqrstu</html>";
    const e = toLmcotError(statusError(404, "text/html", body), "openai", ["my-gateway-secret-1"]);
    expect(e.message).not.toContain("my-gateway-secret-1");
    expect(e.message).not.toContain("sk-proj-abcdefghijklmnopqrstu");
    expect(e.message).toContain("key=[redacted] other=[redacted]");
  });

  it("a judge-style unreadable reply is its own class and never fatal", () => {
    expect(isFatalError(new UnreadableReplyError("judge reply has no score"))).toBe(false);
  });
});
