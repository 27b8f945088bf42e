import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { readSafetensors, type WeightTensor, writeSafetensors } from "@lmcot/model-writer";
import type { OptimizerState } from "./optim";
import { saveT5 } from "./t5/folder";
import type { SavableT5 } from "./t5/host";
import type { Tokenizer } from "./tokenizer";

/*
 * <out>/checkpoints/step-<n>/ holds config.json, tokenizer, model.safetensors, optimizer.safetensors,
 * extra.safetensors (e.g. the value head) and trainer_state.json. <out>/checkpoints/latest names the
 * newest complete one; it is replaced by rename only after that folder is fully written, so a kill at
 * any moment leaves a loadable checkpoint.
 */

export interface CheckpointContents<S> {
  model: SavableT5;
  tokenizer: Tokenizer;
  optimizer: OptimizerState;
  state: S;
  extra?: Map<string, WeightTensor>;
}

export async function saveCheckpoint<S extends { step: number }>(
  out: string,
  c: CheckpointContents<S>,
  keep = 2,
): Promise<string> {
  const root = join(out, "checkpoints");
  const name = `step-${c.state.step}`;
  const dir = join(root, name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await saveT5(dir, c.model, c.tokenizer);
  await writeSafetensors(join(dir, "optimizer.safetensors"), c.optimizer.state());
  if (c.extra !== undefined) await writeSafetensors(join(dir, "extra.safetensors"), c.extra);
  await writeFile(
    join(dir, "trainer_state.json"),
    `${JSON.stringify({ ...c.state, optimizerStep: c.optimizer.step }, null, 2)}\n`,
  );
  await writeFile(join(root, "latest.tmp"), name);
  await rename(join(root, "latest.tmp"), join(root, "latest"));
  const old = (await readdir(root))
    .filter((d) => /^step-\d+$/.test(d))
    .map((d) => Number(d.slice(5)))
    .sort((a, b) => b - a)
    .slice(keep);
  for (const step of old) await rm(join(root, `step-${step}`), { recursive: true, force: true });
  return dir;
}

/** The newest complete checkpoint folder under `out`, or undefined when there is none. */
export async function latestCheckpoint(out: string): Promise<string | undefined> {
  try {
    const name = (await readFile(join(out, "checkpoints", "latest"), "utf8")).trim();
    return join(out, "checkpoints", name);
  } catch {
    return undefined;
  }
}

export async function readCheckpointState<S>(dir: string): Promise<S & { optimizerStep: number }> {
  return JSON.parse(await readFile(join(dir, "trainer_state.json"), "utf8")) as S & { optimizerStep: number };
}

export async function restoreOptimizer(dir: string, optimizer: OptimizerState, step: number): Promise<void> {
  optimizer.load(await readSafetensors(join(dir, "optimizer.safetensors")), step);
}

export async function readExtra(dir: string): Promise<Map<string, WeightTensor>> {
  return readSafetensors(join(dir, "extra.safetensors"));
}
