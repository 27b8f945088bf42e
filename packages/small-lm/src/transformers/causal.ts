import type { LoadedModel } from "./load";
import type { TeacherForcedLogits } from "./seq2seq";
import { ids64, ModelSessions, type OrtTensor } from "./session";

export interface CausalShape {
  eosTokenId: number;
  padTokenId: number;
}

/** A decoding session over left-padded prompts. */
export interface CausalSession {
  /** Feeds the tokens chosen last step (none on the first call); returns next-token logits [rows, vocab]. */
  next(previous: number[] | undefined): Promise<{ logits: Float32Array; vocab: number }>;
}

/** Drives a decoder-only ONNX model (`onnx/model.onnx`, transformers.js cache names `past_key_values.{i}.key/value`). */
export class CausalRunner {
  readonly shape: CausalShape;
  readonly sessions: ModelSessions;

  constructor(readonly loaded: LoadedModel) {
    const eos = loaded.config.eos_token_id;
    const eosId = Array.isArray(eos) ? Number(eos[0]) : Number(eos ?? 0);
    const pad = loaded.config.pad_token_id;
    this.shape = { eosTokenId: eosId, padTokenId: typeof pad === "number" ? pad : eosId };
    this.sessions = new ModelSessions(loaded);
  }

  /**
   * One forward pass. `rows` are token rows padded on the left to `width`, with `lengths[r]` real
   * tokens before any cached ones; positions count real tokens only (HF's cumsum(mask) - 1).
   */
  private async forward(
    rows: number[][],
    realBefore: number[],
    paddedBefore: number[],
    cache: Record<string, OrtTensor> | undefined,
  ): Promise<{ logits: OrtTensor; cache: Record<string, OrtTensor> }> {
    const s = this.sessions;
    const n = rows.length;
    const width = Math.max(1, ...rows.map((r) => r.length));
    const pastWidth = cache ? ((Object.values(cache)[0]?.dims[2] as number | undefined) ?? 0) : 0;
    const total = pastWidth + width;
    const mask = new BigInt64Array(n * total);
    const positions = new BigInt64Array(n * width).fill(1n);
    rows.forEach((row, r) => {
      // cached part: padding first, then real tokens
      for (let i = paddedBefore[r] as number; i < pastWidth; i++) mask[r * total + i] = 1n;
      const pad = width - row.length;
      for (let i = 0; i < row.length; i++) {
        mask[r * total + pastWidth + pad + i] = 1n;
        positions[r * width + pad + i] = BigInt((realBefore[r] as number) + i);
      }
    });
    const out = await s.run("model", {
      input_ids: s.tensor("int64", ids64(rows, width, this.shape.padTokenId, true), [n, width]),
      attention_mask: s.tensor("int64", mask, [n, total]),
      position_ids: s.tensor("int64", positions, [n, width]),
      ...(cache ?? s.emptyPast("model", n)),
    });
    const logits = out.logits;
    if (logits === undefined) throw new Error(`model ${this.loaded.spec}: no logits output`);
    const next: Record<string, OrtTensor> = {};
    for (const [name, t] of Object.entries(out)) {
      if (name.startsWith("present")) next[name.replace("present", "past_key_values")] = t;
    }
    return { logits, cache: next };
  }

  begin(prompts: number[][], useCache: boolean): CausalSession {
    const histories = prompts.map((p) => [...p]);
    const width = Math.max(1, ...prompts.map((p) => p.length));
    const padded = prompts.map((p) => width - p.length);
    let cache: Record<string, OrtTensor> | undefined;
    const last = (logits: OrtTensor) => {
      const [rows = 0, w = 0, vocab = 0] = logits.dims;
      const data = logits.data as Float32Array;
      const out = new Float32Array(rows * vocab);
      for (let r = 0; r < rows; r++)
        out.set(data.subarray((r * w + w - 1) * vocab, (r * w + w) * vocab), r * vocab);
      return { logits: out, vocab };
    };
    return {
      next: async (previous) => {
        for (const [r, t] of (previous ?? []).entries()) (histories[r] as number[]).push(t);
        if (!useCache || previous === undefined) {
          const zeros = histories.map(() => 0);
          const out = await this.forward(histories, zeros, zeros, undefined);
          if (useCache) cache = out.cache;
          return last(out.logits);
        }
        const out = await this.forward(
          previous.map((t) => [t]),
          histories.map((h) => h.length - 1),
          padded,
          cache,
        );
        cache = out.cache;
        return last(out.logits);
      },
    };
  }

  /** One pass over prompt + target (right-padded); logits at prompt_len - 1 + t predict target[t]. */
  async teacherForced(inputs: number[][], targets: number[][]): Promise<TeacherForcedLogits> {
    const rows = inputs.map((p, r) => [...p, ...(targets[r] as number[]).slice(0, -1)]);
    const width = Math.max(1, ...rows.map((r) => r.length));
    // Left padding keeps the forward() contract; shift offsets by the padding of each row.
    const zeros = rows.map(() => 0);
    const out = await this.forward(rows, zeros, zeros, undefined);
    const vocab = out.logits.dims[2] as number;
    return {
      data: out.logits.data as Float32Array,
      vocab,
      offset: (r, t) =>
        (r * width + (width - (rows[r] as number[]).length) + (inputs[r] as number[]).length - 1 + t) * vocab,
    };
  }
}
