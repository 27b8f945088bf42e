// Throughput and overhead of lmcot's full stack against a loopback OpenAI-compatible server with a fixed
// latency L and C concurrent workers: calls/s as a fraction of the bound C/L, and the mean per-call
// overhead over a bare `openai` client call to the same server.  npx tsx bench/throughput.mts [N] [C] [L]
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import OpenAI from "openai";
import { createModel } from "../src/index";

const N = Number(process.argv[2] ?? 2000);
const C = Number(process.argv[3] ?? 32);
const L = Number(process.argv[4] ?? 50);
const body = JSON.stringify({
  id: "c",
  object: "chat.completion",
  created: 1,
  model: "m",
  choices: [
    {
      index: 0,
      message: { role: "assistant", content: "Answer: Paris" },
      finish_reason: "stop",
      logprobs: null,
    },
  ],
  usage: { prompt_tokens: 20, completion_tokens: 3, total_tokens: 23 },
});
const server = createServer((req, res) => {
  req.resume();
  req.on("end", () =>
    setTimeout(() => res.writeHead(200, { "content-type": "application/json" }).end(body), L),
  );
});
await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
const baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;

async function drive(call: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const t = performance.now();
  await Promise.all(
    Array.from({ length: C }, async () => {
      while (next < N) await call(next++);
    }),
  );
  return performance.now() - t;
}

const bare = new OpenAI({ apiKey: "sk-bench", baseURL, maxRetries: 0 });
const stack = createModel("openai:gpt-4o-mini", { apiKey: "sk-bench", baseURL, concurrency: C });
const messages = [{ role: "user" as const, content: "Capital of France?" }];
await drive(() => bare.chat.completions.create({ model: "gpt-4o-mini", messages })); // warm-up
const bareMs = await drive(() =>
  bare.chat.completions.create({ model: "gpt-4o-mini", messages, max_tokens: 8 }),
);
const stackMs = await drive((i) => stack.generate({ prompt: `Capital of France? ${i}`, maxTokens: 8 }));
server.close();

const bound = (C / L) * 1000;
const rate = (ms: number) => (N / ms) * 1000;
console.log(
  `N=${N} calls, C=${C} workers, L=${L} ms server latency; bound C/L = ${bound.toFixed(0)} calls/s`,
);
console.log(
  `bare openai client: ${rate(bareMs).toFixed(0)} calls/s (${((100 * rate(bareMs)) / bound).toFixed(1)}% of bound)`,
);
console.log(
  `lmcot stack (meter, retry, timeout, limiter): ${rate(stackMs).toFixed(0)} calls/s (${((100 * rate(stackMs)) / bound).toFixed(1)}% of bound; target ≥ 90%)`,
);
console.log(
  `mean per-call overhead over the bare client: ${(((stackMs - bareMs) / N) * C).toFixed(3)} ms (target < 2 ms)`,
);
console.log(
  `usage meter: ${stack.meter.calls} calls, ${stack.meter.inputTokens} input tokens, $${stack.meter.costUsd.toFixed(4)}`,
);
