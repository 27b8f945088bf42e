import { createWriteStream, existsSync } from "node:fs";
import { mkdir, readFile, rename, rm } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  BadRequestError,
  callWithPolicy,
  LmcotError,
  linkedSignal,
  ModelNotFoundError,
  ServerError,
  TimeoutError,
  toLmcotError,
} from "@lmcot/core";
import {
  type ExportT5OnnxOptions,
  exportT5Onnx,
  readT5Checkpoint,
  SAFETENSORS_FILE,
  SAFETENSORS_INDEX_FILE,
  T5_TOKENIZER_FILES,
  type T5Checkpoint,
  type T5ExportResult,
} from "@lmcot/model-writer";
import { isLocalSpec, loadTransformers } from "./load";
import { smallLmEnv, type TransformersSettings } from "./settings";

const HUB = "https://huggingface.co/";
const HUB_ID = /^[A-Za-z0-9][\w.-]*(\/[\w.-]+)?$/;

/** The files of a Hugging Face T5 checkpoint besides its weights (fetched when the hub has them). */
const OPTIONAL_FILES = ["generation_config.json", ...T5_TOKENIZER_FILES];

/** transformers.js's cache folder (hub files live at `<cacheDir>/<org>/<name>/<file>` in both). */
async function cacheRoot(settings: TransformersSettings): Promise<string> {
  if (settings.cacheDir) return settings.cacheDir;
  const transformers = await loadTransformers().catch(() => undefined);
  return transformers?.env.cacheDir ?? join(homedir(), ".cache", "lmcot", "hub");
}

/** Hub request headers: the token of `HF_TOKEN` / `HF_ACCESS_TOKEN` for gated repos (never logged). */
function headers(): Record<string, string> {
  const token = process.env.HF_TOKEN ?? process.env.HF_ACCESS_TOKEN;
  return token ? { authorization: `Bearer ${token}` } : {};
}

/**
 * One attempt at downloading `url` to `file` (through a temporary file, so a cut download never looks
 * complete). Returns false on 404. Errors are typed for the call policy: a refused or reset
 * connection, a cut body, 5xx and 429 are retryable; no byte for `idleMs` is a TimeoutError.
 */
async function downloadOnce(
  url: string,
  file: string,
  idleMs: number,
  attempt: AbortSignal,
): Promise<boolean> {
  const idle = new AbortController();
  let timer = setTimeout(() => idle.abort(), idleMs);
  const alive = () => {
    clearTimeout(timer);
    timer = setTimeout(() => idle.abort(), idleMs);
  };
  const { signal, release } = linkedSignal([idle.signal, attempt]);
  const temp = `${file}.tmp.${process.pid}`;
  try {
    const response = await fetch(url, { headers: headers(), signal });
    if (response.status === 404) return false;
    if (!response.ok || response.body === null) {
      const gated = response.status === 401 || response.status === 403 ? " (a gated repo? set HF_TOKEN)" : "";
      const message = `HTTP ${response.status} for ${url}${gated}`;
      // A file host's error pages are not a wrong endpoint: its status is what counts (`error` set).
      throw toLmcotError(
        { status: response.status, headers: response.headers, message, error: { message } },
        "hub",
      );
    }
    await mkdir(dirname(file), { recursive: true });
    let bytes = 0;
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        alive();
        bytes += chunk.length;
        done(null, chunk);
      },
    });
    await pipeline(Readable.fromWeb(response.body as never), counted, createWriteStream(temp), { signal });
    const expected = Number(response.headers.get("content-length") ?? Number.NaN);
    if (Number.isFinite(expected) && expected !== bytes) {
      throw new ServerError(`hub: ${url}: download cut short (${bytes} of ${expected} bytes)`);
    }
    await rename(temp, file);
    return true;
  } catch (error) {
    await rm(temp, { force: true });
    if (LmcotError.isInstance(error) || attempt.aborted) throw error;
    if (idle.signal.aborted) throw new TimeoutError(`hub: ${url}: no data for ${idleMs} ms`);
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new ServerError(`hub: ${url}: download failed (${cause})`, { cause: error });
  } finally {
    clearTimeout(timer);
    release();
  }
}

/**
 * Downloads `url` to `file` under the call policy (retries with backoff for connection failures,
 * 5xx, 429 with retry-after; no per-attempt cap, since a large file takes long: a stall of `idleMs`
 * fails the attempt instead). Returns false on 404.
 */
