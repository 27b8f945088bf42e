// The benchmark's loopback server, in its own thread so its CPU does not compete with the client's
// event loop: answers every chat completion with the same body after `latencyMs`.
import { createServer } from "node:http";
import { parentPort, workerData } from "node:worker_threads";

const body = JSON.stringify({
  id: "chatcmpl-bench",
  object: "chat.completion",
  created: 1_700_000_000,
  model: "gpt-4o-mini-2024-07-18",
  choices: [
    {
      index: 0,
      message: { role: "assistant", content: "Paris", refusal: null },
      logprobs: null,
      finish_reason: "stop",
    },
  ],
  usage: { prompt_tokens: 42, completion_tokens: 2, total_tokens: 44 },
});
const server = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    const reply = () => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(body);
    };
    if (workerData.latencyMs > 0) setTimeout(reply, workerData.latencyMs);
    else reply();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => parentPort.postMessage(server.address().port));
parentPort.on("message", () => server.close(() => process.exit(0)));
