import type { T5Config, T5Weights } from "@lmcot/model-writer";
import type { T5Folder } from "./folder";

/** What saving a T5 folder needs: `T5Model` (tfjs) and `HostT5` (weights in JS) both have it. */
export interface SavableT5 {
  readonly config: T5Config;
  source?: { rawConfig: Record<string, unknown>; generationConfig?: Record<string, unknown> };
  weights(): T5Weights;
}

/** A T5 whose weights are plain Float32Arrays (the onnxruntime engine feeds and updates them in place). */
export class HostT5 implements SavableT5 {
  source?: SavableT5["source"];

  constructor(
    readonly config: T5Config,
    readonly params: Map<string, Float32Array>,
    private readonly shapes: Map<string, number[]>,
  ) {}

  static from(config: T5Config, weights: T5Weights, source?: SavableT5["source"]): HostT5 {
    const host = new HostT5(
      config,
      new Map([...weights].map(([n, w]) => [n, w.data])),
      new Map([...weights].map(([n, w]) => [n, w.shape])),
    );
    if (source !== undefined) host.source = source;
    return host;
  }

  static fromFolder(read: T5Folder): HostT5 {
    return HostT5.from(read.config, read.weights, {
      rawConfig: read.rawConfig,
      ...(read.generationConfig ? { generationConfig: read.generationConfig } : {}),
    });
  }

  weights(): T5Weights {
    return new Map([...this.params].map(([n, data]) => [n, { data, shape: this.shapes.get(n) as number[] }]));
  }
}
