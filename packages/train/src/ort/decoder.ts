import { availableParallelism } from "node:os";
import { type T5Config, t5ParameterShapes } from "@lmcot/model-writer";
import type * as Ort from "onnxruntime-node";
import { advance, type Decoded, type DecodeOptions, decodeState } from "../t5/generate";
import { PAD_ID } from "../tokenizer";
import { buckets, encoderFeeds, loadOnnxRuntime, sessionOptions } from "./session";
import { t5Layers } from "./t5-graph";
import { Tape } from "./tape";

/** The graphs of KV-cached decoding: the encoder with each decoder layer's cross-attention keys and values, and one decoder step. */
function decodingGraphs(c: T5Config): { encoder: Uint8Array; step: Uint8Array } {
  const dims = ["B", c.num_heads, "S", c.d_kv];
  const build = (name: string, body: (tape: Tape, L: ReturnType<typeof t5Layers>) => void) => {
    const tape = new Tape(name);
    const params = t5ParameterShapes(c);
    for (const [n, s] of params) tape.param(n, s);
    body(tape, t5Layers(tape, c, params));
    return tape.g.toBytes();
  };
  const encoder = build("t5_encoder", (tape, L) => {
    const encoded = L.encode(
      tape.input("input_ids", "int64", ["B", "S"]),
      tape.input("encoder_bias", "float", ["B", 1, 1, "S"]),
      tape.input("encoder_buckets", "int64", ["S", "S"]),
    );
    for (let i = 0; i < c.num_decoder_layers; i++)
      for (const p of ["k", "v"] as const) {
        const prefix = `decoder.block.${i}.layer.1.EncDecAttention`;
        tape.g.output(`cross_${p}_${i}`, L.project(encoded, prefix, p), "float", dims);
      }
  });
  const step = build("t5_decoder_step", (tape, L) => {
    const g = tape.g;
    const eps = c.layer_norm_epsilon;
    const encoderBias = tape.input("encoder_bias", "float", ["B", 1, 1, "S"]);
    // the new position's buckets against every position so far: [1, P + 1]
    const position = L.positionBias("decoder", tape.input("self_buckets", "int64", [1, "L"]));
    let h = tape.gather("shared.weight", tape.input("token", "int64", ["B", 1]));
    const past = ["B", c.num_heads, "P", c.d_kv];
    for (let i = 0; i < c.num_decoder_layers; i++) {
      const block = `decoder.block.${i}.layer`;
      const self = `${block}.0.SelfAttention`;
      const n = tape.rmsNorm(h, `${block}.0.layer_norm.weight`, eps);
      const [k, v] = (["k", "v"] as const).map((p) => {
        const all = g.node("Concat", [tape.input(`past_${p}_${i}`, "float", past), L.project(n, self, p)], {
          axis: 2,
        });
        g.output(`present_${p}_${i}`, all, "float", ["B", c.num_heads, "L", c.d_kv]);
        return all;
      }) as [string, string];
      const a = tape.add(h, L.attention(L.project(n, self, "q"), k, v, self, 1, 1, [[position, [0]]]));
      const cross = `${block}.1.EncDecAttention`;
      const m = tape.rmsNorm(a, `${block}.1.layer_norm.weight`, eps);
      const [ck, cv] = (["k", "v"] as const).map((p) => tape.input(`cross_${p}_${i}`, "float", dims));
      const b = tape.add(
        a,
        L.attention(L.project(m, cross, "q"), ck as string, cv as string, cross, 1, "S", [
          [encoderBias, [1, 2]],
        ]),
      );
      h = tape.add(b, L.feedForward(b, `${block}.2`, 1));
    }
    const logits = L.lmHead(tape.rmsNorm(h, "decoder.final_layer_norm.weight", eps));
    g.output("logprobs", g.node("LogSoftmax", [logits], { axis: -1 }), "float", ["B", 1, c.vocab_size]);
  });
  return { encoder, step };
}

/**
 * KV-cached decoding on onnxruntime (every core), from weights held in JS: the encoder and the
 * cross-attention keys/values once, then one decoder position per step against cached
 * self-attention keys/values, last position's logits only. Picks tokens as `decode` does (same
 * sampling, same seeded random source), so it returns what `decode` returns up to float rounding.
 */
export class OrtDecoder {
  private constructor(
    private readonly config: T5Config,
    private readonly ort: typeof Ort,
    private readonly encoder: Ort.InferenceSession,
    private readonly step: Ort.InferenceSession,
  ) {}

  static async create(config: T5Config, threads = availableParallelism()): Promise<OrtDecoder> {
    const ort = await loadOnnxRuntime();
    const graphs = decodingGraphs(config);
    const [encoder, step] = await Promise.all([
      ort.InferenceSession.create(graphs.encoder, sessionOptions(threads)),
      ort.InferenceSession.create(graphs.step, sessionOptions(threads)),
    ]);
    return new OrtDecoder(config, ort, encoder, step);
  }

  async decode(
    weights: Map<string, Float32Array>,
    inputs: readonly number[][],
    options: DecodeOptions,
  ): Promise<Decoded[]> {
    const { ort, config: c } = this;
    const b = inputs.length;
    const params: Record<string, Ort.Tensor> = {};
    for (const [name, shape] of t5ParameterShapes(c))
      params[name] = new ort.Tensor("float32", weights.get(name) as Float32Array, shape);
    const encoded = encoderFeeds(ort, c, inputs);
    const cross = await this.encoder.run({ ...params, ...encoded.feeds });
    const state = decodeState(b);
    const empty = new ort.Tensor("float32", new Float32Array(0), [b, c.num_heads, 0, c.d_kv]);
    let past: Record<string, Ort.Tensor> = {};
    for (let i = 0; i < c.num_decoder_layers; i++) for (const p of ["k", "v"]) past[`past_${p}_${i}`] = empty;
    for (let step = 0; step < options.maxNewTokens && state.done.some((d) => !d); step++) {
      options.signal?.throwIfAborted();
      const out = await this.step.run({
        ...params,
        ...past,
        ...cross,
        encoder_bias: encoded.feeds.encoder_bias as Ort.Tensor,
        // the new position's buckets against every position so far
        self_buckets: new ort.Tensor("int64", buckets(c, 1, step + 1, false, step), [1, step + 1]),
        token: new ort.Tensor(
          "int64",
          BigInt64Array.from(state.prefixes, (p) => BigInt(p[step] ?? PAD_ID)),
          [b, 1],
        ),
      });
      const logp = out.logprobs?.data as Float32Array;
      const v = c.vocab_size;
      advance(
        Array.from({ length: b }, (_, r) => logp.subarray(r * v, (r + 1) * v)),
        state,
        options,
      );
      past = {};
      for (let i = 0; i < c.num_decoder_layers; i++)
        for (const p of ["k", "v"]) past[`past_${p}_${i}`] = out[`present_${p}_${i}`] as Ort.Tensor;
    }
    return state.out;
  }

  async release(): Promise<void> {
    await Promise.all([this.encoder.release(), this.step.release()]);
  }
}
