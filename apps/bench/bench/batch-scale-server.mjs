// The loopback batch server of batch-scale.mjs, in its own process so its memory is not the client's.
import { batchServer } from "@lmcot/llm/testing";

// `answerChars`: replies this long, for results files of tens of MB.
const answerChars = Number(process.argv[3] ?? 0);
const server = await batchServer({
  apiKey: process.argv[2],
  forgetInputs: true,
  ...(answerChars
    ? { answer: () => ({ text: `answer: ${"x".repeat(answerChars)}`, inputTokens: 1500, outputTokens: 3 }) }
    : {}),
});
process.stdout.write(`${JSON.stringify(server.env(process.argv[2]))}\n`);
process.stdin.resume();
process.stdin.on("end", async () => {
  // Custom ids sent in more than one batch: paid calls made twice.
  const seen = new Set();
  let resent = 0;
  for (const b of server.created)
    for (const id of b.customIds)
      if (seen.has(id)) resent++;
      else seen.add(id);
  const requests = server.created.reduce((n, b) => n + b.customIds.length, 0);
  process.stderr.write(`${JSON.stringify({ batches: server.created.length, requests, resent })}\n`);
  await server.close();
  process.exit(0);
});
