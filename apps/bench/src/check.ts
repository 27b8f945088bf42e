import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { didYouMean, type Example, errorMessage, parseModelId } from "@lmcot/core";
import { DataFetchError, dataDir, findSource, loadSample } from "@lmcot/datasets";
import { batchUnsupported, getModel } from "@lmcot/llm";
import { getRationaleModel, isLocalSpec, rationaleBackends, smallLmEnv } from "@lmcot/small-lm";
import type { BenchConfig } from "./config";
import { loadExamples, openExamples } from "./data";
import { parseLarge } from "./large";

/** What a bench config would run into, found without calling a model. */
export interface BenchCheck {
  /** Each one stops the run: an unknown provider, a missing key or model folder, a sample too large. */
  errors: string[];
  warnings: string[];
  /** The examples of each dataset that loaded (by dataset name). */
  examples: Map<string, Example[]>;
  /**
   * For a dry run on a split not yet downloaded: the bundled sample stands in for it, and each of
   * its examples counts this many times (the split's size over the sample's).
   */
  scale: Map<string, number>;
}

export interface CheckOptions {
  env?: NodeJS.ProcessEnv;
  /** A dry run prices a split missing from the cache from the bundled sample (with a warning). */
  dryRun?: boolean;
  /**
   * Keep each dataset's examples in `examples` (default true), for an estimate; false reads them
   * through to check them and keeps nothing, as a run's check before the run should.
   */
  keepExamples?: boolean;
}

/** A large LM id: a known provider that can be built from the environment (its key variable set). */
function checkLarge(id: string, env: NodeJS.ProcessEnv, batch: boolean): string | undefined {
  try {
    const model = getModel(id, { env });
    const unsupported = batch ? batchUnsupported(model) : undefined;
    if (unsupported) return `large ${id}: --batch: ${unsupported}`;
    return undefined;
  } catch (error) {
    return `large ${id}: ${errorMessage(error)}`;
  }
}

/** A transformers.js model: a local folder holding config.json, or a hub id found locally or downloadable. */
function checkTransformers(label: string, spec: string): string | undefined {
  if (isLocalSpec(spec)) {
    const folder = resolve(spec);
    if (!existsSync(folder) || !statSync(folder).isDirectory())
      return `small ${label}: no such folder: ${spec}`;
    if (!existsSync(join(folder, "config.json")))
      return `small ${label}: ${spec} is not a model folder (no config.json); train one with lmcot train kd`;
    return undefined;
  }
  if (existsSync(join(smallLmEnv.localModelPath, spec, "config.json")) || smallLmEnv.allowRemoteModels)
    return undefined;
  return `small ${label}: ${spec} is not in ${smallLmEnv.localModelPath} and downloads are off (HF_HUB_OFFLINE / LMCOT_OFFLINE)`;
}

async function checkSmall({ id, label }: BenchConfig["small"][number]): Promise<string | undefined> {
  try {
    const { provider, model } = parseModelId(id);
    const known = rationaleBackends();
    if (!known.includes(provider))
      return `small ${label}: unknown backend ${provider} in "${id}"${didYouMean(provider, known) || `; known: ${known.join(", ")}`}`;
    if (provider === "transformers") return checkTransformers(label, model);
    await (await getRationaleModel(id)).dispose?.();
    return undefined;
  } catch (error) {
    return `small ${label}: ${errorMessage(error)}`;
  }
}

/**
 * Checks everything a bench run needs that can be checked without calling a model: each provider
 * and backend is known, hosted providers have their key variable, small-model folders exist,
 * dataset files read, and each `sample` is available. Lists every problem, not just the first.
 */
export async function checkBench(config: BenchConfig, options: CheckOptions = {}): Promise<BenchCheck> {
  const env = options.env ?? process.env;
  const check: BenchCheck = { errors: [], warnings: [], examples: new Map(), scale: new Map() };
  const note = (problem: string | undefined) => problem && check.errors.push(problem);
  for (const id of new Set(config.large.map((l) => parseLarge(l).id)))
    note(checkLarge(id, env, config.batch));
  if (config.methods.includes("lm-guided")) for (const small of config.small) note(await checkSmall(small));
  for (const entry of config.datasets) {
    try {
      const load = {
        allowSmaller: config.allowSmaller,
        download: config.download,
        onWarning: (w: string) => check.warnings.push(w),
      };
      if (options.keepExamples === false) await openExamples(entry, load);
      else check.examples.set(entry.name, await loadExamples(entry, load));
    } catch (error) {
      const standIn =
        options.dryRun && DataFetchError.is(error, "dataset_missing") && (await standInFor(entry));
      if (standIn) {
        check.examples.set(entry.name, standIn.examples);
        check.scale.set(entry.name, standIn.scale);
        check.warnings.push(standIn.warning);
      }
      // Still a problem: the run itself needs the split.
      note(`datasets: ${errorMessage(error)}`);
    }
  }
  return check;
}

/** The bundled sample, scaled to the size of a split that is not downloaded (its size from the registry). */
async function standInFor(entry: BenchConfig["datasets"][number]) {
  const id = `${entry.name}:${entry.source}`;
  const source = await findSource(id, dataDir()).catch(() => undefined);
  const size = entry.sample ?? source?.examples;
  if (!size || entry.split !== "all") return undefined;
  const examples = await loadSample(entry.name);
  return {
    examples,
    scale: size / examples.length,
    warning: `${id} is not downloaded: the estimate below scales the bundled sample (${examples.length} questions) to its ${size.toLocaleString("en-US")}`,
  };
}
