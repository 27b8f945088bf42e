import { rationalePrompt } from "@lmcot/core";
import { afterEach } from "vitest";
import { RewardScorer, type RewardScorerOptions } from "../src/scorer";
import { type RewardServer, type RewardServerOptions, startRewardServer } from "../src/server";
import { answering, constantJudge, example, rationale } from "./helpers";

const servers: RewardServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A reward server on a free loopback port (closed after each test); judge 4, correct large LM by default. */
export async function serve(scorer: RewardScorerOptions = {}, options: Partial<RewardServerOptions> = {}) {
  const server = await startRewardServer({
    scorer: new RewardScorer({ judge: constantJudge(4), large: answering("Arthur's Magazine"), ...scorer }),
    ...options,
  });
  servers.push(server);
  return server;
}

export async function post(server: RewardServer, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.url}/get_reward`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

export const prompt = rationalePrompt.render(example);

/** Exactly what OpenRLHF sends: query = prompt + response (with the end-of-sequence token). */
export const openrlhf = (n = 1, response = ` ${rationale}</s>`) => ({
  query: Array(n).fill(prompt + response),
  prompts: Array(n).fill(prompt),
  labels: Array(n).fill(example.answer),
});
