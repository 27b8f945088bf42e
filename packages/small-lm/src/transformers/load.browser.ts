import { BadRequestError, ModelNotFoundError } from "@lmcot/core";
import type { LoadedModel, ModelKind, SessionModel } from "./load";
import type { OrtTensor } from "./session";
import { DTYPE_SUFFIX, DTYPES, type TransformersSettings } from "./settings";

// The browser build's load.ts: model folders are URLs the page serves (or hub ids), read with fetch;
// transformers.js runs on WebGPU when the browser has an adapter, else on wasm, and keeps the
// downloaded files in Cache Storage.

type TransformersModule = typeof import("@huggingface/transformers");

export const TRANSFORMERS_INSTALL = "npm install @huggingface/transformers@^4.3.2";

let transformersPromise: Promise<TransformersModule> | undefined;

export function loadTransformers(): Promise<TransformersModule> {
  transformersPromise ??= import("@huggingface/transformers").catch((error: unknown) => {
    transformersPromise = undefined;
    throw new ModelNotFoundError(
      `the transformers backend needs @huggingface/transformers in your bundle: ${TRANSFORMERS_INSTALL}`,
      { provider: "transformers", cause: error },
    );
  });
  return transformersPromise;
}

/** `/x`, `./x`, `../x` and `http(s)://…` are folders the page can fetch; `org/name` is a hub id. */
export function isLocalSpec(spec: string): boolean {
  return /^(\.{0,2}\/|https?:\/\/)/.test(spec);
}

const SEQ2SEQ_TYPES = new Set(["t5", "mt5", "bart", "mbart", "marian", "pegasus", "longt5"]);

/**
 * The folder's JSON file; undefined when the server has none (an error status, or a page instead of
 * JSON, as single-page servers answer any path); an error naming the URL when it cannot be fetched.
 */
async function fetchJson(url: URL, spec: string): Promise<Record<string, unknown> | undefined> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new ModelNotFoundError(`model ${spec}: cannot fetch ${url} (${(error as Error).message})`, {
      provider: "transformers",
      cause: error,
    });
  }
  if (!response.ok || /html/.test(response.headers.get("content-type") ?? "")) return undefined;
  try {
    return (await response.json()) as Record<string, unknown>;
  } catch (error) {
    throw new ModelNotFoundError(`model ${spec}: ${url} is not JSON`, {
      provider: "transformers",
      cause: error,
    });
  }
}

async function pickDevice(settings: TransformersSettings): Promise<"webgpu" | "wasm"> {
  if (settings.device) return settings.device;
  const gpu = (globalThis.navigator as { gpu?: { requestAdapter(): Promise<unknown> } } | undefined)?.gpu;
  const adapter = await gpu?.requestAdapter().catch(() => null);
  return adapter ? "webgpu" : "wasm";
}

/**
 * Loads a model the page serves (`/models/tiny-t5`, `./models/x`, a full URL) or a hub id
 * (`Xenova/flan-t5-small`, from `localModelPath/<id>` when the page has it, else downloaded when
 * allowed), bounded by `loadTimeoutMs`.
 */
export async function loadModel(spec: string, settings: TransformersSettings): Promise<LoadedModel> {
  if (!DTYPES.includes(settings.dtype))
    throw new BadRequestError(`dtype "${settings.dtype}" is not one of ${DTYPES.join(", ")}`, {
      provider: "transformers",
    });
  const base = globalThis.location?.href;
  const local = isLocalSpec(spec);
  const folder = new URL(
    `${local ? spec : `${settings.localModelPath}/${spec}`}/`.replace(/\/+$/, "/"),
    base,
  );
  const config = await fetchJson(new URL("config.json", folder), spec);
  if (!config && (local || !settings.allowRemoteModels))
    throw new ModelNotFoundError(
      `model ${spec} not found at ${folder} (no config.json)${local ? "" : "; downloads are off (allowRemoteModels: false)"}`,
      { provider: "transformers" },
    );
  const transformers = await loadTransformers();
  const { env } = transformers;
  const onnx = env.backends.onnx as { wasm?: { wasmPaths?: unknown } };
  if (settings.wasmPaths !== undefined && onnx.wasm) onnx.wasm.wasmPaths = settings.wasmPaths;
  env.useBrowserCache = true;
  env.allowLocalModels = config !== undefined;
  env.allowRemoteModels = config === undefined;
  // A path on the page's origin: transformers.js checks a local file's presence only by path, not by URL.
  const parent = new URL("..", folder);
  env.localModelPath = parent.origin === globalThis.location?.origin ? parent.pathname : parent.href;
  if (settings.remoteHost) env.remoteHost = settings.remoteHost;
  const name = config ? (folder.pathname.split("/").filter(Boolean).pop() ?? spec) : spec;
  const device = await pickDevice(settings);
  const options = {
    local_files_only: config !== undefined,
    dtype: settings.dtype,
    ...(settings.onProgress ? { progress_callback: settings.onProgress } : {}),
  } as const;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ModelNotFoundError(`model ${spec} did not load within ${settings.loadTimeoutMs} ms`)),
      settings.loadTimeoutMs,
    );
  });
  const load = async () => {
    const loadedConfig = (config ?? (await transformers.AutoConfig.from_pretrained(name, options))) as Record<
      string,
      unknown
    >;
    const kind: ModelKind = SEQ2SEQ_TYPES.has(String(loadedConfig.model_type)) ? "seq2seq" : "causal";
    const tokenizer = await transformers.AutoTokenizer.from_pretrained(name, options);
    const Auto = kind === "seq2seq" ? transformers.AutoModelForSeq2SeqLM : transformers.AutoModelForCausalLM;
    const model = await Auto.from_pretrained(name, { ...options, device });
    return { config: loadedConfig, kind, tokenizer, model };
  };
  try {
    const loaded = await Promise.race([load(), timeout]);
    const generationConfig = config
      ? ((await fetchJson(new URL("generation_config.json", folder), spec)) ?? {})
      : {};
    return {
      spec,
      folder: config ? folder.href : undefined,
      kind: loaded.kind,
      config: loaded.config,
      generationConfig,
      tokenizer: loaded.tokenizer,
      model: loaded.model as unknown as SessionModel,
      tensor: (type, data, dims) =>
        new transformers.Tensor(type as "float32", data, dims).ort_tensor as OrtTensor,
    };
  } catch (error) {
    if (ModelNotFoundError.isInstance(error)) throw error;
    const suffix = DTYPE_SUFFIX[settings.dtype];
    throw new ModelNotFoundError(
      `model ${spec} could not be loaded on ${device}${suffix ? ` (dtype ${settings.dtype})` : ""}: ${(error as Error).message?.split("\n")[0]}`,
      { provider: "transformers", cause: error },
    );
  } finally {
    clearTimeout(timer);
  }
}
