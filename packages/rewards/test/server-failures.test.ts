import { connect } from "node:net";
import { AuthenticationError, ServerError } from "@lmcot/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { rewardConfig } from "../src/combine";
import type { RewardServer } from "../src/server";
import { example, FunctionModel, rationale } from "./helpers";
import { openrlhf, post, prompt, serve } from "./server-helpers";

const unhandled: unknown[] = [];
const record = (reason: unknown) => unhandled.push(reason);
beforeEach(() => {
  unhandled.length = 0;
  process.on("unhandledRejection", record);
});
afterEach(() => {
  process.off("unhandledRejection", record);
});

const settle = () => new Promise((r) => setTimeout(r, 50));

/** Items whose rationale ends in `#i`, so a model can fail some of them. */
const numbered = (n: number) => ({
  query: Array.from({ length: n }, (_, i) => `${prompt} ${rationale} #${i}</s>`),
  prompts: Array(n).fill(prompt),
  labels: Array(n).fill(example.answer),
});

describe("reward server: failing models", () => {
  it("keeps serving when the judge and the large LM fail, leaving no promise unobserved", async () => {
    let down = true;
    const judge = new FunctionModel(() => {
      if (down) throw new ServerError("judge answered 500");
      return "Score: 4";
    });
    // The large LM fails after the judge has, as the reported crash needed.
    const large = new FunctionModel(
      () => {
        if (down) throw new ServerError("large LM answered 500");
        return "Answer: Arthur's Magazine";
      },
      "scripted:large",
      20,
    );
    const server = await serve({ judge, large });
    const failed = await post(server, openrlhf(8));
    expect(failed.status).toBe(502);
    expect((failed.body.failed as { index: number }[]).map((f) => f.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    await settle();
    expect(unhandled).toEqual([]);
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: "ok", failed_items: 8, in_flight: 0 });
    down = false;
    const ok = await post(server, openrlhf(2));
    expect(ok.status).toBe(200);
    expect(ok.body.rewards).toEqual([7, 7]);
  });

  const failingOn = (items: number[], message = "upstream 500") =>
    new FunctionModel((r) => {
      if (items.some((i) => r.prompt?.includes(`#${i}\n`))) throw new ServerError(message, { status: 500 });
      return "Score: 4";
    });

  it("answers 502 naming each failed item and why, keys redacted, under the default `error` policy", async () => {
    const judge = failingOn(
      [1, 3],
      "bad gateway for key sk-proj-abcdefghijklmnopqrstuv and token s3cret-token",
    );
    const server = await serve({ judge }, { token: "s3cret-token" });
    const res = await post(server, numbered(4), { authorization: "Bearer s3cret-token" });
    expect(res.status).toBe(502);
    expect(res.body.error).toMatch(/^2 of 4 items failed; first, item 1: server: bad gateway/);
    expect(res.body.failed).toEqual([
      { index: 1, error_class: "server", status: 500, error: expect.stringContaining("bad gateway") },
      { index: 3, error_class: "server", status: 500, error: expect.stringContaining("bad gateway") },
    ]);
    const text = JSON.stringify(res.body);
    expect(text).not.toMatch(/sk-proj-abc|s3cret-token/);
    expect(text).toContain("[redacted]");
    expect(res.body.rewards).toBeUndefined();
  });

  it.each([
    ["zero", "zero" as const, 1],
    ["exclude", "exclude" as const, 1],
    ["a default", { default: 0.5 }, 5],
  ])("scores failed calls under `%s` and says so in the details", async (_name, onCallFailure, reward) => {
    const server = await serve({ judge: failingOn([1]), config: rewardConfig("paper", { onCallFailure }) });
    const res = await post(server, { ...numbered(2), detail: true });
    expect(res.status).toBe(200);
    expect(res.body.rewards).toEqual([7, reward]);
    const [, detail] = res.body.details as Record<string, unknown>[];
    expect(detail!.call_failures).toHaveLength(8);
    expect((detail!.call_failures as Record<string, unknown>[])[0]).toMatchObject({
      role: "judge",
      aspect: "factuality",
      error_class: "server",
    });
  });

  it("never scores a fatal error: an unauthorised judge is a 502 under any policy", async () => {
    const judge = new FunctionModel(() => {
      throw new AuthenticationError("invalid api key", { status: 401 });
    });
    const server = await serve({ judge, config: rewardConfig("paper", { onCallFailure: "zero" }) });
    const res = await post(server, numbered(3));
    expect(res.status).toBe(502);
    expect(res.body.failed).toHaveLength(3);
    expect((res.body.failed as { error_class: string }[])[0]!.error_class).toBe("authentication");
  });
});

