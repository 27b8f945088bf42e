import type { LoadedModel } from "./load";

/** The onnxruntime tensor as transformers.js hands it around (`Tensor.ort_tensor`). */
export interface OrtTensor {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: Float32Array | Uint16Array | BigInt64Array | Uint8Array | Int32Array;
  dispose?(): void;
}

/** What onnxruntime reports about a session input; dims are numbers or symbolic names. */
interface InputMetadata {
  readonly name: string;
  readonly type?: string;
  readonly shape?: readonly (number | string)[];
}

export interface InferenceSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata?: readonly InputMetadata[];
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
}

const EMPTY = { float32: Float32Array, float16: Uint16Array } as const;

/**
 * Direct access to a transformers.js model's ONNX sessions (`PreTrainedModel.sessions`). The generation loop drives the sessions
 * itself (own sampler, own cache handling), using transformers.js only for loading.
 */
export class ModelSessions {
  private readonly sessions: Record<string, InferenceSession>;

  constructor(private readonly loaded: LoadedModel) {
    this.sessions = loaded.model.sessions;
  }

  session(name: string): InferenceSession {
    const s = this.sessions[name];
    if (s === undefined) throw new Error(`model ${this.loaded.spec} has no ${name} session`);
    return s;
  }

  tensor(type: "float32" | "float16" | "int64" | "bool", data: OrtTensor["data"], dims: number[]): OrtTensor {
    return this.loaded.tensor(type, data, dims);
  }

  /**
   * Zero-length past keys/values for every `past_key_values.*` input of session `name`:
   * [rows, heads, 0, headDim], heads and headDim read from the graph, else from config.json.
   */
  emptyPast(name: string, rows: number): Record<string, OrtTensor> {
    const session = this.session(name);
    const declared = new Map((session.inputMetadata ?? []).map((m) => [m.name, m]));
    const fallback = attentionShape(this.loaded.config);
    const out: Record<string, OrtTensor> = {};
    for (const input of session.inputNames.filter((n) => n.startsWith("past_key_values."))) {
      const meta = declared.get(input);
      const [, heads, , headDim] = meta?.shape ?? [];
      const type = meta?.type === "float16" ? "float16" : "float32";
      out[input] = this.tensor(type, new EMPTY[type](0), [
        rows,
        typeof heads === "number" ? heads : fallback.heads,
        0,
        typeof headDim === "number" ? headDim : fallback.headDim,
      ]);
    }
    return out;
  }

  /** Runs `name` with the feeds its graph declares (extra feeds are dropped). */
  async run(name: string, feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>> {
    const session = this.session(name);
    const picked: Record<string, OrtTensor> = {};
    for (const input of session.inputNames) {
      const feed = feeds[input];
      if (feed === undefined)
        throw new Error(`model ${this.loaded.spec}: session ${name} needs input ${input}`);
      picked[input] = feed;
    }
    return session.run(picked);
  }
}

export function ids64(rows: number[][], width: number, pad: number, left = false): BigInt64Array {
  const out = new BigInt64Array(rows.length * width).fill(BigInt(pad));
  rows.forEach((row, r) => {
    const offset = left ? width - row.length : 0;
    row.forEach((id, i) => {
      out[r * width + offset + i] = BigInt(id);
    });
  });
  return out;
}

export function mask64(lengths: number[], width: number, left = false): BigInt64Array {
  const out = new BigInt64Array(lengths.length * width);
  lengths.forEach((n, r) => {
    const start = left ? width - n : 0;
    for (let i = start; i < start + n; i++) out[r * width + i] = 1n;
  });
  return out;
}

/** Key/value heads and head size from config.json (T5, GPT-2 and Llama-style names). */
export function attentionShape(config: Record<string, unknown>): { heads: number; headDim: number } {
  const n = (...keys: string[]) => keys.map((k) => config[k]).find((v): v is number => typeof v === "number");
  const heads = n("num_key_value_heads", "num_heads", "n_head", "num_attention_heads") ?? 1;
  const width = n("hidden_size", "n_embd", "d_model") ?? 0;
  const queryHeads = n("num_attention_heads", "n_head", "num_heads") ?? heads;
  return { heads, headDim: n("head_dim", "d_kv") ?? Math.floor(width / queryHeads) };
}
