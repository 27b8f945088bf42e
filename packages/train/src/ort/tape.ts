import { type Dim, OnnxGraph, type TensorTypeName } from "@lmcot/model-writer";

type Backward = (dy: string) => void;
/** The gradients of a multi-output op's outputs (undefined: that output got none). */
type MultiBackward = (dys: (string | undefined)[]) => void;

/**
 * Builds an ONNX graph and, from the same calls, its reverse-mode gradient graph: each op emits
 * its forward nodes and records how to emit its backward ones. `backward` then walks the record in
 * reverse from seed gradients, summing the gradients of values used more than once. Shapes are
 * symbolic (batch and lengths vary per run); every op says where it broadcasts.
 */
export class Tape {
  readonly g: OnnxGraph;
  private readonly record: { outs: string[]; back: MultiBackward }[] = [];
  private readonly grads = new Map<string, string>();
  /** Values that depend on a parameter: only those get gradients. */
  private readonly live = new Set<string>();

  constructor(name: string) {
    this.g = new OnnxGraph(name, 17);
  }

  /** A float32 graph input that gets a gradient. */
  param(name: string, dims: Dim[]): string {
    this.live.add(this.g.input(name, "float", dims));
    return name;
  }

  input(name: string, type: TensorTypeName, dims: Dim[]): string {
    return this.g.input(name, type, dims);
  }

  isLive(v: string): boolean {
    return this.live.has(v);
  }

  /** The gradient accumulated for `v`, once `backward` ran. */
  gradOf(v: string): string | undefined {
    return this.grads.get(v);
  }

  /** Emits the backward pass from `seeds` (value → its gradient). */
  backward(seeds: [string, string][]): void {
    for (const [v, dv] of seeds) this.accumulate(v, dv);
    for (let i = this.record.length - 1; i >= 0; i--) {
      const { outs, back } = this.record[i] as { outs: string[]; back: MultiBackward };
      const dys = outs.map((o) => this.grads.get(o));
      if (dys.some((d) => d !== undefined)) back(dys);
    }
  }

  private accumulate(v: string, dv: string): void {
    if (!this.live.has(v)) return;
    const before = this.grads.get(v);
    this.grads.set(v, before === undefined ? dv : this.g.node("Add", [before, dv]));
  }

  /** Records `out` = op(inputs): live when an input is, with `back` emitting the inputs' gradients. */
  private op(out: string, inputs: string[], back: Backward): string {
    this.opMulti([out], inputs, (dys) => back(dys[0] as string));
    return out;
  }

  private opMulti(outs: string[], inputs: string[], back: MultiBackward): void {
    if (!inputs.some((x) => this.live.has(x))) return;
    for (const o of outs) this.live.add(o);
    this.record.push({ outs, back });
  }

  private node(op: string, inputs: string[], attrs: Parameters<OnnxGraph["node"]>[2] = {}): string {
    return this.g.node(op, inputs, attrs);
  }

  /** x [..., in] · Wᵀ for a weight W [out, in] stored as Hugging Face stores it. */
  linear(x: string, w: string, dims: [out: number, inDim: number]): string {
    const [outDim, inDim] = dims;
    const y = this.g.contrib("FusedMatMul", [x, w], { transB: 1 });
    return this.op(y, [x, w], (dy) => {
      if (this.live.has(x)) this.accumulate(x, this.node("MatMul", [dy, w]));
      if (this.live.has(w)) {
        const dy2 = this.node("Reshape", [dy, this.g.ints([-1, outDim])]);
        const x2 = this.node("Reshape", [x, this.g.ints([-1, inDim])]);
        this.accumulate(w, this.g.contrib("FusedMatMul", [dy2, x2], { transA: 1 }));
      }
    });
  }

  /** Batched a · bᵀ (`transB`) or a · b over the last two axes. */
  matmul(a: string, b: string, transB: boolean): string {
    const y = transB ? this.g.contrib("FusedMatMul", [a, b], { transB: 1 }) : this.node("MatMul", [a, b]);
    return this.op(y, [a, b], (dy) => {
      if (transB) {
        if (this.live.has(a)) this.accumulate(a, this.node("MatMul", [dy, b]));
        if (this.live.has(b)) this.accumulate(b, this.g.contrib("FusedMatMul", [dy, a], { transA: 1 }));
      } else {
        if (this.live.has(a)) this.accumulate(a, this.g.contrib("FusedMatMul", [dy, b], { transB: 1 }));
        if (this.live.has(b)) this.accumulate(b, this.g.contrib("FusedMatMul", [a, dy], { transA: 1 }));
      }
    });
  }

  /** a + b, same shapes. */
  add(a: string, b: string): string {
    return this.op(this.node("Add", [a, b]), [a, b], (dy) => {
      this.accumulate(a, dy);
      this.accumulate(b, dy);
    });
  }

