import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { ReproduceConfig } from "./config";
import { lmcotCommand } from "./run-command";

/** Where the user puts the checkpoint an external trainer made: `<stage folder>/checkpoint`. */
export const checkpointDir = (stageDir: string) => join(stageDir, "checkpoint");

/** A Hugging Face checkpoint: config.json and weights (safetensors or a PyTorch bin). */
export function hasCheckpoint(dir: string): boolean {
  if (!existsSync(join(dir, "config.json"))) return false;
  return readdirSync(dir).some((f) => /\.safetensors$|^pytorch_model.*\.bin$/.test(f));
}

/** The folder transformers.js loads for a Hugging Face checkpoint, made by `lmcot export onnx`. */
export async function exportOnnx(checkpoint: string, to: string): Promise<string> {
  const { code } = await lmcotCommand(["export", "onnx", checkpoint, "--out", to]);
  if (code !== 0) throw new Error(`lmcot export onnx ${checkpoint} --out ${to} failed (exit ${code})`);
  return to;
}

const q = (path: string) => JSON.stringify(resolve(path));

function kdRecipe(
  config: ReproduceConfig,
  distillDir: string,
  out: string,
): { run: string; files: Record<string, string> } {
  const base = String(config.train.kd.model ?? "google/flan-t5-small");
  if (config.train.engine === "openrlhf") {
    const command = `deepspeed --module openrlhf.cli.train_sft --pretrain ${base} --dataset ${q(join(distillDir, "sft-trl.jsonl"))} --input_key prompt --output_key completion --save_path ${q(out)}`;
    return { run: command, files: { "train_kd.sh": `#!/usr/bin/env bash\nset -euo pipefail\n${command}\n` } };
  }
  const script = `# KD (step 1 of the paper) with Hugging Face transformers; written by lmcot reproduce.
from datasets import load_dataset
from transformers import AutoTokenizer, AutoModelForSeq2SeqLM, DataCollatorForSeq2Seq, Seq2SeqTrainer, Seq2SeqTrainingArguments

tok = AutoTokenizer.from_pretrained(${JSON.stringify(base)})
model = AutoModelForSeq2SeqLM.from_pretrained(${JSON.stringify(base)})
data = load_dataset("json", data_files=${q(join(distillDir, "seq2seq.jsonl"))})["train"]
data = data.map(lambda b: {**tok(b["source"], max_length=1024, truncation=True),
                           "labels": tok(text_target=b["target"], max_length=256, truncation=True)["input_ids"]},
                batched=True, remove_columns=["source", "target"])
args = Seq2SeqTrainingArguments("kd-run", learning_rate=3e-4, per_device_train_batch_size=8, num_train_epochs=3)
Seq2SeqTrainer(model=model, args=args, train_dataset=data, data_collator=DataCollatorForSeq2Seq(tok, model)).train()
model.save_pretrained(${q(out)}); tok.save_pretrained(${q(out)})
`;
  return { run: `python ${q(join(out, "..", "train_kd.py"))}`, files: { "train_kd.py": script } };
}

function rlRecipe(config: ReproduceConfig, distillDir: string, policy: string, out: string) {
  const preset = String(config.train.rl.preset ?? "paper");
  const serve = `lmcot rewards serve --large ${config.large} --judge ${config.judge} --preset ${preset} --port 5000`;
  const prompts = q(join(distillDir, "rl-prompts.jsonl"));
  if (config.train.engine === "openrlhf") {
    const command = `python -m openrlhf.cli.train_ppo_ray --pretrain ${q(policy)} --remote_rm_url http://127.0.0.1:5000/get_reward --prompt_data ${prompts} --input_key prompt --label_key label --init_kl_coef 0.05 --save_path ${q(out)}`;
    return {
      serve,
      run: command,
      files: { "train_ppo.sh": `#!/usr/bin/env bash\nset -euo pipefail\n${command}\n` },
    };
  }
  const script = `# PPO-style RL (step 2 of the paper) with TRL against lmcot's reward server; written by lmcot reproduce.
# First, in another shell: ${serve}
import os, requests
from datasets import load_dataset
from trl import GRPOConfig, GRPOTrainer

def lmcot_reward(prompts, completions, label, **kwargs):
    r = requests.post("http://127.0.0.1:5000/get_reward", timeout=600,
                      headers={"Authorization": "Bearer " + os.environ.get("LMCOT_REWARD_TOKEN", "")},
                      json={"query": [p + c for p, c in zip(prompts, completions)], "prompts": prompts, "labels": label})
    r.raise_for_status()
    return r.json()["rewards"]

data = load_dataset("json", data_files=${prompts})["train"]
trainer = GRPOTrainer(model=${q(policy)}, reward_funcs=lmcot_reward, train_dataset=data, args=GRPOConfig(output_dir="rl-run", beta=0.05))
trainer.train()
trainer.save_model(${q(out)})
`;
  return { serve, run: `python ${q(join(out, "..", "train_ppo.py"))}`, files: { "train_ppo.py": script } };
}

/**
 * Writes the recipe of a stage an external engine trains (KD or PPO) into its folder, with a
 * HANDOFF.md, and returns the message reproduce stops with (exit 3).
 */
export function writeHandoff(
  stage: "kd" | "rl",
  config: ReproduceConfig,
  paths: { stageDir: string; distillDir: string; policy?: string },
  rerun: string,
): string {
  const out = checkpointDir(paths.stageDir);
  const recipe =
    stage === "kd"
      ? { serve: undefined, ...kdRecipe(config, paths.distillDir, out) }
      : rlRecipe(config, paths.distillDir, paths.policy ?? "", out);
  for (const [name, text] of Object.entries(recipe.files)) writeFileSync(join(paths.stageDir, name), text);
  const steps = [
    ...(recipe.serve ? [`start the reward server: ${recipe.serve}`] : []),
    `train: ${recipe.run}`,
    `put the trained Hugging Face checkpoint (config.json, *.safetensors, tokenizer files) in ${out}`,
    `run again: ${rerun} — it converts the checkpoint with lmcot export onnx and goes on`,
  ];
  const text = `The ${stage === "kd" ? "KD" : "PPO"} stage is handed off to ${config.train.engine} (train.engine).\n${steps.map((s, i) => `  ${i + 1}. ${s}`).join("\n")}`;
  writeFileSync(join(paths.stageDir, "HANDOFF.md"), `# ${stage} hand-off\n\n${text}\n`);
  return text;
}
