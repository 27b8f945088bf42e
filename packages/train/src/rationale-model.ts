import type {
  RationaleGenerateOptions,
  RationaleModel,
  RationaleOutput,
  ScoredSequence,
  ScoreRequest,
} from "@lmcot/core";
import { seededRandom } from "@lmcot/core";
import { tf, useWasmBackend } from "./backend";
import { loadT5 } from "./t5/folder";
import { teacherForced } from "./t5/forward";
import { decode } from "./t5/generate";
import type { T5Model } from "./t5/model";
import type { Tokenizer } from "./tokenizer";

export interface TrainedModelLimits {
  /** Inputs longer than this are cut on the right (default 512). */
  maxInputTokens?: number;
  /** Default `maxNewTokens` (64). */
  maxNewTokens?: number;
  /** Sequences per forward pass (default 8). */
  batchSize?: number;
}

/**
 * The in-process T5 as a `RationaleModel` (id `train:<folder>`): generation with per-token log-probs
 * and teacher-forced scoring, on the same tensors the trainers update.
 */
export class TrainedRationaleModel implements RationaleModel {
  readonly specificationVersion = "v1" as const;

  constructor(
    readonly id: string,
    readonly model: T5Model,
    readonly tokenizer: Tokenizer,
    private readonly limits: TrainedModelLimits = {},
  ) {}

  static async load(folder: string, limits?: TrainedModelLimits): Promise<TrainedRationaleModel> {
    await useWasmBackend();
    const { model, tokenizer } = await loadT5(folder, false);
    return new TrainedRationaleModel(`train:${folder}`, model, tokenizer, limits);
  }

  encodeInput(text: string): number[] {
    return this.tokenizer.encode(text, this.limits.maxInputTokens ?? 512);
  }

  async generate(inputs: string[], options: RationaleGenerateOptions = {}): Promise<RationaleOutput[]> {
    await useWasmBackend();
    const n = options.numReturnSequences ?? 1;
    const sampling = (options.temperature ?? 0) > 0 || options.doSample === true;
    const random = seededRandom(options.seed ?? 0);
    const expanded = inputs.flatMap((text, i) =>
      Array.from({ length: n }, () => ({ i, ids: this.encodeInput(text) })),
    );
    const outputs: RationaleOutput[] = [];
    const size = this.limits.batchSize ?? 8;
    for (let start = 0; start < expanded.length; start += size) {
      const chunk = expanded.slice(start, start + size);
      const decoded = decode(
        this.model,
        chunk.map((c) => c.ids),
        {
          maxNewTokens: options.maxNewTokens ?? this.limits.maxNewTokens ?? 64,
          temperature: sampling ? (options.temperature ?? 1) || 1 : 0,
          topK: options.topK,
          topP: options.topP,
          random,
          signal: options.signal,
        },
      );
      decoded.forEach((d, j) => {
        const c = chunk[j] as { i: number; ids: number[] };
        outputs.push({
          text: this.tokenizer.decode(d.tokenIds),
          inputIndex: c.i,
          finishReason: d.finishReason,
          ...(options.returnLogprobs ? { tokenIds: d.tokenIds, logprobs: d.logprobs } : {}),
          usage: { inputTokens: c.ids.length, outputTokens: d.tokenIds.length },
        });
      });
    }
    return outputs;
  }

  async scoreLogprobs(
    items: ScoreRequest[],
    options: { signal?: AbortSignal } = {},
  ): Promise<ScoredSequence[]> {
    await useWasmBackend();
    const out: ScoredSequence[] = [];
    const size = this.limits.batchSize ?? 8;
    for (let start = 0; start < items.length; start += size) {
      options.signal?.throwIfAborted();
      const chunk = items.slice(start, start + size);
      const inputs = chunk.map((it) => this.encodeInput(it.input));
      const targets = chunk.map((it) => this.tokenizer.encode(it.output));
      const rows = tf
        .tidy(() => teacherForced(this.model, inputs, targets).logprobs)
        .arraySync() as number[][];
      targets.forEach((t, j) => {
        const logprobs = (rows[j] as number[]).slice(0, t.length);
        out.push({ tokenIds: t, logprobs, total: logprobs.reduce((a, b) => a + b, 0) });
      });
    }
    return out;
  }

  async dispose(): Promise<void> {
    this.model.dispose();
  }
}
