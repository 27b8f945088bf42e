import type { LoadedModel } from "./load";

/** The onnxruntime tensor as transformers.js hands it around (`Tensor.ort_tensor`). */
export interface OrtTensor {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: Float32Array | BigInt64Array | Uint8Array | Int32Array;
  dispose?(): void;
}

interface InferenceSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
}

/**
 * Direct access to a transformers.js model's ONNX sessions. The generation loop drives the sessions
 * itself (own sampler, own cache handling), using transformers.js only for loading.
 */
export class ModelSessions {
  private readonly sessions: Record<string, InferenceSession>;

  constructor(private readonly loaded: LoadedModel) {
    this.sessions = (loaded.model as unknown as { sessions: Record<string, InferenceSession> }).sessions;
  }

  session(name: string): InferenceSession {
    const s = this.sessions[name];
    if (s === undefined) throw new Error(`model ${this.loaded.spec} has no ${name} session`);
    return s;
  }

  tensor(type: "float32" | "int64" | "bool", data: OrtTensor["data"], dims: number[]): OrtTensor {
    const { Tensor } = this.loaded.transformers;
    return (new Tensor(type, data as never, dims) as unknown as { ort_tensor: OrtTensor }).ort_tensor;
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
