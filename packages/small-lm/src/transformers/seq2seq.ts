import type { LoadedModel } from "./load";
import { ids64, ModelSessions, mask64, type OrtTensor } from "./session";

/** Special token ids from config.json the encoder-decoder runner needs. */
export interface Seq2SeqShape {
  decoderStartTokenId: number;
  padTokenId: number;
  eosTokenId: number;
}

export function seq2seqShape(config: Record<string, unknown>): Seq2SeqShape {
  const id = (key: string, fallback: number): number => {
    const v = config[key];
    const first = Array.isArray(v) ? v[0] : v;
    return typeof first === "number" ? first : fallback;
  };
  const pad = id("pad_token_id", 0);
  return {
    decoderStartTokenId: id("decoder_start_token_id", pad),
    padTokenId: pad,
    eosTokenId: id("eos_token_id", 1),
  };
}

/** Encoder output for a batch, with the mask it was computed under. */
export interface EncodedBatch {
  hidden: OrtTensor;
  mask: OrtTensor;
  rows: number;
  /** Unpadded input lengths. */
  lengths: number[];
}

/** Logits of a teacher-forced pass: `offset(row, t)` is where the distribution over target token t starts. */
export interface TeacherForcedLogits {
  data: Float32Array;
  vocab: number;
  offset(row: number, t: number): number;
}

/** The decoder's key/value cache as the merged decoder's `past_key_values.*` feeds. */
export type KvCache = Record<string, OrtTensor>;

/** Drives a T5-style encoder + merged decoder through their ONNX sessions. */
export class Seq2SeqRunner {
  readonly shape: Seq2SeqShape;
  readonly sessions: ModelSessions;

  constructor(readonly loaded: LoadedModel) {
    this.shape = seq2seqShape(loaded.config);
    this.sessions = new ModelSessions(loaded);
  }

  async encode(inputs: number[][]): Promise<EncodedBatch> {
    const width = Math.max(1, ...inputs.map((r) => r.length));
    const lengths = inputs.map((r) => r.length);
    const s = this.sessions;
    const ids = s.tensor("int64", ids64(inputs, width, this.shape.padTokenId), [inputs.length, width]);
    const mask = s.tensor("int64", mask64(lengths, width), [inputs.length, width]);
    const out = await s.run("model", { input_ids: ids, attention_mask: mask });
    const hidden = out.last_hidden_state;
    if (hidden === undefined)
      throw new Error(`model ${this.loaded.spec}: encoder has no last_hidden_state output`);
    return { hidden, mask, rows: inputs.length, lengths };
  }

  /** Repeats each encoded row `n` times in place order (row 0 ×n, then row 1 ×n, …). */
  repeat(batch: EncodedBatch, n: number): EncodedBatch {
    if (n === 1) return batch;
    const tile = <T extends Float32Array | BigInt64Array>(data: T, dims: readonly number[]): T => {
      const per = dims.slice(1).reduce((a, b) => a * b, 1);
      const out = new (data.constructor as new (n: number) => T)(data.length * n);
      for (let r = 0; r < batch.rows; r++) {
        const row = data.subarray(r * per, (r + 1) * per);
        for (let k = 0; k < n; k++) out.set(row as never, (r * n + k) * per);
      }
      return out;
    };
    const s = this.sessions;
    const hd = batch.hidden.dims;
    const md = batch.mask.dims;
    return {
      hidden: s.tensor("float32", tile(batch.hidden.data as Float32Array, hd), [
        batch.rows * n,
        ...hd.slice(1),
      ]),
      mask: s.tensor("int64", tile(batch.mask.data as BigInt64Array, md), [batch.rows * n, ...md.slice(1)]),
      rows: batch.rows * n,
      lengths: batch.lengths.flatMap((l) => Array<number>(n).fill(l)),
    };
  }

  /**
   * One decoder pass over `tokens` ([rows, width], right-padded) after the cached positions.
   * Returns logits [rows, width, vocab] and the cache extended by these positions.
   */
  async decode(
    encoded: EncodedBatch,
    tokens: number[][],
    cache: KvCache | undefined,
  ): Promise<{ logits: Float32Array; width: number; vocab: number; cache: KvCache }> {
    const s = this.sessions;
    const width = Math.max(1, ...tokens.map((r) => r.length));
    const feeds: Record<string, OrtTensor> = {
      input_ids: s.tensor("int64", ids64(tokens, width, this.shape.padTokenId), [tokens.length, width]),
      encoder_attention_mask: encoded.mask,
      encoder_hidden_states: encoded.hidden,
      use_cache_branch: s.tensor("bool", new Uint8Array([cache === undefined ? 0 : 1]), [1]),
      ...(cache ?? s.emptyPast("decoder_model_merged", tokens.length)),
    };
    const out = await s.run("decoder_model_merged", feeds);
    const logits = out.logits;
    if (logits === undefined) throw new Error(`model ${this.loaded.spec}: decoder has no logits output`);
    const next: KvCache = {};
    for (const [name, tensor] of Object.entries(out)) {
      if (!name.startsWith("present.")) continue;
      const pastName = name.replace("present.", "past_key_values.");
      // Cross-attention keys/values do not change between steps: keep the first ones (as transformers.js does).
      next[pastName] =
        name.includes(".encoder.") && cache?.[pastName] ? (cache[pastName] as OrtTensor) : tensor;
    }
    return { logits: logits.data as Float32Array, width, vocab: logits.dims[2] as number, cache: next };
  }

  /** One encoder pass and one decoder pass over [start, target[0..n-2]] for the whole batch. */
  async teacherForced(inputs: number[][], targets: number[][]): Promise<TeacherForcedLogits> {
    const encoded = await this.encode(inputs);
    const start = this.shape.decoderStartTokenId;
    const out = await this.decode(
      encoded,
      targets.map((t) => [start, ...t.slice(0, -1)]),
      undefined,
    );
    return { data: out.logits, vocab: out.vocab, offset: (r, t) => (r * out.width + t) * out.vocab };
  }
}
