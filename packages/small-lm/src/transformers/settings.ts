import { defaultModelsDir } from "./models-dir";

export type TransformersDtype = "fp32" | "fp16" | "q8" | "q4";

/**
 * Where and how the transformers.js backend finds models. One object for the whole process, like
 * transformers.js's own `env`; `getRationaleModel(id, options)` may override fields per model.
 */
export interface TransformersSettings {
  /** Folder holding hub-id models as `<dir>/<org>/<name>`. Default: `$LMCOT_MODELS_DIR` or `./models`. */
  localModelPath: string;
  /** Fetch hub ids that are not under `localModelPath`. Default true unless `$HF_HUB_OFFLINE=1` or `$LMCOT_OFFLINE=1`. */
  allowRemoteModels: boolean;
  /** Where downloaded files are cached. Default: `$LMCOT_CACHE_DIR` or transformers.js's default. */
  cacheDir?: string;
  /** Hub base URL (a mirror). Default: `$HF_ENDPOINT` (huggingface_hub's variable), else transformers.js's (https://huggingface.co/). */
  remoteHost?: string;
  /** Weights precision; picks the ONNX file suffix (fp32: none, fp16: `_fp16`, q8: `_quantized`, q4: `_q4`). Default: `$LMCOT_DTYPE` or fp32. */
  dtype: TransformersDtype;
  /** Upper bound for loading a model, downloads included; a load that takes longer fails. Default 120 s. */
  loadTimeoutMs: number;
  /** Browsers: `webgpu` or `wasm`. Default: WebGPU when the browser has an adapter, else wasm. Node runs on the CPU. */
  device?: "webgpu" | "wasm";
  /**
   * Browsers: where onnxruntime-web's `.mjs` and `.wasm` files are served, a folder URL or both files'
   * URLs. Set it to the page's own path: by default transformers.js fetches them from a CDN.
   */
  wasmPaths?: string | { mjs: string; wasm: string };
  /** Told as the model's files download and load (transformers.js's progress events). */
  onProgress?: (event: LoadProgress) => void;
}

/** A transformers.js progress event: a file starting, progressing (bytes, percent) or done, then `ready`. */
export interface LoadProgress {
  status: string;
  file?: string;
  loaded?: number;
  total?: number;
  progress?: number;
}

const truthy = (v: string | undefined) => v === "1" || v?.toLowerCase() === "true";
// Browsers and workers have no process environment.
const env: Record<string, string | undefined> =
  (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};

/** The process-wide settings. Change fields directly, or pass overrides to `getRationaleModel`. */
export const smallLmEnv: TransformersSettings = {
  localModelPath: defaultModelsDir(env.LMCOT_MODELS_DIR),
  allowRemoteModels: !(truthy(env.HF_HUB_OFFLINE) || truthy(env.LMCOT_OFFLINE)),
  cacheDir: env.LMCOT_CACHE_DIR,
  remoteHost: env.HF_ENDPOINT || undefined,
  dtype: (env.LMCOT_DTYPE || "fp32") as TransformersDtype,
  loadTimeoutMs: 120_000,
};

export const DTYPE_SUFFIX: Record<TransformersDtype, string> = {
  fp32: "",
  fp16: "_fp16",
  q8: "_quantized",
  q4: "_q4",
};

/** The dtypes this backend can load; anything else is refused before a file is read. */
export const DTYPES = Object.keys(DTYPE_SUFFIX) as TransformersDtype[];
