import type { Example } from "@lmcot/core";
import { checkSampleName, qaOnlyExample, type SampleName } from "./sample-files";
import { readAll, readRawRecords } from "./web-read";

// Written out one by one so bundlers (Vite, webpack, esbuild with a loader) see each file and serve it.
const URLS: Record<SampleName, () => URL> = {
  hotpotqa: () => new URL("../assets/data/hotpotqa_dev_sample.jsonl", import.meta.url),
  "2wikimultihopqa": () => new URL("../assets/data/2wiki_dev_sample.jsonl", import.meta.url),
  "2wikimultihopqa-qa": () => new URL("../assets/data/2wiki_dev_qa_only.jsonl", import.meta.url),
};

/** Where a bundled sample is served from, next to this module (the bundler copies it). */
export function sampleUrl(name: SampleName): URL {
  checkSampleName(name);
  return URLS[name]();
}

/**
 * Loads a bundled sample with `fetch` (the same samples as on Node: 57 HotpotQA distractor dev
 * records, CC BY-SA 4.0; 2 full 2WikiMultiHopQA dev records and 1,000 2Wiki questions with aliases
 * and no context, Apache-2.0).
 */
export async function loadSample(name: SampleName): Promise<Example[]> {
  const url = sampleUrl(name);
  if (name !== "2wikimultihopqa-qa") return readAll(url);
  const out: Example[] = [];
  for await (const raw of readRawRecords(url)) out.push(qaOnlyExample(raw));
  return out;
}
