import { request } from "node:http";
import { type Example, rationalePrompt, ServerError } from "@lmcot/core";
import { describe, expect, it } from "vitest";
import { answering, constantJudge, example, FunctionModel, rationale } from "./helpers";
import { openrlhf, post, prompt, serve } from "./server-helpers";

describe("reward server: POST /get_reward", () => {
  it("answers OpenRLHF's request shape with one reward per item", async () => {
    const server = await serve();
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const { status, body } = await post(server, openrlhf(2));
    expect(status).toBe(200);
    expect(body.rewards).toEqual([7, 7]);
    expect(body.scores).toEqual([7, 7]);
    expect(body.details).toBeUndefined();
  });

  it("reads the rationale after the prompt, past left padding and special tokens", async () => {
    const judge = new FunctionModel(() => "Score: 5");
    const server = await serve({ judge });
    const { status } = await post(server, {
      query: [`<pad><pad>${prompt} ${rationale}<|im_end|><pad>`],
      prompts: [prompt],
      labels: [["Arthur's Magazine", "Arthurs"]],
    });
    expect(status).toBe(200);
    expect(judge.requests[0]!.prompt).toContain(`Rationale: ${rationale}\n`);
    expect(judge.requests[0]!.prompt).toContain(`Question: ${example.question}`);
  });

  it("adds the per-item breakdown when asked", async () => {
    const server = await serve({ large: answering("First for Women") });
    const { body } = await post(server, { ...openrlhf(1), detail: true });
    const [detail] = body.details as Record<string, unknown>[];
    expect(detail).toMatchObject({
      reward: 6,
      task_reward: 0,
      answer: "First for Women",
      em: 0,
      aspect_reward: 6,
    });
    expect((detail!.aspects as Record<string, number>).fluency).toBe(0.75);
  });

  it.each([
    ["not JSON", "{query:", "body", /not valid JSON/],
    ["query not an array", { query: "x", prompts: [], labels: [] }, "query", /query/],
    [
      "a label of the wrong type",
      { query: ["a", "b"], prompts: ["a", "b"], labels: ["x", 3] },
      "labels[1]",
      /labels\[1\]/,
    ],
    ["prompts missing", { query: ["a"], labels: ["x"] }, "prompts", /prompts/],
    [
      "lengths differ",
      { query: ["a", "b"], prompts: ["a", "b"], labels: ["x"] },
      "labels",
      /labels: has 1 items but query has 2/,
    ],
    [
      "a prompt not in lmcot's layout",
      { query: ["hello world"], prompts: ["hello"], labels: ["x"] },
      "prompts[0]",
      /Question/,
    ],
    [
      "a query without its prompt",
      { query: ["something else"], prompts: [prompt], labels: ["x"] },
      "query[0]",
      /does not contain prompts\[0\]/,
    ],
  ])("answers 400 naming the field for %s", async (_name, body, field, message) => {
    const server = await serve();
    const res = await post(server, body);
    expect(res.status).toBe(400);
    if (field !== "body") expect(res.body.field).toBe(field);
    expect(res.body.error).toMatch(message);
  });

  it("answers 413 to an oversize body, declared or streamed, and to too many items", async () => {
    const server = await serve({}, { maxBodyBytes: 2000, maxItems: 2 });
    const big = await post(server, { query: ["x".repeat(5000)], prompts: ["x"], labels: ["x"] });
    expect(big.status).toBe(413);
    expect(big.body.error).toMatch(/2000-byte limit/);
    const streamed = await new Promise<number>((resolve, reject) => {
      const req = request(
        `${server.url}/get_reward`,
        { method: "POST", headers: { "content-type": "application/json", "transfer-encoding": "chunked" } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      for (let i = 0; i < 10; i++) req.write("x".repeat(500));
      req.end();
    });
    expect(streamed).toBe(413);
    const strict = await serve({}, { maxItems: 2 });
    const many = await post(strict, openrlhf(3, " r"));
    expect(many.status).toBe(413);
    expect(many.body.field).toBe("query");
  });

  it("needs the bearer token when one is set", async () => {
    const server = await serve({}, { token: "s3cret" });
    expect((await post(server, openrlhf(1))).status).toBe(401);
    expect((await post(server, openrlhf(1), { authorization: "Bearer nope" })).status).toBe(401);
    const ok = await post(server, openrlhf(1), { authorization: "Bearer s3cret" });
    expect(ok.status).toBe(200);
    expect(JSON.stringify(ok.body)).not.toContain("s3cret");
  });

  it("answers 404 and 405 with JSON", async () => {
    const server = await serve();
    const missing = await fetch(`${server.url}/nope`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: string }).error).toMatch(/get_reward/);
    expect((await fetch(`${server.url}/get_reward`)).status).toBe(405);
  });

  it("answers 502 when the judge fails, and keeps serving", async () => {
    let fail = true;
    const judge = new FunctionModel(() => {
      if (fail) throw new ServerError("judge provider is down");
      return "Score: 4";
    });
    const server = await serve({ judge });
    const res = await post(server, openrlhf(1));
    expect(res.status).toBe(502);
    expect(res.body.error).toMatch(/judge provider is down/);
    fail = false;
    expect((await post(server, openrlhf(1))).status).toBe(200);
  });

  it("serves concurrent requests correctly within the call limit", async () => {
    const judge = constantJudge(5, 3);
    const server = await serve({ judge, concurrency: 4 });
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        post(server, {
          query: [prompt + ` ${rationale} #${i}`],
          prompts: [prompt],
          labels: [i % 2 ? "wrong" : example.answer],
        }),
      ),
    );
    answers.forEach((a, i) => {
      expect(a.status).toBe(200);
      expect(a.body.rewards).toEqual([i % 2 ? 8 : 9]);
    });
    expect(judge.maxInFlight).toBeLessThanOrEqual(4);
    expect(judge.requests).toHaveLength(12 * 8);
  });
});

describe("reward server: health and shutdown", () => {
  it("reports health with totals", async () => {
    const server = await serve({}, { info: { judge: "scripted:judge" } });
    await post(server, openrlhf(2));
    const res = await fetch(`${server.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: "ok",
      items: 2,
      in_flight: 0,
      served: 1,
      judge: "scripted:judge",
    });
  });

  it("finishes in-flight work on close, then refuses connections", async () => {
    const server = await serve({ judge: constantJudge(4, 80) });
    const pending = post(server, openrlhf(1));
    while (server.inFlight === 0) await new Promise((r) => setTimeout(r, 2));
    const closed = server.close();
    const res = await pending;
    expect(res.status).toBe(200);
    expect(res.body.rewards).toEqual([7]);
    await closed;
    await expect(fetch(`${server.url}/health`)).rejects.toThrow();
  });
});

describe("requests built from a run", () => {
  it("carries aliases from list labels to the task reward", async () => {
    const ex: Example = { ...example, answer: "x" };
    const p = rationalePrompt.render(ex);
    const server = await serve({ config: "task-only", large: answering("Arthurs") });
    const { body } = await post(server, {
      query: [p + " r"],
      prompts: [p],
      labels: [["Arthur's Magazine", "Arthurs"]],
    });
    expect(body.rewards).toEqual([1]);
  });
});
