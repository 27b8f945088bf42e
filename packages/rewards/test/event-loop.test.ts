import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { rationalePrompt } from "@lmcot/core";
import { afterEach, describe, expect, it } from "vitest";
import { RewardScorer } from "../src/scorer";
import { type RewardServer, startRewardServer } from "../src/server";
import { answering, constantJudge, example, rationale } from "./helpers";

const servers: RewardServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/**
 * The longest the event loop went without running a 1 ms timer while `work` ran. A gap's wall time
 * also counts time the OS gave to other processes (most of it on a busy machine), and its process
 * CPU time also counts V8's helper threads; the main thread's own work is at most the smaller one.
 */
async function longestBlock<T>(work: () => Promise<T>) {
  let last = performance.now();
  let lastCpu = process.cpuUsage();
  let blockMs = 0;
  let wallMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    const cpu = process.cpuUsage(lastCpu);
    wallMs = Math.max(wallMs, now - last);
    blockMs = Math.max(blockMs, Math.min(now - last, (cpu.user + cpu.system) / 1000));
    last = now;
    lastCpu = process.cpuUsage();
  }, 1);
  try {
    return { result: await work(), blockMs, wallMs };
  } finally {
    clearInterval(timer);
  }
}

describe("reward server: a 4,096-item request", () => {
  it("never blocks the event loop for more than ~100 ms at a time", async () => {
    // A judge and large LM that answer at once (a microtask): the worst case for starving the loop.
    const scorer = new RewardScorer({ judge: constantJudge(4), large: answering(example.answer) });
    const server = await startRewardServer({ scorer });
    servers.push(server);
    const prompt = rationalePrompt.render(example);
    const n = 4096;
    const body = JSON.stringify({
      query: Array.from({ length: n }, (_, i) => `${prompt} ${rationale} #${i}</s>`),
      prompts: Array(n).fill(prompt),
      labels: Array(n).fill(example.answer),
    });
    const file = join(mkdtempSync(join(tmpdir(), "lmcot-loop-")), "body.json");
    writeFileSync(file, body);
    // The client is another process, so the blocks measured here are the server's alone.
    const client = `fetch(process.argv[1], { method: "POST", headers: { "content-type": "application/json" }, body: require("fs").readFileSync(process.argv[2]) })
      .then(async (r) => process.stdout.write(JSON.stringify({ status: r.status, ...(await r.json()) })))`;
    const { result, blockMs, wallMs } = await longestBlock(async () => {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ["-e", client, `${server.url}/get_reward`, file],
        { maxBuffer: 1 << 26 },
      );
      return JSON.parse(stdout) as { status: number; rewards: number[] };
    });
    expect(result.status).toBe(200);
    expect(result.rewards).toHaveLength(n);
    expect(result.rewards.every((r) => r === 7)).toBe(true);
    console.log(
      `4096-item request: longest event-loop block ${blockMs.toFixed(1)} ms (longest wall-clock gap ${wallMs.toFixed(1)} ms)`,
    );
    expect(blockMs).toBeLessThan(100);
  }, 120_000);
});