/**
 * Sends the request head and `bodyBytes` of body the way Python's `requests` does, everything
 * before reading a byte of the answer; resolves with the status line, or the socket error.
 */
function sendAllThenRead(server: RewardServer, bodyBytes: number, headers = ""): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(server.port, "127.0.0.1");
    socket.pause();
    let answer = "";
    socket.on("error", (error) => resolve(`error: ${(error as NodeJS.ErrnoException).code}`));
    socket.on("data", (chunk) => {
      answer += chunk;
      if (answer.includes("\r\n")) {
        resolve(answer.split("\r\n")[0]!);
        socket.destroy();
      }
    });
    socket.write(
      `POST /get_reward HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${bodyBytes}\r\n${headers}\r\n`,
    );
    socket.write(Buffer.alloc(bodyBytes, 120), () => socket.resume());
  });
}

describe("reward server: refusals from the headers", () => {
  it("answers 413 before reading the body, and a client that sends it all first still gets it", async () => {
    const server = await serve({}, { maxBodyBytes: 2000 });
    const early = await new Promise<string>((resolve) => {
      const socket = connect(server.port, "127.0.0.1", () =>
        socket.write(
          "POST /get_reward HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 100000000\r\n\r\n{",
        ),
      );
      socket.on("data", (chunk) => {
        resolve(String(chunk).split("\r\n")[0]!);
        socket.destroy();
      });
    });
    expect(early).toBe("HTTP/1.1 413 Payload Too Large");
    expect(await sendAllThenRead(server, 8_000_000)).toBe("HTTP/1.1 413 Payload Too Large");
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });

  it("answers 401 the same way, before the size", async () => {
    const server = await serve({}, { maxBodyBytes: 2000, token: "tok-123456" });
    expect(await sendAllThenRead(server, 8_000_000)).toBe("HTTP/1.1 401 Unauthorized");
    expect(await sendAllThenRead(server, 8_000_000, "authorization: Bearer tok-123456\r\n")).toBe(
      "HTTP/1.1 413 Payload Too Large",
    );
  });

  it("logs refused tokens at most once per interval, with a count", async () => {
    const lines: string[] = [];
    const interval = 500;
    const server = await serve(
      {},
      { token: "tok-123456", log: (l) => lines.push(l), authLogIntervalMs: interval },
    );
    const began = performance.now();
    for (let i = 0; i < 20; i++) expect((await post(server, openrlhf(1))).status).toBe(401);
    const took = performance.now() - began;
    expect(lines[0]).toBe("POST /get_reward 401 missing or wrong bearer token (from 127.0.0.1)");
    await new Promise((r) => setTimeout(r, interval + 200));
    // Every refusal is counted, in at most one line per interval.
    const counted = lines.slice(1).map((l) => Number(/\(×(\d+) more in 0\.5 s\)$/.exec(l)?.[1]));
    expect(1 + counted.reduce((a, b) => a + b, 0)).toBe(20);
    expect(lines.length).toBeLessThanOrEqual(2 + Math.ceil(took / interval));
    expect(lines.join("\n")).not.toContain("tok-123456");
  });
});
