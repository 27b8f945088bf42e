// One measured run of batch-scale.mjs: `lmcot bench --batch`'s library call (runBench) from the
// build at `impl`, over a synthetic dev file, against the loopback batch server in another process.
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [impl, file, out, cells, concurrency = "32"] = process.argv.slice(2);
const { parseConfig, runBench } = await import(pathToFileURL(resolve(impl)).href);
const wide = cells === "18";
const config = parseConfig({
  large: wide ? ["openai:gpt-4o-mini", "anthropic:claude-3-5-haiku-latest"] : ["openai:gpt-4o-mini"],
  seeds: wide ? [0, 1, 2] : [0],
  methods: wide ? ["standard", "cot", "lm-guided"] : ["standard", "cot"],
  datasets: [{ name: "hotpotqa", file }],
  batch: true,
  batchPoll: 0.05,
  concurrency: Number(concurrency),
  cache: false,
  out,
});
const started = performance.now();
const result = await runBench(config);
const ms = performance.now() - started;
const done = result.cells.reduce((n, c) => n + c.progress.done, 0);
process.stdout.write(
  JSON.stringify({
    ms,
    rssMb: process.resourceUsage().maxRSS / 1024,
    calls: result.batch?.stats.requests ?? 0,
    done,
    total: result.total,
    stopped: result.stopped ?? null,
  }),
);
