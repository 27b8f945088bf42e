import type { WeightTensor } from "@lmcot/model-writer";
import { z } from "zod";
import { type TF, tf } from "./backend";

export const optimizerConfigSchema = z.object({
  learningRate: z.number().positive().default(1e-3),
  beta1: z.number().min(0).max(1).default(0.9),
  beta2: z.number().min(0).max(1).default(0.999),
  epsilon: z.number().positive().default(1e-8),
  /** Decoupled (AdamW) weight decay; not applied to layer norms or position biases. */
  weightDecay: z.number().min(0).default(0.01),
  /** Global gradient-norm clip; 0 disables. */
  maxGradNorm: z.number().min(0).default(1),
  warmupSteps: z.number().int().min(0).default(0),
  schedule: z.enum(["constant", "linear", "cosine"]).default("linear"),
  /**
   * Where the two moments live: `wasm` beside the weights, or `js` (plain Float32Arrays, updated
   * in JS) to keep 8 bytes per parameter out of the wasm backend's 4 GiB heap — what lets
   * flan-t5-base (250 M parameters: 4 GB of weights + gradients + moments) train at all.
   */
  momentsIn: z.enum(["wasm", "js"]).default("wasm"),
});

export type OptimizerConfig = z.output<typeof optimizerConfigSchema>;

/** Learning-rate multiplier at `step` (0-based) of `total`: linear warmup, then constant / linear / cosine decay to 0. */
export function lrFactor(config: OptimizerConfig, step: number, total: number): number {
  if (config.warmupSteps > 0 && step < config.warmupSteps) return (step + 1) / config.warmupSteps;
  if (config.schedule === "constant") return 1;
  const span = Math.max(1, total - config.warmupSteps);
  const progress = Math.min(1, (step - config.warmupSteps) / span);
  return config.schedule === "linear" ? 1 - progress : 0.5 * (1 + Math.cos(Math.PI * progress));
}

/** Whether weight decay applies: not to layer norms or position biases. */
export const decays = (name: string) =>
  !name.includes("layer_norm") && !name.includes("relative_attention_bias");

/** What a checkpoint saves and restores of an optimizer (`AdamW`, or the onnxruntime engine's `HostAdamW`). */
export interface OptimizerState {
  step: number;
  state(): Map<string, WeightTensor>;
  load(state: Map<string, WeightTensor>, step: number): void;
}

/** The moments as a checkpoint holds them: `m.<name>` and `v.<name>`. */
export function momentTensors<T>(
  m: Map<string, T>,
  v: Map<string, T>,
  tensor: (name: string, moment: T) => WeightTensor,
): Map<string, WeightTensor> {
  const out = new Map<string, WeightTensor>();
  for (const [kind, map] of [
    ["m", m],
    ["v", v],
  ] as const)
    for (const [name, t] of map) out.set(`${kind}.${name}`, tensor(name, t));
  return out;
}

/** Sets each moment from a checkpoint's `m.<name>` / `v.<name>`; a missing one is an error naming it. */
export function loadMoments<T>(
  m: Map<string, T>,
  v: Map<string, T>,
  state: Map<string, WeightTensor>,
  set: (moment: T, saved: WeightTensor) => void,
): void {
  for (const [kind, map] of [
    ["m", m],
    ["v", v],
  ] as const)
    for (const [name, t] of map) {
      const saved = state.get(`${kind}.${name}`);
      if (saved === undefined) throw new Error(`optimizer state: missing ${kind}.${name}`);
      set(t, saved);
    }
}

/** AdamW (Loshchilov & Hutter) with global-norm clipping, over named tfjs variables. */
export class AdamW implements OptimizerState {
  private readonly m = new Map<string, TF.Variable | Float32Array>();
  private readonly v = new Map<string, TF.Variable | Float32Array>();
  step = 0;

  constructor(
    readonly config: OptimizerConfig,
    readonly parameters: Map<string, TF.Variable>,
  ) {
    for (const [name, p] of parameters)
      for (const map of [this.m, this.v])
        map.set(
          name,
          config.momentsIn === "js"
            ? new Float32Array(p.size)
            : tf.tidy(() => tf.variable(tf.zerosLike(p), false)),
        );
  }

