import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createModel } from "@lmcot/llm";
import { type BatchServer, batchServer } from "@lmcot/llm/testing";
import { getRationaleModel } from "@lmcot/small-lm";
import { afterEach, describe, expect, it } from "vitest";
import {
  type BenchConfigInput,
  buildReportData,
  type ModelResolver,
  parseConfig,
  runBench,
} from "../src/index";

const KEY = "sk-test-benchbatch0123456789abcd";
let server: BatchServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Large ids through the loopback batch server; the small LM is the offline selector. */
const resolver = (s: BatchServer): ModelResolver => ({
  large: (id, { batch } = {}) =>
    createModel(id, {
      apiKey: KEY,
      baseURL: id.startsWith("openai:") ? s.openaiBaseURL : s.anthropicBaseURL,
      ...(batch ? { batch } : {}),
    }),
  small: (id) => getRationaleModel(id),
});

/** A fresh loopback server, and a batched grid of `grid` writing to a new run directory. */
async function batchGrid(grid: BenchConfigInput) {
  const s = await batchServer({ apiKey: KEY });
  server = s;
  const out = join(mkdtempSync(join(tmpdir(), "lmcot-bench-batch-")), "run");
  return {
    server: s,
    out,
    config: parseConfig({ ...grid, batch: true, batchPoll: 0.01, cache: false, out }),
  };
}

describe("runBench with batch: true", () => {
  it("splits a grid larger than one batch's limit, runs both providers' cells at once, and reports the batches", async () => {
    const { server, out, config } = await batchGrid({
      large: ["openai:gpt-4o-mini", "anthropic:claude-3-5-haiku-latest"],
      datasets: [{ name: "hotpotqa", sample: 7 }],
      methods: ["standard", "lm-guided"],
    });
    const events: string[] = [];
    const result = await runBench(config, {
      resolver: resolver(server),
      batchLimits: { maxRequests: 5 },
      onBatchEvent: (e) => events.push(e.type),
    });
    expect(result.stopped).toBeUndefined();
    expect(result.cells.map((c) => c.progress.done)).toEqual([7, 7, 7, 7]);
    // 14 calls per model, at most 5 a batch: 3 batches each, submitted together, never one per cell.
    const byModel = (p: string) =>
      server.created.filter((b) => b.provider === p).map((b) => b.customIds.length);
    expect(byModel("openai")).toEqual([5, 5, 4]);
    expect(byModel("anthropic")).toEqual([5, 5, 4]);
    expect(result.batch?.stats).toMatchObject({ submitted: 6, requests: 28 });
    expect(result.batch?.running).toEqual([]);
    expect(events.filter((e) => e === "ended")).toHaveLength(6);
    const data = await buildReportData(out);
    expect(data.batches).toHaveLength(6);
    expect(data.batches?.every((b) => b.status === "completed" || b.status === "ended")).toBe(true);
    expect(readFileSync(join(out, "run.jsonl"), "utf8").trim().split("\n")).toHaveLength(28);
  });

  it("self-consistency: the k answers of every question go out in one batch, after every rationale", async () => {
    const { server, out, config } = await batchGrid({
      large: ["openai:gpt-4o-mini"],
      datasets: [{ name: "hotpotqa", sample: 6 }],
      methods: ["lm-guided"],
      selfConsistency: 3,
    });
    const result = await runBench(config, { resolver: resolver(server) });
    expect(result.cells[0]!.progress.done).toBe(6);
    expect(server.created).toHaveLength(1);
    const records = readFileSync(join(out, "run.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    // Identical samples are one request (one custom id); every distinct one is in the single batch.
    const distinct = new Set(
      records.flatMap((r) => r.samples.map((x: { rationale: string }) => `${r.exampleId}\0${x.rationale}`)),
    );
    expect(server.created[0]!.customIds.length).toBe(distinct.size);
    expect(records.every((r) => r.samples.length === 3)).toBe(true);
  });

  it("the small LM writes each rationale once: the item put off for its batch gets it back next round", async () => {
    const { server, config } = await batchGrid({
      large: ["openai:gpt-4o-mini"],
      datasets: [{ name: "hotpotqa", sample: 5 }],
      methods: ["lm-guided"],
      selfConsistency: 2,
    });
    const inputs: string[] = [];
    const counting: ModelResolver = {
      ...resolver(server),
      small: async (id) => {
        const model = await getRationaleModel(id);
        return {
          ...model,
          generate: (batch, options) => {
            inputs.push(...batch);
            return model.generate(batch, options);
          },
        };
      },
    };
    const result = await runBench(config, { resolver: counting });
    expect(result.cells[0]!.progress.done).toBe(5);
    expect(server.created).toHaveLength(1);
    // Two rounds (spill, then answer from the results): each question's rationale generated once.
    expect(inputs).toHaveLength(5);
    expect(new Set(inputs).size).toBe(5);
  });

  it("the budget is checked before each submission: a batch that could pass it is not sent", async () => {
    const { server, config } = await batchGrid({
      large: ["openai:gpt-4o-mini"],
      datasets: [{ name: "hotpotqa", sample: 7 }],
      methods: ["standard"],
      budget: 0.000001,
    });
    const result = await runBench(config, { resolver: resolver(server) });
    expect(result.stopped).toBe("budget");
    expect(result.budgetError?.message).toMatch(
      /could cost up to \$[\d.]+ at batch prices; it was not submitted/,
    );
    expect(server.created).toHaveLength(0);
  });
});
