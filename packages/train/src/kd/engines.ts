import type { T5Config, T5Weights } from "@lmcot/model-writer";
import { tf, useWasmBackend } from "../backend";
import { AdamW, accumulatedValueAndGrads, type OptimizerConfig, type OptimizerState } from "../optim";
import { HostAdamW } from "../ort/adamw";
import { loadOnnxRuntime, OrtT5, type T5RunInput } from "../ort/session";
import { crossEntropy } from "../t5/forward";
import { HostT5, type SavableT5 } from "../t5/host";
import { T5Model } from "../t5/model";

/** Where the KD step runs: onnxruntime-node (every core, fused AdamW) or tfjs's wasm backend. */
export type Engine = "onnxruntime" | "tfjs";

export type Encoded = { input: number[]; target: number[] };

/** One KD step's maths, and the state a checkpoint saves, on one engine. */
export interface KdEngine {
  readonly name: Engine;
  readonly model: SavableT5;
  readonly optimizer: OptimizerState;
  /**
   * One optimizer step over micro-batches whose target tokens sum to `targetTokens` (the loss is
   * the mean over them); dropout masks from `dropoutSeed`. Returns the loss and the gradient norm.
   */
  step(
    micro: Encoded[][],
    targetTokens: number,
    lr: number,
    dropoutSeed: number,
  ): Promise<{ loss: number; gradNorm: number }>;
  /** Mean token cross-entropy without dropout. */
  evalLoss(set: Encoded[], batchSize: number): Promise<number>;
  dispose(): Promise<void>;
}

export interface KdEngineOptions {
  config: T5Config;
  weights: T5Weights;
  source?: SavableT5["source"];
  optimizer: OptimizerConfig;
  dropoutRate: number;
  gradientCheckpointing: boolean;
}

/** `auto`: onnxruntime when onnxruntime-node loads here, else tfjs. */
export async function resolveEngine(engine: Engine | "auto"): Promise<Engine> {
  if (engine !== "auto") return engine;
  try {
    await loadOnnxRuntime();
    return "onnxruntime";
  } catch {
    return "tfjs";
  }
}

export async function createKdEngine(engine: Engine, o: KdEngineOptions): Promise<KdEngine> {
  return engine === "onnxruntime" ? OrtKdEngine.create(o) : TfjsKdEngine.create(o);
}

/** Seeds of the KD objective: d loss / d log p = −1 / (target tokens of the whole step) at each target token. */
function seeds(part: Encoded[], targetTokens: number): Float32Array {
  const t = Math.max(1, ...part.map((e) => e.target.length));
  const out = new Float32Array(part.length * t);
  part.forEach((e, i) => {
    out.fill(-1 / Math.max(1, targetTokens), i * t, i * t + e.target.length);
  });
  return out;
}

const sum = (xs: Float32Array) => xs.reduce((a, b) => a + b, 0);
const targetTokens = (chunk: Encoded[]) => chunk.reduce((a, e) => a + e.target.length, 0);

/** Mean token cross-entropy over `set`, from each chunk's summed loss. */
async function meanTokenLoss(
  set: Encoded[],
  batchSize: number,
  chunkLoss: (chunk: Encoded[]) => Promise<number>,
): Promise<number> {
  let total = 0;
  for (let i = 0; i < set.length; i += batchSize) total += await chunkLoss(set.slice(i, i + batchSize));
  return total / Math.max(1, targetTokens(set));
}

class OrtKdEngine implements KdEngine {
  readonly name = "onnxruntime";
  private readonly sessions = new Map<string, Promise<OrtT5>>();
  private acc?: Map<string, Float32Array>;

  private constructor(
    readonly model: HostT5,
    readonly optimizer: HostAdamW,
    private readonly dropoutRate: number,
  ) {}

  static async create(o: KdEngineOptions): Promise<OrtKdEngine> {
    await loadOnnxRuntime();
    const model = HostT5.from(o.config, o.weights, o.source);
    const shapes = new Map([...o.weights].map(([n, w]) => [n, w.shape]));
    return new OrtKdEngine(model, new HostAdamW(o.optimizer, shapes), o.dropoutRate);
  }

