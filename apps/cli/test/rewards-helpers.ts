import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { lmGuided } from "@lmcot/core";
import { loadSample } from "@lmcot/datasets";
import { createModel } from "@lmcot/llm";
import { getRationaleModel } from "@lmcot/small-lm";

/** A run file of `n` offline LM-guided predictions on the bundled HotpotQA sample, in `dir`. */
export async function runFile(dir: string, n = 3): Promise<string> {
  const examples = (await loadSample("hotpotqa")).slice(0, n);
  const large = createModel("extractive:reader", { retry: false });
  const small = await getRationaleModel("extractive:selector");
  const lines = [];
  for (const e of examples) lines.push(JSON.stringify(await lmGuided(e, { large, small })));
  const path = join(dir, "run.jsonl");
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
}

/** An OpenAI-compatible model id for a loopback server. */
export const modelAt = (url: string, name = "judge") => `openai-compatible:${url}/v1#${name}`;

/** Waits until `ready()` holds, checking every 20 ms. */
export async function until(ready: () => boolean): Promise<void> {
  while (!ready()) await new Promise((r) => setTimeout(r, 20));
}
