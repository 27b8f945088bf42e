/**
 * The server side of bench/load.ts, in its own process: `lmcot` mode runs the reward server with a
 * zero-latency judge and large LM (the paper preset: 8 judge calls + 1 large-LM call per item);
 * `bare` mode is the reference, a plain node:http server that reads the body, parses it and answers
 * constant rewards. Prints its port, stops on SIGTERM.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { GenerateRequest, GenerateResult, LanguageModel } from "@lmcot/core";
import { RewardScorer, startRewardServer } from "../src/index";

class InstantModel implements LanguageModel {
  readonly specificationVersion = "v1" as const;
  constructor(
    readonly id: string,
    private readonly reply: (r: GenerateRequest) => string,
  ) {}
  async generate(request: GenerateRequest): Promise<GenerateResult> {
    return {
      text: this.reply(request),
      finishReason: "stop",
      usage: { inputTokens: 0, outputTokens: 0 },
      costUsd: 0,
    };
  }
}

const mode = process.argv[2] ?? "lmcot";
if (mode === "lmcot") {
  const judge = new InstantModel("instant:judge", () => "Score: 4");
  const large = new InstantModel("instant:large", () => "Answer: Arthur's Magazine");
  const server = await startRewardServer({ scorer: new RewardScorer({ judge, large, concurrency: 64 }) });
  process.stdout.write(`${server.port}\n`);
  process.once("SIGTERM", () => void server.close().then(() => process.exit(0)));
} else {
  const server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (body += c));
    req.on("end", () => {
      const { query } = JSON.parse(body) as { query: string[] };
      const text = JSON.stringify({ rewards: query.map(() => 7) });
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
      res.end(text);
    });
  });
  server.listen(0, "127.0.0.1", () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
  process.once("SIGTERM", () => server.close(() => process.exit(0)));
}