  /**
   * Clips `grads` (keyed by parameter name) to `maxGradNorm`, applies one update at `lr`, and
   * returns the gradient norm before clipping. Parameters without a gradient are left alone; the
   * gradients are disposed as they are used.
   */
  apply(grads: Map<string, TF.Tensor>, lr: number): number {
    // One parameter at a time, each in its own scope, and each gradient freed once used: the
    // temporaries of a whole-model update would be several copies of the model at once.
    let squares = 0;
    for (const g of grads.values()) {
      const s = tf.tidy(() => tf.sum(tf.square(g)));
      squares += s.dataSync()[0] as number;
      s.dispose();
    }
    const norm = Math.sqrt(squares);
    const c = this.config;
    const scale = c.maxGradNorm > 0 && norm > c.maxGradNorm ? c.maxGradNorm / (norm + 1e-6) : 1;
    this.step += 1;
    const bias1 = 1 - c.beta1 ** this.step;
    const bias2 = 1 - c.beta2 ** this.step;
    for (const [name, g0] of grads) {
      const p = this.parameters.get(name);
      const m = this.m.get(name);
      const v = this.v.get(name);
      if (p === undefined || m === undefined || v === undefined)
        throw new Error(`AdamW: unknown parameter ${name}`);
      const decay = c.weightDecay > 0 && decays(name) ? 1 - lr * c.weightDecay : 1;
      if (m instanceof Float32Array && v instanceof Float32Array) {
        const g = g0.dataSync() as Float32Array;
        g0.dispose();
        const w = p.dataSync() as Float32Array;
        for (let i = 0; i < w.length; i++) {
          const gi = (g[i] as number) * scale;
          const mi = c.beta1 * (m[i] as number) + (1 - c.beta1) * gi;
          const vi = c.beta2 * (v[i] as number) + (1 - c.beta2) * gi * gi;
          m[i] = mi;
          v[i] = vi;
          w[i] = (w[i] as number) * decay - (lr * (mi / bias1)) / (Math.sqrt(vi / bias2) + c.epsilon);
        }
        tf.tidy(() => p.assign(tf.tensor(w, p.shape)));
        continue;
      }
      tf.tidy(() => {
        const mt = m as TF.Variable;
        const vt = v as TF.Variable;
        const g = scale === 1 ? g0 : tf.mul(g0, scale);
        mt.assign(tf.add(tf.mul(mt, c.beta1), tf.mul(g, 1 - c.beta1)));
        vt.assign(tf.add(tf.mul(vt, c.beta2), tf.mul(tf.square(g), 1 - c.beta2)));
        const update = tf.div(tf.div(mt, bias1), tf.add(tf.sqrt(tf.div(vt, bias2)), c.epsilon));
        p.assign(tf.sub(decay === 1 ? p : tf.mul(p, decay), tf.mul(update, lr)));
      });
      g0.dispose();
    }
    return norm;
  }

  /** Moments as tensors (`m.<name>`, `v.<name>`) for a checkpoint. */
  state(): Map<string, WeightTensor> {
    return momentTensors(this.m, this.v, (name, t) => ({
      data: t instanceof Float32Array ? t : (t.dataSync() as Float32Array),
      shape: [...(this.parameters.get(name) as TF.Variable).shape],
    }));
  }

  load(state: Map<string, WeightTensor>, step: number): void {
    loadMoments(this.m, this.v, state, (t, saved) => {
      if (t instanceof Float32Array) t.set(saved.data);
      else tf.tidy(() => t.assign(tf.tensor(saved.data, saved.shape)));
    });
    this.step = step;
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) if (!(t instanceof Float32Array)) t.dispose();
  }
}

/** The value of `loss` and its gradient for each named variable. */
export function valueAndGrads(
  params: Map<string, TF.Variable>,
  loss: () => TF.Scalar,
): { value: number; grads: Map<string, TF.Tensor> } {
  const byVariable = new Map([...params].map(([name, v]) => [v.name, name]));
  const { value, grads } = tf.variableGrads(loss, [...params.values()]);
  const out = new Map<string, TF.Tensor>();
  for (const [key, g] of Object.entries(grads)) out.set(byVariable.get(key) ?? key, g);
  const v = value.dataSync()[0] as number;
  value.dispose();
  return { value: v, grads: out };
}

/**
 * Gradient accumulation: the summed value and gradients of `losses`, run one after another so that
 * only one micro-batch's activations exist at a time. Each loss must already be scaled so that their
 * sum is the batch's loss.
 */
export function accumulatedValueAndGrads(
  params: Map<string, TF.Variable>,
  losses: readonly (() => TF.Scalar)[],
): { value: number; grads: Map<string, TF.Tensor> } {
  let value = 0;
  let sum: Map<string, TF.Tensor> | undefined;
  for (const loss of losses) {
    const part = valueAndGrads(params, loss);
    value += part.value;
    if (sum === undefined) sum = part.grads;
    else
      for (const [name, g] of part.grads) {
        const before = sum.get(name);
        sum.set(name, before === undefined ? g : tf.add(before, g));
        if (before !== undefined) tf.dispose([before, g]);
      }
  }
  return { value, grads: sum ?? new Map() };
}
