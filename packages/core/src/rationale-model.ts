import type { Usage } from "./language-model";

/** Decoding settings for the small model. Greedy unless `temperature > 0` (or `doSample`). */
export interface RationaleGenerateOptions {
  maxNewTokens?: number;
  /** 0 or unset means greedy decoding. */
  temperature?: number;
  topP?: number;
  topK?: number;
  /** Force sampling even at temperature 1 (HF semantics); implied by temperature > 0. */
  doSample?: boolean;
  /** Rationales per input (self-consistency, PPO rollouts). Default 1. */
  numReturnSequences?: number;
  /** Makes sampling reproducible: same seed, same inputs, same outputs. */
  seed?: number;
  /** Also return the log-prob of each chosen token. */
  returnLogprobs?: boolean;
  signal?: AbortSignal;
}

/** One generated rationale. */
export interface RationaleOutput {
  text: string;
  /** Index into the `inputs` array this output belongs to. */
  inputIndex: number;
  tokenIds?: number[];
  /** Log-prob of each token in `tokenIds` under the sampling distribution's model (before temperature). */
  logprobs?: number[];
  finishReason?: "stop" | "length";
  usage?: Usage;
}

/** A rationale to score under teacher forcing. */
export interface ScoreRequest {
  input: string;
  output: string;
}

/** Teacher-forced per-token log-probs of `output` given `input`. */
export interface ScoredSequence {
  tokenIds: number[];
  logprobs: number[];
  /** Sum of `logprobs`. */
  total: number;
}

/**
 * The small model (M_S in the paper) that writes rationales. Backends: transformers.js, an
 * OpenAI-compatible server (vLLM, TGI, llama.cpp), the in-process trainer's model, offline stand-ins.
 */
export interface RationaleModel {
  readonly specificationVersion: "v1";
  /** `backend:model`, e.g. `transformers:./models/flan-t5-small`. */
  readonly id: string;
  /**
   * Generate rationales for a batch. Returns `inputs.length × numReturnSequences` outputs,
   * input-major (all sequences of input 0 first), each tagged with its `inputIndex`.
   */
  generate(inputs: string[], options?: RationaleGenerateOptions): Promise<RationaleOutput[]>;
  /** Teacher-forced per-token log-probs of each output given its input (needed by PPO). */
  scoreLogprobs(items: ScoreRequest[], options?: { signal?: AbortSignal }): Promise<ScoredSequence[]>;
  /** Release native resources (ONNX sessions). */
  dispose?(): Promise<void>;
}
