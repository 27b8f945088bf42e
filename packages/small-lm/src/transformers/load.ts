import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { BadRequestError, ModelNotFoundError } from "@lmcot/core";
import type { InferenceSession, OrtTensor } from "./session";
import { DTYPE_SUFFIX, DTYPES, type TransformersSettings } from "./settings";

type TransformersModule = typeof import("@huggingface/transformers");

/** The one-line install of the optional peer, skipping onnxruntime-node's CUDA download. */
export const TRANSFORMERS_INSTALL =
  "npm install @huggingface/transformers@^4.3.2 --onnxruntime-node-install=skip";

let transformersPromise: Promise<TransformersModule> | undefined;

/**
 * transformers.js (and onnxruntime-node under it) is an optional peer dependency, imported on first
 * use only; when it is not installed the error says how to install it.
 */
export function loadTransformers(): Promise<TransformersModule> {
  transformersPromise ??= import("@huggingface/transformers").catch((error: unknown) => {
    transformersPromise = undefined;
    const { code, message } = error as { code?: string; message?: string };
    const missing = /MODULE_NOT_FOUND/.test(code ?? "") && /@huggingface\/transformers/.test(message ?? "");
    if (!missing) throw error;
    throw new ModelNotFoundError(
      `the transformers backend needs @huggingface/transformers, which is not installed; run \`${TRANSFORMERS_INSTALL}\``,
      { provider: "transformers", cause: error },
    );
  });
  return transformersPromise;
}

export type ModelKind = "seq2seq" | "causal";

/** The tokenizer calls the runners make (transformers.js's `PreTrainedTokenizer`). */
export interface ModelTokenizer {
  encode(text: string, options?: { add_special_tokens?: boolean }): number[];
  decode(ids: number[], options?: { skip_special_tokens?: boolean }): string;
  readonly model_max_length?: number;
}

/** The model as the runners use it: its ONNX sessions (transformers.js's `PreTrainedModel`). */
export interface SessionModel {
  readonly sessions: Record<string, InferenceSession>;
  dispose(): Promise<unknown>;
}

/** A model and tokenizer loaded through transformers.js, plus what the runners need from config.json. */
export interface LoadedModel {
  /** What the user asked for: a folder path or a hub id. */
  spec: string;
  /** The local folder the files came from, when loaded locally. */
  folder?: string;
  kind: ModelKind;
  config: Record<string, unknown>;
  generationConfig: Record<string, unknown>;
  tokenizer: ModelTokenizer;
  model: SessionModel;
  /** onnxruntime tensors, made the way transformers.js makes them. */
  tensor(type: string, data: OrtTensor["data"], dims: number[]): OrtTensor;
}

const SEQ2SEQ_TYPES = new Set(["t5", "mt5", "bart", "mbart", "marian", "pegasus", "longt5"]);

/** `./x`, `../x`, `/x`, `~/x`, `C:\x` are folders; `org/name` is a hub id unless that folder exists. */
export function isLocalSpec(spec: string): boolean {
  return (
    /^(\.{1,2}[\\/]|[\\/]|~[\\/]|[A-Za-z]:[\\/])/.test(spec) ||
    spec === "." ||
    existsSync(join(spec, "config.json"))
  );
}

let envDefaults: { cacheDir: string | null; remoteHost: string } | undefined;
let queue: Promise<unknown> = Promise.resolve();
const TIMED_OUT = Symbol("timed out");

/**
 * transformers.js keeps paths in a global `env`: loads run one at a time so they don't see each
 * other's settings. A load that exceeds `ms` rejects with TIMED_OUT and frees the queue (the stuck
 * download is abandoned, not awaited).
 */
function serialised<T>(ms: number, task: () => Promise<T>): Promise<T> {
  const bounded = () => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(TIMED_OUT), ms);
    });
    return Promise.race([task(), timeout]).finally(() => clearTimeout(timer));
  };
  const run = queue.then(bounded, bounded);
  queue = run.catch(() => undefined);
  return run;
}

async function readJson(file: string): Promise<Record<string, unknown>> {
  try {
    return JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
  } catch (error) {
    throw new ModelNotFoundError(`cannot read ${file}: ${(error as Error).message}`, {
      provider: "transformers",
      cause: error,
    });
  }
}

function requiredFiles(kind: ModelKind, suffix: string): string[] {
  const onnx =
    kind === "seq2seq"
      ? [`onnx/encoder_model${suffix}.onnx`, `onnx/decoder_model_merged${suffix}.onnx`]
      : [`onnx/model${suffix}.onnx`];
  return ["config.json", "tokenizer.json", ...onnx];
}

