import type {
  RationaleGenerateOptions,
  RationaleModel,
  RationaleOutput,
  ScoredSequence,
  ScoreRequest,
} from "@lmcot/core";
import { AbortError, BadRequestError, seededRandom } from "@lmcot/core";
import { CausalRunner } from "./causal";
import { type DecodedRow, decodeLoop } from "./decode-loop";
import { type LoadedModel, loadModel } from "./load";
import { resolveGenerateOptions } from "./options";
import { logSoftmax, streamSeed } from "./sampling";
import { type KvCache, Seq2SeqRunner } from "./seq2seq";
import { smallLmEnv, type TransformersSettings } from "./settings";

export interface TransformersModelOptions extends Partial<TransformersSettings> {
  /** Inputs run through the model together (padded). Default 16. */
  batchSize?: number;
  /** Reuse past keys/values between decoding steps (default true; false recomputes the whole prefix). */
  useCache?: boolean;
  /** Longer inputs are cut (keeping the start for encoder-decoders, the end for decoder-only). Default: tokenizer's model_max_length, at most 2048. */
  maxInputTokens?: number;
}

/**
 * A rationale model on transformers.js: it loads the model and tokenizer through transformers.js and
 * runs its own decoding loop over the ONNX sessions (seeded sampling, per-token log-probs, KV cache).
 */
export class TransformersRationaleModel implements RationaleModel {
  readonly specificationVersion = "v1" as const;
  readonly id: string;
  private readonly settings: TransformersSettings;
  private loading?: Promise<{ loaded: LoadedModel; runner: Seq2SeqRunner | CausalRunner }>;

  constructor(
    readonly spec: string,
    private readonly options: TransformersModelOptions = {},
  ) {
    this.id = `transformers:${spec}`;
    const overrides = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
    this.settings = { ...smallLmEnv, ...overrides } as TransformersSettings;
  }

  /** Loads the model now (otherwise it loads on first use). */
  async load(): Promise<LoadedModel> {
    return (await this.ready()).loaded;
  }

