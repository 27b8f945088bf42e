import type {
  RationaleGenerateOptions,
  RationaleModel,
  RationaleOutput,
  ScoredSequence,
  ScoreRequest,
} from "@lmcot/core";
import type { LoadProgress } from "@lmcot/small-lm";
import ortMjs from "onnxruntime-web-dist/ort-wasm-simd-threaded.asyncify.mjs?url";
import ortWasm from "onnxruntime-web-dist/ort-wasm-simd-threaded.asyncify.wasm?url";
import type { WorkerReply, WorkerRequest } from "./small-protocol";

export type Device = "webgpu" | "wasm";

/** WebGPU when this browser gives an adapter, else wasm. */
export async function pickDevice(): Promise<Device> {
  const gpu = (navigator as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  return (await gpu?.requestAdapter().catch(() => null)) ? "webgpu" : "wasm";
}

/** onnxruntime-web's runtime, served by this page (vite.config.ts resolves it), never from a CDN. */
export function ortFiles(): { mjs: string; wasm: string } {
  const at = (url: string) => new URL(url, document.baseURI).href;
  return { mjs: at(ortMjs), wasm: at(ortWasm) };
}

/** The share of the model's bytes loaded so far, over every file transformers.js reported. */
export class LoadMeter {
  private readonly files = new Map<string, { loaded: number; total: number }>();

  update(event: LoadProgress): number | undefined {
    if (event.file && event.total)
      this.files.set(event.file, { loaded: event.loaded ?? 0, total: event.total });
    if (event.file && event.status === "done") {
      const f = this.files.get(event.file);
      if (f) f.loaded = f.total;
    }
    let loaded = 0;
    let total = 0;
    for (const f of this.files.values()) [loaded, total] = [loaded + f.loaded, total + f.total];
    return total > 0 ? loaded / total : undefined;
  }

  get bytes(): number {
    return [...this.files.values()].reduce((sum, f) => sum + f.total, 0);
  }
}

/**
 * The small LM on transformers.js in a worker of this page: a folder the page serves (`./models/x`)
 * or a hub id. A `RationaleModel` like any other, for core's methods.
 */
export class WorkerRationaleModel implements RationaleModel {
  readonly specificationVersion = "v1" as const;
  readonly id: string;
  private readonly worker = new Worker(new URL("./small-worker.ts", import.meta.url), { type: "module" });
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private next = 0;

  constructor(
    private readonly spec: string,
    private readonly device: Device,
    onProgress: (event: LoadProgress) => void,
  ) {
    this.id = `transformers:${spec}`;
    this.worker.onmessage = ({ data }: MessageEvent<WorkerReply>) => {
      if ("progress" in data) return onProgress(data.progress);
      const waiting = this.pending.get(data.id);
      this.pending.delete(data.id);
      if ("error" in data) waiting?.reject(new Error(data.error));
      else waiting?.resolve(data.value);
    };
  }

  private ask<T>(request: DistributiveOmit<WorkerRequest, "id">): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ ...request, id });
    });
  }

  load(): Promise<void> {
    const local = /^(\.{0,2}\/|https?:\/\/)/.test(this.spec);
    return this.ask({
      kind: "load",
      spec: local ? new URL(this.spec, document.baseURI).pathname : this.spec,
      options: {
        device: this.device,
        wasmPaths: ortFiles(),
        localModelPath: new URL("models", document.baseURI).pathname,
        batchSize: 1,
      },
    });
  }

  generate(inputs: string[], options: RationaleGenerateOptions = {}): Promise<RationaleOutput[]> {
    const { signal: _signal, ...rest } = options;
    return this.ask({ kind: "generate", inputs, options: rest });
  }

  scoreLogprobs(items: ScoreRequest[]): Promise<ScoredSequence[]> {
    return this.ask({ kind: "score", items });
  }

  async dispose(): Promise<void> {
    this.worker.terminate();
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