function download(url: string, file: string, idleMs: number, signal?: AbortSignal): Promise<boolean> {
  return callWithPolicy((attempt) => downloadOnce(url, file, idleMs, attempt), DOWNLOAD_POLICY, {
    signal,
    label: url,
  });
}

const DOWNLOAD_POLICY = { retries: 4, timeoutMs: 0, totalTimeoutMs: 0 } as const;

/**
 * The local folder of a T5 checkpoint: a folder as given; a hub id from `localModelPath/<id>` when
 * there, else from the cache, downloading what is missing from `remoteHost` (the hub or a mirror):
 * config.json, generation_config.json, the tokenizer files, and `model.safetensors` or
 * `model.safetensors.index.json` with every shard it names. The same settings as the transformers
 * backend (`smallLmEnv`, overridden per call); `allowRemoteModels: false` never touches the network.
 */
export async function resolveCheckpoint(
  spec: string,
  overrides: Partial<TransformersSettings> = {},
  signal?: AbortSignal,
): Promise<string> {
  const settings = { ...smallLmEnv, ...overrides };
  if (isLocalSpec(spec)) return resolve(spec.replace(/^~(?=[\\/])/, process.env.HOME ?? "~"));
  if (!HUB_ID.test(spec)) {
    throw new BadRequestError(
      `"${spec}" is neither a folder with config.json nor a hub id like google/flan-t5-small`,
    );
  }
  const local = join(settings.localModelPath, spec);
  if (existsSync(join(local, "config.json"))) return local;
  if (!settings.allowRemoteModels) {
    throw new ModelNotFoundError(
      `checkpoint ${spec} not found in ${local} (downloads are off); download it with ` +
        `\`git clone https://huggingface.co/${spec} ${local}\`, or allow downloads (allowRemoteModels: true, unset HF_HUB_OFFLINE)`,
    );
  }
  const folder = join(await cacheRoot(settings), spec);
  const base = `${(settings.remoteHost ?? HUB).replace(/\/?$/, "/")}${spec}/resolve/main/`;
  const fetchFile = async (name: string) =>
    existsSync(join(folder, name)) ||
    (await download(base + name, join(folder, name), settings.loadTimeoutMs, signal));

  if (!(await fetchFile("config.json"))) {
    throw new ModelNotFoundError(`checkpoint ${spec}: ${base}config.json not found (is the id right?)`);
  }
  const sharded = existsSync(join(folder, SAFETENSORS_INDEX_FILE));
  // weights are fetched last: once they are cached, so is everything else, and nothing is asked again
  if (!sharded && !existsSync(join(folder, SAFETENSORS_FILE))) {
    for (const name of OPTIONAL_FILES) await fetchFile(name);
  }
  if (!sharded && (await fetchFile(SAFETENSORS_FILE))) return folder;
  if (await fetchFile(SAFETENSORS_INDEX_FILE)) {
    const index = JSON.parse(await readFile(join(folder, SAFETENSORS_INDEX_FILE), "utf8")) as {
      weight_map?: Record<string, string>;
    };
    // a shard the hub lacks stays missing: readT5Checkpoint then names it
    for (const shard of new Set(Object.values(index.weight_map ?? {}))) {
      if (/^[^/\\]+$/.test(shard)) await fetchFile(shard);
    }
    return folder;
  }
  throw new ModelNotFoundError(
    `checkpoint ${spec}: the hub has no ${SAFETENSORS_FILE} or ${SAFETENSORS_INDEX_FILE} at ${base} ` +
      "(a repo with only pytorch_model.bin: clone it and convert it once with " +
      "`save_pretrained(folder, safe_serialization=True)` in Python)",
  );
}

/** `readT5Checkpoint` for a folder or a hub id (downloaded and cached as `resolveCheckpoint` does). */
export async function readT5CheckpointFrom(
  spec: string,
  overrides: Partial<TransformersSettings> = {},
  signal?: AbortSignal,
): Promise<T5Checkpoint> {
  return readT5Checkpoint(await resolveCheckpoint(spec, overrides, signal));
}

/** `exportT5Onnx` for a folder or a hub id: the folder transformers.js (and `transformers:<out>`) loads. */
export async function exportT5OnnxFrom(
  spec: string,
  outFolder: string,
  options: ExportT5OnnxOptions & { settings?: Partial<TransformersSettings> } = {},
): Promise<T5ExportResult> {
  const { settings, ...exportOptions } = options;
  return exportT5Onnx(await resolveCheckpoint(spec, settings, options.signal), outFolder, exportOptions);
}