  /**
   * a + b where b has size 1 on `axes` (broadcast there), or lacks them (`keepdims` false); b's
   * gradient sums over them.
   */
  addBroadcast(a: string, b: string, axes: number[], keepdims = true): string {
    return this.op(this.node("Add", [a, b]), [a, b], (dy) => {
      this.accumulate(a, dy);
      if (this.live.has(b))
        this.accumulate(b, this.node("ReduceSum", [dy, this.g.ints(axes)], { keepdims: keepdims ? 1 : 0 }));
    });
  }

  /** a · b elementwise, same shapes. */
  mul(a: string, b: string): string {
    return this.op(this.node("Mul", [a, b]), [a, b], (dy) => {
      if (this.live.has(a)) this.accumulate(a, this.node("Mul", [dy, b]));
      if (this.live.has(b)) this.accumulate(b, this.node("Mul", [dy, a]));
    });
  }

  /** x · c for a constant c (also a constant tensor that broadcasts, such as a dropout mask). */
  scale(x: string, c: number | string): string {
    const k = typeof c === "number" ? this.g.floats([c]) : c;
    return this.op(this.node("Mul", [x, k]), [x], (dy) => this.accumulate(x, this.node("Mul", [dy, k])));
  }

  /** Reshape to `dims` (0 copies the input's size, -1 infers it). */
  reshape(x: string, dims: number[]): string {
    // Shape is taken now: a backward node reading x would keep x alive until the backward pass.
    const shape = this.node("Shape", [x]);
    return this.op(this.node("Reshape", [x, this.g.ints(dims)]), [x], (dy) =>
      this.accumulate(x, this.node("Reshape", [dy, shape])),
    );
  }

  /**
   * x where the bool `keepMask` is true, scaled by `keep` (1 / (1 − rate)), else 0. No float mask
   * is made: one that depends only on an input would be computed at the start of the run and kept.
   */
  dropout(x: string, keepMask: string, keep: number): string {
    const zero = this.g.floats([0]);
    const scaled = this.node("Mul", [x, this.g.floats([keep])]);
    return this.op(this.node("Where", [keepMask, scaled, zero]), [x], (dy) => {
      const back = this.node("Mul", [dy, this.g.floats([keep])]);
      this.accumulate(x, this.node("Where", [keepMask, back, zero]));
    });
  }

  transpose(x: string, perm: number[]): string {
    const inverse = perm.map((_, i) => perm.indexOf(i));
    return this.op(this.node("Transpose", [x], { perm }), [x], (dy) =>
      this.accumulate(x, this.node("Transpose", [dy], { perm: inverse })),
    );
  }

  unsqueeze(x: string, axes: number[]): string {
    return this.op(this.node("Unsqueeze", [x, this.g.ints(axes)]), [x], (dy) =>
      this.accumulate(x, this.node("Squeeze", [dy, this.g.ints(axes)])),
    );
  }

  /** Rows of `table` [N, D] at int64 `ids` (any shape); the gradient scatter-adds into the table's shape. */
  gather(table: string, ids: string): string {
    return this.op(this.node("Gather", [table, ids], { axis: 0 }), [table], (dy) => {
      const zeros = this.node("ConstantOfShape", [this.node("Shape", [table])]);
      const at = this.node("Unsqueeze", [ids, this.g.ints([-1])]);
      this.accumulate(table, this.node("ScatterND", [zeros, at, dy], { reduction: "add" }));
    });
  }

  /** T5's RMSNorm over the last axis of a rank-3 x, with weight w [D]. */
  rmsNorm(x: string, w: string, eps: number): string {
    const meanSquare = this.node("ReduceMean", [this.node("Mul", [x, x])], { axes: [-1], keepdims: 1 });
    const r = this.node("Reciprocal", [
      this.node("Sqrt", [this.node("Add", [meanSquare, this.g.floats([eps])])]),
    ]);
    const n = this.node("Mul", [x, r]);
    return this.op(this.node("Mul", [n, w]), [x, w], (dy) => {
      if (this.live.has(w))
        this.accumulate(
          w,
          this.node("ReduceSum", [this.node("Mul", [dy, n]), this.g.ints([0, 1])], { keepdims: 0 }),
        );
      if (this.live.has(x)) {
        const dn = this.node("Mul", [dy, w]);
        const along = this.node("ReduceMean", [this.node("Mul", [dn, n])], { axes: [-1], keepdims: 1 });
        this.accumulate(x, this.node("Mul", [r, this.node("Sub", [dn, this.node("Mul", [n, along])])]));
      }
    });
  }

  /** Softmax over the last axis. */
  softmax(x: string): string {
    const p = this.node("Softmax", [x], { axis: -1 });
    return this.op(p, [x], (dy) => {
      const dot = this.node("ReduceSum", [this.node("Mul", [dy, p]), this.g.ints([-1])], { keepdims: 1 });
      this.accumulate(x, this.node("Mul", [p, this.node("Sub", [dy, dot])]));
    });
  }