  private ready() {
    this.loading ??= loadModel(this.spec, this.settings).then((loaded) => ({
      loaded,
      runner: loaded.kind === "seq2seq" ? new Seq2SeqRunner(loaded) : new CausalRunner(loaded),
    }));
    this.loading.catch(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private get batchSize(): number {
    return Math.max(1, this.options.batchSize ?? 16);
  }

  private tokenize(loaded: LoadedModel, text: string): number[] {
    const ids = loaded.tokenizer.encode(text);
    const limit = Math.min(this.options.maxInputTokens ?? loaded.tokenizer.model_max_length ?? 512, 2048);
    if (ids.length <= limit) return ids;
    if (loaded.kind === "causal") return ids.slice(ids.length - limit);
    return [...ids.slice(0, limit - 1), ids[ids.length - 1] as number];
  }

  async generate(inputs: string[], options: RationaleGenerateOptions = {}): Promise<RationaleOutput[]> {
    if (options.signal?.aborted) throw new AbortError();
    const { loaded, runner } = await this.ready();
    const maxDefault = Number(loaded.generationConfig.max_new_tokens ?? 64);
    const resolved = resolveGenerateOptions(options, Number.isFinite(maxDefault) ? maxDefault : 64);
    const n = resolved.numReturnSequences;
    // Greedy decoding gives every sequence the same tokens: decode once, copy.
    const perInput = resolved.settings.sample ? n : 1;
    const outputs: RationaleOutput[] = [];
    for (let start = 0; start < inputs.length; start += Math.max(1, Math.floor(this.batchSize / perInput))) {
      const chunk = inputs.slice(start, start + Math.max(1, Math.floor(this.batchSize / perInput)));
      const ids = chunk.map((text) => this.tokenize(loaded, text));
      const randoms = chunk.flatMap((_, i) =>
        Array.from({ length: perInput }, (_, k) => seededRandom(streamSeed(resolved.seed, start + i, k))),
      );
      const rows = await this.decodeBatch(runner, ids, perInput, {
        maxNewTokens: resolved.maxNewTokens,
        settings: resolved.settings,
        randoms,
        signal: options.signal,
      });
      chunk.forEach((_, i) => {
        for (let k = 0; k < n; k++) {
          const row = rows[i * perInput + (perInput === 1 ? 0 : k)] as DecodedRow;
          const stop = row.finishReason === "stop" ? runner.shape.eosTokenId : undefined;
          const content = stop === undefined ? row.tokens : row.tokens.slice(0, -1);
          outputs.push({
            text:
              content.length === 0
                ? ""
                : loaded.tokenizer.decode(content, { skip_special_tokens: true }).trim(),
            inputIndex: start + i,
            tokenIds: [...row.tokens],
            ...(options.returnLogprobs ? { logprobs: [...row.logprobs] } : {}),
            finishReason: row.finishReason,
            usage: { inputTokens: (ids[i] as number[]).length, outputTokens: row.tokens.length },
          });
        }
      });
    }
    return outputs;
  }

  private async decodeBatch(
    runner: Seq2SeqRunner | CausalRunner,
    ids: number[][],
    perInput: number,
    loop: Pick<Parameters<typeof decodeLoop>[0], "maxNewTokens" | "settings" | "randoms" | "signal">,
  ): Promise<DecodedRow[]> {
    const useCache = this.options.useCache ?? true;
    const common = { ...loop, eosTokenId: runner.shape.eosTokenId, padTokenId: runner.shape.padTokenId };
    if (runner instanceof Seq2SeqRunner) {
      const encoded = runner.repeat(await runner.encode(ids), perInput);
      const start = runner.shape.decoderStartTokenId;
      const histories = Array.from({ length: encoded.rows }, () => [start]);
      let cache: KvCache | undefined;
      return decodeLoop({
        ...common,
        rows: encoded.rows,
        forward: async (previous) => {
          for (const [r, t] of (previous ?? []).entries()) (histories[r] as number[]).push(t);
          const feed = useCache ? histories.map((h) => [h[h.length - 1] as number]) : histories;
          const out = await runner.decode(encoded, feed, useCache ? cache : undefined);
          if (useCache) cache = out.cache;
          return { logits: lastPositions(out.logits, encoded.rows, out.width, out.vocab), vocab: out.vocab };
        },
      });
    }
    const prompts = ids.flatMap((row) => Array.from({ length: perInput }, () => row));
    const session = runner.begin(prompts, useCache);
    return decodeLoop({ ...common, rows: prompts.length, forward: (previous) => session.next(previous) });
  }

  async scoreLogprobs(
    items: ScoreRequest[],
    options: { signal?: AbortSignal } = {},
  ): Promise<ScoredSequence[]> {
    const { loaded, runner } = await this.ready();
    const results: ScoredSequence[] = [];
    for (let start = 0; start < items.length; start += this.batchSize) {
      if (options.signal?.aborted) throw new AbortError();
      const chunk = items.slice(start, start + this.batchSize);
      const inputs = chunk.map((item) => this.tokenize(loaded, item.input));
      const targets = chunk.map((item) => this.targetIds(loaded, item.output));
      const logits =
        runner instanceof Seq2SeqRunner
          ? await runner.teacherForced(inputs, targets)
          : await runner.teacherForced(inputs, targets);
      chunk.forEach((_, r) => {
        const target = targets[r] as number[];
        const logprobs = target.map((token, t) => {
          const at = logits.offset(r, t);
          return logSoftmax(logits.data, at, logits.vocab)[token] as number;
        });
        results.push({ tokenIds: target, logprobs, total: logprobs.reduce((a, b) => a + b, 0) });
      });
    }
    return results;
  }

  /** The tokens a generation of `output` consists of: its tokens and the closing EOS. */
  private targetIds(loaded: LoadedModel, output: string): number[] {
    const eos = Number(loaded.config.eos_token_id ?? 1);
    if (loaded.kind === "seq2seq") {
      const ids = loaded.tokenizer.encode(output);
      if (ids.length === 0) throw new BadRequestError("scoreLogprobs: output tokenizes to nothing");
      return ids[ids.length - 1] === eos ? ids : [...ids, eos];
    }
    return [...loaded.tokenizer.encode(output, { add_special_tokens: false }), eos];
  }

  async dispose(): Promise<void> {
    const loading = this.loading;
    this.loading = undefined;
    if (!loading) return;
    const { loaded } = await loading.catch(() => ({ loaded: undefined }));
    await loaded?.model.dispose();
  }
}

function lastPositions(logits: Float32Array, rows: number, width: number, vocab: number): Float32Array {
  if (width === 1) return logits;
  const out = new Float32Array(rows * vocab);
  for (let r = 0; r < rows; r++)
    out.set(logits.subarray((r * width + width - 1) * vocab, (r * width + width) * vocab), r * vocab);
  return out;
}
