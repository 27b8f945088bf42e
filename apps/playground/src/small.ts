import { type LoadProgress, TransformersRationaleModel } from "@lmcot/small-lm";
import ortMjs from "onnxruntime-web-dist/ort-wasm-simd-threaded.asyncify.mjs?url";
import ortWasm from "onnxruntime-web-dist/ort-wasm-simd-threaded.asyncify.wasm?url";

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

/** The small LM on transformers.js in this page: a folder the page serves (`./models/x`) or a hub id. */
export function smallModel(spec: string, device: Device, onProgress: (e: LoadProgress) => void) {
  const local = /^(\.{0,2}\/|https?:\/\/)/.test(spec);
  return new TransformersRationaleModel(local ? new URL(spec, document.baseURI).pathname : spec, {
    device,
    wasmPaths: ortFiles(),
    onProgress,
    localModelPath: new URL("models", document.baseURI).pathname,
    batchSize: 1,
  });
}