  /** Sessions by kind, built on first use: a plain step, the first/middle micro-batch of an accumulated one, its last, evaluation. */
  private session(kind: "update" | "first" | "middle" | "last" | "eval"): Promise<OrtT5> {
    let s = this.sessions.get(kind);
    if (s === undefined) {
      const train = kind !== "eval";
      s = OrtT5.create(
        { ...this.model.config, dropout_rate: this.dropoutRate },
        {
          backward: train,
          dropout: train && this.dropoutRate > 0,
          entropy: false,
          valueHead: false,
          accumulate: kind === "middle" || kind === "last",
          adamw: kind === "update" || kind === "last",
        },
      );
      this.sessions.set(kind, s);
    }
    return s;
  }

  async step(micro: Encoded[][], targetTokens: number, lr: number, dropoutSeed: number) {
    let loss = 0;
    let gradNorm = Number.NaN;
    for (let k = 0; k < micro.length; k++) {
      const part = micro[k] as Encoded[];
      const last = k === micro.length - 1;
      const kind = micro.length === 1 ? "update" : k === 0 ? "first" : last ? "last" : "middle";
      if (kind !== "update" && this.acc === undefined)
        this.acc = new Map([...this.model.params].map(([n, w]) => [n, new Float32Array(w.length)]));
      const input: T5RunInput = {
        inputs: part.map((e) => e.input),
        targets: part.map((e) => e.target),
        gradLogprobs: seeds(part, targetTokens),
        // one seed per micro-batch, so their masks differ
        dropoutSeed: (dropoutSeed + Math.imul(k, 0x9e3779b1)) >>> 0,
        ...(kind === "middle" || kind === "last" ? { acc: this.acc } : {}),
        ...(kind === "first" || kind === "middle" ? { gradsInto: this.acc } : {}),
        ...(last ? { adamw: this.optimizer.next(lr) } : {}),
      };
      const out = await (await this.session(kind)).run(this.model.params, input);
      loss -= sum(out.logprobs) / Math.max(1, targetTokens);
      if (last) gradNorm = out.gradNorm as number;
    }
    return { loss, gradNorm };
  }

  async evalLoss(set: Encoded[], batchSize: number): Promise<number> {
    const session = await this.session("eval");
    return meanTokenLoss(set, batchSize, async (chunk) => {
      const out = await session.run(this.model.params, {
        inputs: chunk.map((e) => e.input),
        targets: chunk.map((e) => e.target),
      });
      return -sum(out.logprobs);
    });
  }

  async dispose(): Promise<void> {
    for (const s of this.sessions.values()) await (await s).release();
    this.sessions.clear();
  }
}

class TfjsKdEngine implements KdEngine {
  readonly name = "tfjs";

  private constructor(
    readonly model: T5Model,
    readonly optimizer: AdamW,
    private readonly dropoutRate: number,
  ) {}

  static async create(o: KdEngineOptions): Promise<TfjsKdEngine> {
    await useWasmBackend();
    const model = new T5Model(o.config, o.weights);
    if (o.source !== undefined) model.source = o.source;
    model.recompute = o.gradientCheckpointing;
    return new TfjsKdEngine(model, new AdamW(o.optimizer, model.params), o.dropoutRate);
  }

  async step(micro: Encoded[][], targetTokens: number, lr: number, dropoutSeed: number) {
    const model = this.model;
    const { value, grads } = model.withDropout(
      dropoutSeed,
      () =>
        accumulatedValueAndGrads(
          model.params,
          micro.map(
            (part) => () =>
              crossEntropy(
                model,
                part.map((b) => b.input),
                part.map((b) => b.target),
                targetTokens,
              ),
          ),
        ),
      this.dropoutRate,
    );
    const gradNorm = this.optimizer.apply(grads, lr);
    tf.dispose([...grads.values()]);
    return { loss: value, gradNorm };
  }

  async evalLoss(set: Encoded[], batchSize: number): Promise<number> {
    return meanTokenLoss(set, batchSize, async (chunk) => {
      const loss = crossEntropy(
        this.model,
        chunk.map((b) => b.input),
        chunk.map((b) => b.target),
      );
      const mean = loss.dataSync()[0] as number;
      loss.dispose();
      return mean * targetTokens(chunk);
    });
  }

  async dispose(): Promise<void> {
    this.optimizer.dispose();
    this.model.dispose();
  }
}
