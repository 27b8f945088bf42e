import type { WeightTensor } from "@lmcot/model-writer";
import { loadMoments, momentTensors, type OptimizerConfig, type OptimizerState } from "../optim";
import type { AdamwFeeds } from "./session";

/**
 * AdamW's state for the onnxruntime engine: the moments as Float32Arrays that the graph's fused
 * update (`adamwUpdate`) writes in place. Checkpoints hold the same `m.<name>` / `v.<name>` tensors
 * as `AdamW.state()`, so either engine resumes the other's run.
 */
export class HostAdamW implements OptimizerState {
  readonly m = new Map<string, Float32Array>();
  readonly v = new Map<string, Float32Array>();
  step = 0;

  constructor(
    readonly config: OptimizerConfig,
    private readonly shapes: Map<string, number[]>,
  ) {
    for (const [name, shape] of shapes) {
      const size = shape.reduce((a, b) => a * b, 1);
      this.m.set(name, new Float32Array(size));
      this.v.set(name, new Float32Array(size));
    }
  }

  /** The feeds of the next step at `lr` (advances `step`). */
  next(lr: number): AdamwFeeds {
    const c = this.config;
    this.step += 1;
    return {
      m: this.m,
      v: this.v,
      lr,
      beta1: c.beta1,
      beta2: c.beta2,
      epsilon: c.epsilon,
      bias1: 1 - c.beta1 ** this.step,
      bias2: 1 - c.beta2 ** this.step,
      decay: 1 - lr * c.weightDecay,
      maxGradNorm: c.maxGradNorm,
    };
  }

  state(): Map<string, WeightTensor> {
    return momentTensors(this.m, this.v, (name, data) => ({
      data,
      shape: this.shapes.get(name) as number[],
    }));
  }

  load(state: Map<string, WeightTensor>, step: number): void {
    loadMoments(this.m, this.v, state, (data, saved) => data.set(saved.data));
    this.step = step;
  }
}