function notFound(
  spec: string,
  where: string,
  settings: TransformersSettings,
  reason?: string,
): ModelNotFoundError {
  const hub = !isLocalSpec(spec);
  const how = hub
    ? `download it with \`git clone https://huggingface.co/${spec} ${where}\` (it needs the onnx/ folder), ` +
      `or set LMCOT_MODELS_DIR / smallLmEnv.localModelPath to the folder that holds ${spec}` +
      (settings.allowRemoteModels
        ? ""
        : ", or allow downloads (allowRemoteModels: true, unset HF_HUB_OFFLINE)")
    : "write one with `npx tsx tooling/scripts/make-fixture-model.ts <dir>` or export a model there (config.json, tokenizer.json, onnx/)";
  return new ModelNotFoundError(
    `model ${spec} not found in ${where}${reason ? ` (${reason})` : ""}; ${how}`,
    { provider: "transformers" },
  );
}

/**
 * Loads a model folder (or hub id) with transformers.js: local folders never touch the network;
 * hub ids are read from `localModelPath/<id>` when present, otherwise downloaded when allowed, and
 * the whole load is bounded by `loadTimeoutMs`.
 */
export async function loadModel(spec: string, settings: TransformersSettings): Promise<LoadedModel> {
  if (!DTYPES.includes(settings.dtype)) {
    throw new BadRequestError(
      `dtype "${settings.dtype}" is not one of ${DTYPES.join(", ")} (set by the dtype option, smallLmEnv.dtype or $LMCOT_DTYPE)`,
      { provider: "transformers" },
    );
  }
  const local = isLocalSpec(spec);
  const folder = local
    ? resolve(spec.replace(/^~(?=[\\/])/, process.env.HOME ?? "~"))
    : join(settings.localModelPath, spec);
  const present = existsSync(join(folder, "config.json"));
  if (!present && (local || !settings.allowRemoteModels)) {
    throw notFound(spec, folder, settings, local ? "no config.json" : "downloads are off");
  }
  let kind: ModelKind | undefined;
  if (present) {
    const config = await readJson(join(folder, "config.json"));
    kind = SEQ2SEQ_TYPES.has(String(config.model_type)) ? "seq2seq" : "causal";
    const suffix = DTYPE_SUFFIX[settings.dtype];
    const missing = requiredFiles(kind, suffix).filter((f) => !existsSync(join(folder, f)));
    if (missing.length > 0) {
      throw new ModelNotFoundError(
        `model ${spec} in ${folder} is missing ${missing.join(", ")}` +
          (suffix ? ` (dtype ${settings.dtype}; use dtype fp32 or add the ${settings.dtype} files)` : ""),
        { provider: "transformers" },
      );
    }
  }
  const transformers = await loadTransformers();
  const { env } = transformers;
  envDefaults ??= { cacheDir: env.cacheDir, remoteHost: env.remoteHost };
  const defaults = envDefaults;
  const load = serialised(settings.loadTimeoutMs, async () => {
    env.allowLocalModels = true;
    env.localModelPath = present ? `${dirname(folder)}/` : `${settings.localModelPath}/`;
    env.allowRemoteModels = !present && settings.allowRemoteModels;
    env.cacheDir = settings.cacheDir ?? defaults.cacheDir;
    env.remoteHost = settings.remoteHost ?? defaults.remoteHost;
    const name = present ? basename(folder) : spec;
    const options = { local_files_only: present, dtype: settings.dtype } as const;
    const config = (await transformers.AutoConfig.from_pretrained(name, options)) as unknown as Record<
      string,
      unknown
    >;
    const modelKind = kind ?? (SEQ2SEQ_TYPES.has(String(config.model_type)) ? "seq2seq" : "causal");
    const tokenizer = await transformers.AutoTokenizer.from_pretrained(name, options);
    const Auto =
      modelKind === "seq2seq" ? transformers.AutoModelForSeq2SeqLM : transformers.AutoModelForCausalLM;
    const model = await Auto.from_pretrained(name, { ...options, device: "cpu" });
    return { config, tokenizer, model, kind: modelKind };
  });
  let loaded: Awaited<typeof load>;
  try {
    loaded = await load;
  } catch (error) {
    if (error === TIMED_OUT) {
      throw notFound(spec, folder, settings, `loading did not finish within ${settings.loadTimeoutMs} ms`);
    }
    if (ModelNotFoundError.isInstance(error)) throw error;
    const reason = (error as Error).message?.split("\n")[0] ?? String(error);
    if (present) {
      throw new ModelNotFoundError(`model ${spec} in ${folder} could not be loaded: ${reason}`, {
        provider: "transformers",
        cause: error,
      });
    }
    const e = notFound(spec, folder, settings, `download failed: ${reason}`);
    (e as { cause?: unknown }).cause = error;
    throw e;
  }
  const generationConfig =
    present && existsSync(join(folder, "generation_config.json"))
      ? await readJson(join(folder, "generation_config.json"))
      : {};
  return {
    spec,
    folder: present ? folder : undefined,
    kind: loaded.kind,
    config: loaded.config,
    generationConfig,
    tokenizer: loaded.tokenizer,
    model: loaded.model as unknown as SessionModel,
    tensor: (type, data, dims) =>
      new transformers.Tensor(type as "float32", data, dims).ort_tensor as OrtTensor,
  };
}
