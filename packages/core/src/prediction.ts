import type { Usage } from "./language-model";

/** The three methods the paper compares. */
export type MethodName = "standard" | "cot" | "lm-guided";

/** One model call as it was made, so any prediction can be audited and replayed. */
export interface PromptRecord {
  /** What the call was for: the small LM's rationale, the large LM's answer, the teacher, a judge. */
  step: "rationale" | "answer" | "cot" | "teacher" | "judge";
  /** The model id that received it. */
  model: string;
  system?: string;
  prompt: string;
  /** The raw text that came back. */
  output: string;
  /** The reasoning text a reasoning model returned beside its reply (thinking, `reasoning_content`). */
  reasoning?: string;
  /** Tokens of this call (for a small-LM call: its share when several sequences came back at once). */
  usage?: Usage;
}

/** What a method produced for one example. */
export interface Prediction {
  method: MethodName;
  exampleId: string;
  dataset: string;
  /** The short answer extracted from the large LM's reply. */
  answer: string;
  /** The rationale used: the small LM's (lm-guided), the large LM's own (cot), none (standard). */
  rationale?: string;
  /** Self-consistency: every sampled rationale and the answer it led to (k > 1 only). */
  samples?: { rationale: string; answer: string }[];
  models: { large: string; small?: string };
  promptVersion: string;
  seed?: number;
  prompts: PromptRecord[];
  usage: { large: Usage; small?: Usage };
  costUsd: number;
  latencyMs: number;
  /** True when every large-LM call of this prediction was a cache hit. */
  cached?: boolean;
}