  relu(x: string): string {
    const y = this.node("Relu", [x]);
    return this.op(y, [x], (dy) => {
      const positive = this.node("Cast", [this.node("Greater", [x, this.g.floats([0])])], { to: 1 });
      this.accumulate(x, this.node("Mul", [dy, positive]));
    });
  }

  /**
   * HF's `gelu_new`: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). The backward pass recomputes the
   * tanh from x (written differently from the forward, so it is not merged back) instead of keeping
   * three x-sized intermediates per layer.
   */
  geluNew(x: string): string {
    const c = Math.sqrt(2 / Math.PI);
    const k = 0.044715;
    const x2 = this.node("Mul", [x, x]);
    const inner = this.node("Mul", [
      x,
      this.node("Add", [this.g.floats([1]), this.node("Mul", [x2, this.g.floats([k])])]),
    ]);
    const t = this.node("Tanh", [this.node("Mul", [inner, this.g.floats([c])])]);
    const y = this.node("Mul", [
      this.node("Mul", [x, this.node("Add", [t, this.g.floats([1])])]),
      this.g.floats([0.5]),
    ]);
    return this.op(y, [x], (dy) => {
      // d/dx = ½(1 + t) + ½·x·(1 − t²)·(c + 3·0.044715·c·x²)
      const xx = this.node("Pow", [x, this.g.floats([2], false)]);
      const cube = this.node("Mul", [xx, x]);
      const u = this.node("Add", [
        this.node("Mul", [x, this.g.floats([c], false)]),
        this.node("Mul", [cube, this.g.floats([k * c], false)]),
      ]);
      const tb = this.node("Tanh", [u]);
      const sech2 = this.node("Sub", [this.g.floats([1], false), this.node("Mul", [tb, tb])]);
      const du = this.node("Add", [
        this.g.floats([c], false),
        this.node("Mul", [xx, this.g.floats([3 * k * c], false)]),
      ]);
      const right = this.node("Mul", [this.node("Mul", [x, sech2]), du]);
      const slope = this.node("Mul", [
        this.node("Add", [this.node("Add", [tb, this.g.floats([1], false)]), right]),
        this.g.floats([0.5], false),
      ]);
      this.accumulate(x, this.node("Mul", [dy, slope]));
    });
  }

  /**
   * Log-probabilities [B, T] of int64 `labels` [B, T, 1] under `logits` [B, T, V]; and, with
   * `entropy`, the entropy [B, T] of each position's distribution. The backward pass builds the
   * softmax once (no one-hot): d logits = −p·(g_lp + g_H·(log p + H)) + g_lp at the label.
   */
  tokenLogProbs(logits: string, labels: string, entropy: boolean): { logprobs: string; entropy?: string } {
    const lse = this.node("ReduceLogSumExp", [logits], { axes: [-1], keepdims: 1 });
    const picked = this.node("GatherElements", [logits, labels], { axis: 2 });
    const logprobs = this.node("Squeeze", [this.node("Sub", [picked, lse]), this.g.ints([-1])]);
    let h: string | undefined;
    let logp: string | undefined;
    let p: string | undefined;
    if (entropy) {
      logp = this.node("Sub", [logits, lse]);
      p = this.node("Exp", [logp]);
      h = this.node("Neg", [
        this.node("ReduceSum", [this.node("Mul", [p, logp]), this.g.ints([-1])], { keepdims: 0 }),
      ]);
    }
    this.opMulti(h === undefined ? [logprobs] : [logprobs, h], [logits], ([dlp, dh]) => {
      const probs = p ?? this.node("Exp", [this.node("Sub", [logits, lse])]);
      const weight = dlp === undefined ? undefined : this.node("Unsqueeze", [dlp, this.g.ints([-1])]);
      // −p·g with the sign on the [B, T, 1] factor: one vocab-sized tensor fewer
      let dlogits = weight === undefined ? undefined : this.node("Mul", [probs, this.node("Neg", [weight])]);
      if (dh !== undefined && logp !== undefined && h !== undefined) {
        const gh = this.node("Unsqueeze", [dh, this.g.ints([-1])]);
        const hx = this.node("Unsqueeze", [h, this.g.ints([-1])]);
        const term = this.node("Neg", [
          this.node("Mul", [this.node("Mul", [probs, gh]), this.node("Add", [logp, hx])]),
        ]);
        dlogits = dlogits === undefined ? term : this.node("Add", [dlogits, term]);
      }
      if (dlogits === undefined) return;
      if (weight !== undefined)
        dlogits = this.node("ScatterElements", [dlogits, labels, weight], { axis: 2, reduction: "add" });
      this.accumulate(logits, dlogits);
    });
    return { logprobs, ...(h !== undefined ? { entropy: h } : {}) };
  }
}
