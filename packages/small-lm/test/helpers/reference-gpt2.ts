// HF GPT-2 forward pass (modeling_gpt2.py) for one unpadded sequence, written as plain loops.
import type { Gpt2Config, WeightTensor } from "@lmcot/model-writer";

export function referenceGpt2(
  c: Gpt2Config,
  weights: Map<string, WeightTensor>,
  ids: number[],
): Float64Array[] {
  const d = c.n_embd;
  const dh = d / c.n_head;
  const W = (n: string) => (weights.get(n) as WeightTensor).data;
  const ln = (x: Float64Array, p: string) => {
    const mean = x.reduce((a, b) => a + b, 0) / d;
    const variance = x.reduce((a, b) => a + (b - mean) ** 2, 0) / d;
    return x.map(
      (v, i) =>
        ((v - mean) / Math.sqrt(variance + (c.layer_norm_epsilon ?? 1e-5))) *
          (W(`${p}.weight`)[i] as number) +
        (W(`${p}.bias`)[i] as number),
    );
  };
  const conv = (x: Float64Array, p: string, out: number) => {
    const w = W(`${p}.weight`);
    const b = W(`${p}.bias`);
    const y = new Float64Array(out);
    for (let o = 0; o < out; o++) {
      let s = b[o] as number;
      for (let i = 0; i < x.length; i++) s += (x[i] as number) * (w[i * out + o] as number);
      y[o] = s;
    }
    return y;
  };
  let h = ids.map((id, t) => {
    const e = new Float64Array(d);
    for (let j = 0; j < d; j++)
      e[j] =
        (W("transformer.wte.weight")[id * d + j] as number) +
        (W("transformer.wpe.weight")[t * d + j] as number);
    return e;
  });
  for (let l = 0; l < c.n_layer; l++) {
    const p = `transformer.h.${l}`;
    const qkv = h.map((x) => conv(ln(x, `${p}.ln_1`), `${p}.attn.c_attn`, 3 * d));
    const ctx = h.map(() => new Float64Array(d));
    for (let head = 0; head < c.n_head; head++) {
      for (let q = 0; q < h.length; q++) {
        const scores: number[] = [];
        for (let k = 0; k <= q; k++) {
          let s = 0;
          for (let j = 0; j < dh; j++)
            s +=
              ((qkv[q] as Float64Array)[head * dh + j] as number) *
              ((qkv[k] as Float64Array)[d + head * dh + j] as number);
          scores.push(s / Math.sqrt(dh));
        }
        const max = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - max));
        const z = e.reduce((a, b) => a + b, 0);
        const out = ctx[q] as Float64Array;
        e.forEach((w, k) => {
          for (let j = 0; j < dh; j++)
            out[head * dh + j] =
              (out[head * dh + j] as number) +
              (w / z) * ((qkv[k] as Float64Array)[2 * d + head * dh + j] as number);
        });
      }
    }
    h = h.map((x, t) => {
      const a = conv(ctx[t] as Float64Array, `${p}.attn.c_proj`, d);
      const r = x.map((v, i) => v + (a[i] as number));
      const m = conv(ln(r, `${p}.ln_2`), `${p}.mlp.c_fc`, 4 * d).map(
        (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))),
      );
      const f = conv(m, `${p}.mlp.c_proj`, d);
      return r.map((v, i) => v + (f[i] as number));
    });
  }
  const wte = W("transformer.wte.weight");
  return h.map((x) => {
    const n = ln(x, "transformer.ln_f");
    const logits = new Float64Array(c.vocab_size);
    for (let v = 0; v < c.vocab_size; v++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += (n[j] as number) * (wte[v * d + j] as number);
      logits[v] = s;
    }
    return logits;
  });
}
