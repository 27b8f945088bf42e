import type { Command } from "commander";

/** Each sub-command registers itself on the program; one file per command in this folder. */
export type RegisterCommand = (program: Command) => void;

/**
 * The sub-commands, each loaded only when it runs (or its help is shown), so a command pays only for
 * the packages it uses. `summary` is what `lmcot --help` lists; a test keeps it equal to the
 * command's own description.
 */
export interface CommandEntry {
  name: string;
  summary: string;
  load: () => Promise<RegisterCommand>;
}

export const commands: CommandEntry[] = [
  {
    name: "ask",
    summary: "answer one question with standard prompting, CoT prompting or LM-guided CoT",
    load: async () => (await import("./ask")).registerAsk,
  },
  {
    name: "eval",
    summary: "score predictions with the official HotpotQA / 2WikiMultiHopQA metrics (and 95% CIs)",
    load: async () => (await import("./eval")).registerEval,
  },
  {
    name: "models",
    summary: "list model providers, how they are configured, and which environment variables are set",
    load: async () => (await import("./models")).registerModels,
  },
  {
    name: "bench",
    summary: "run the paper's grid (standard vs CoT vs LM-guided CoT), resumably, and write reports",
    load: async () => (await import("./bench")).registerBench,
  },
  {
    name: "distill",
    summary:
      "rationale distillation (step 1): the teacher writes rationales; correct ones become training data",
    load: async () => (await import("./distill")).registerDistill,
  },
  {
    name: "rewards",
    summary:
      "the paper's rewards: task reward + eight rationale aspect rewards; a reward server for PPO engines",
    load: async () => (await import("./rewards")).registerRewards,
  },
  {
    name: "train",
    summary:
      "train the small LM in-process (CPU, no Python): kd = distillation, rl = PPO on the paper's rewards",
    load: async () => (await import("./train")).registerTrain,
  },
  {
    name: "export",
    summary:
      "turn a Hugging Face T5 / FLAN-T5 checkpoint (folder or hub id) into the ONNX folder transformers.js runs",
    load: async () => (await import("./export")).registerExport,
  },
  {
    name: "data",
    summary:
      "the full official datasets: list, download (verified, resumable, cached), locate and verify them",
    load: async () => (await import("./data")).registerData,
  },
  {
    name: "batch",
    summary: "the provider batches of a run made with --batch: list them, their live status, cancel them",
    load: async () => (await import("./batch")).registerBatch,
  },
  {
    name: "reproduce",
    summary:
      "the paper in one resumable command: distill → KD → PPO → the grid → rationale scores → one report",
    load: async () => (await import("./reproduce")).registerReproduce,
  },
  {
    name: "view",
    summary:
      "look at every question across methods: a local, read-only page over one or more run directories",
    load: async () => (await import("./view")).registerView,
  },
];
