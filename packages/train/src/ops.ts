import { type TF, tf } from "./backend";

/*
 * tfjs-wasm runs only the plain 2-D `a @ b` through XNNPACK (single-threaded, b packed per call and
 * cached while b's data lives); transposed and batched matmuls fall back to a scalar loop 10–15×
 * slower (bench/libraries.ts). These helpers keep every matmul, forward and backward, on the fast
 * path, and keep weight-sized tensors out of what a step holds on to: a linear layer transposes its
 * activations, never its weight, and its gradient reads the weight in place.
 *
 * Every gradFunc runs inside `tf.tidy`: tfjs calls a customGrad's gradFunc outside any scope, so
 * without it each intermediate would live until the whole backward pass ends.
 */

type CustomGradFunc = Parameters<typeof TF.customGrad>[0];

/** `tf.customGrad(f)`, built on the first call: tfjs is not loaded when this module is. */
function lazyCustomGrad(f: CustomGradFunc): (...inputs: TF.Tensor[]) => TF.Tensor {
  let built: ((...inputs: TF.Tensor[]) => TF.Tensor) | undefined;
  return (...inputs) => {
    built ??= tf.customGrad(f);
    return built(...inputs);
  };
}

const t2 = (x: TF.Tensor) => tf.transpose(x as TF.Tensor2D);

/** `a @ b` for 2-D tensors, with gradients computed as plain matmuls. */
export const mm = lazyCustomGrad(((a: TF.Tensor, b: TF.Tensor, save: TF.GradSaveFunc) => {
  save([a, b]);
  return {
    value: tf.matMul(a as TF.Tensor2D, b as TF.Tensor2D),
    gradFunc: (dy: TF.Tensor, saved: TF.Tensor[]) =>
      tf.tidy(() => {
        const [sa, sb] = saved as [TF.Tensor2D, TF.Tensor2D];
        return [tf.matMul(dy as TF.Tensor2D, t2(sb)), tf.matMul(t2(sa), dy as TF.Tensor2D)];
      }),
  };
}) as unknown as CustomGradFunc) as unknown as (a: TF.Tensor, b: TF.Tensor) => TF.Tensor2D;

/**
 * `x @ w^T` for a 2-D `x` [rows, in] and an HF Linear weight `w` [out, in], computed as
 * `(w @ x^T)^T`, so only activations are transposed. Backward: `dx = dy @ w` reads `w` through a
 * transient copy (XNNPACK caches a packed weight for as long as its `b` operand lives, which for
 * the variable itself would be until the optimizer replaces it: one more copy of the whole model
 * by the end of the backward pass); `dw = dy^T @ x`.
 */
const linear2d = lazyCustomGrad(((x: TF.Tensor, w: TF.Tensor, save: TF.GradSaveFunc) => {
  save([x, w]);
  return {
    value: t2(tf.matMul(w as TF.Tensor2D, t2(x))),
    gradFunc: (dy: TF.Tensor, saved: TF.Tensor[]) =>
      tf.tidy(() => {
        const [sx, sw] = saved as [TF.Tensor2D, TF.Tensor2D];
        const wCopy = tf.mul(sw, tf.scalar(1));
        const dx = tf.matMul(dy as TF.Tensor2D, wCopy);
        wCopy.dispose();
        return [dx, tf.matMul(t2(dy), sx)];
      }),
  };
}) as unknown as CustomGradFunc) as unknown as (x: TF.Tensor, w: TF.Tensor) => TF.Tensor2D;

/** `x @ w^T` for an HF Linear weight `w` of shape [out, in]; `x` is [..., in]. */
export function linear(x: TF.Tensor, w: TF.Tensor): TF.Tensor {
  const inDim = x.shape[x.shape.length - 1] as number;
  const out = linear2d(tf.reshape(x, [-1, inDim]), w);
  return tf.reshape(out, [...x.shape.slice(0, -1), w.shape[0] as number]);
}

/** Batched `a @ b` for [n, m, k] × [n, k, p] as n fast 2-D matmuls. */
export function bmm(a: TF.Tensor3D, b: TF.Tensor3D): TF.Tensor3D {
  const as = tf.unstack(a);
  const bs = tf.unstack(b);
  return tf.stack(as.map((x, i) => mm(x, bs[i] as TF.Tensor))) as TF.Tensor3D;
}

/** T5LayerNorm (RMSNorm): x / sqrt(mean(x²) + eps) * w, no mean subtraction, no bias. */
export function rmsNorm(x: TF.Tensor, w: TF.Tensor, eps: number): TF.Tensor {
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), eps))), w);
}

/** HF's `gelu_new` (the tanh approximation), which FLAN-T5's gated feed-forward uses. */
export function geluNew(x: TF.Tensor): TF.Tensor {
  const inner = tf.mul(tf.add(x, tf.mul(tf.mul(x, tf.square(x)), 0.044715)), Math.sqrt(2 / Math.PI));
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
}

/**
 * Rows of `table` [V, D] at integer `indices` (any shape) → [...indices.shape, D]. The gradient is
 * built row-wise: the gradient rows of each distinct token are summed (SparseSegmentSum over the
 * token order) into [U, D] for the U rows the batch used, then scattered into the [V, D] gradient
 * tfjs needs for a variable. tfjs-wasm has no UnsortedSegmentSum kernel, which tfjs's own gather
 * gradient needs.
 */
export const gatherRows = lazyCustomGrad(((table: TF.Tensor, indices: TF.Tensor, save: TF.GradSaveFunc) => {
  save([indices]);
  const [rows, width] = table.shape as [number, number];
  return {
    value: tf.gather(table, indices),
    gradFunc: (dy: TF.Tensor, saved: TF.Tensor[]) =>
      tf.tidy(() => {
        const { used, order, segments } = segmentsOf((saved[0] as TF.Tensor).dataSync() as Int32Array);
        const sums = tf.sparse.sparseSegmentSum(
          tf.reshape(dy, [-1, width]),
          tf.tensor1d(order, "int32"),
          tf.tensor1d(segments, "int32"),
        );
        const grad = tf.scatterND(tf.tensor2d(used, [used.length, 1], "int32"), sums, [rows, width]);
        return [grad, tf.zerosLike(saved[0] as TF.Tensor)];
      }),
  };
}) as unknown as CustomGradFunc) as unknown as (table: TF.Tensor, indices: TF.Tensor) => TF.Tensor;

/** The distinct ids (ascending), the positions sorted by id, and each sorted position's segment. */
function segmentsOf(ids: Int32Array): { used: Int32Array; order: Int32Array; segments: Int32Array } {
  const order = Int32Array.from(ids.keys()).sort((a, b) => (ids[a] as number) - (ids[b] as number));
  const segments = new Int32Array(order.length);
  const used: number[] = [];
  for (let i = 0; i < order.length; i++) {
    const id = ids[order[i] as number] as number;
    if (used.length === 0 || used[used.length - 1] !== id) used.push(id);
    segments[i] = used.length - 1;
  }
  return { used: Int32Array.from(used), order, segments };
}

/**
 * Log-probability of each label under `logits` [N, V] → [N], without a vocab-sized one-hot or a
 * stored log-softmax: the forward keeps only the log-normaliser [N]; the backward rebuilds
 * softmax(logits) once and subtracts the label column by a scatter.
 */
export const labelLogProbs = lazyCustomGrad(((
  logits: TF.Tensor,
  labels: TF.Tensor,
  save: TF.GradSaveFunc,
) => {
  const [n, v] = logits.shape as [number, number];
  const flat = tf.add(tf.mul(tf.range(0, n, 1, "int32"), tf.scalar(v, "int32")), tf.cast(labels, "int32"));
  const lse = tf.logSumExp(logits, -1);
  save([logits, lse, flat]);
  return {
    value: tf.sub(tf.gather(tf.reshape(logits, [-1]), flat), lse),
    gradFunc: (dy: TF.Tensor, saved: TF.Tensor[]) =>
      tf.tidy(() => {
        const [sl, slse, sflat] = saved as [TF.Tensor2D, TF.Tensor1D, TF.Tensor1D];
        const softmax = tf.exp(tf.sub(sl, tf.expandDims(slse, 1)));
        const scaled = tf.mul(softmax, tf.expandDims(dy, 1));
        const picked = tf.scatterND(tf.expandDims(sflat, 1), dy, [n * v]);
        return [tf.sub(tf.reshape(picked, [n, v]), scaled), tf.zerosLike(labels)];
      }),
  };
}) as unknown as CustomGradFunc) as unknown as (logits: TF.Tensor, labels: TF.Tensor) => TF.Tensor1D;

/**
 * `fn(...inputs)` with gradient checkpointing: the forward keeps nothing but the inputs, and the
 * backward runs `fn` again under a fresh tape to get the gradients of `inputs` and of `params` (the
 * variables `fn` reads by closure). Peak memory is one block's activations instead of all of them.
 */
export function checkpoint(
  fn: (...inputs: TF.Tensor[]) => TF.Tensor,
  inputs: TF.Tensor[],
  params: TF.Variable[],
): TF.Tensor {
  const run = tf.customGrad(((...args: unknown[]) => {
    const save = args[args.length - 1] as TF.GradSaveFunc;
    const xs = args.slice(0, inputs.length) as TF.Tensor[];
    save(xs);
    return {
      value: fn(...xs),
      gradFunc: (dy: TF.Tensor, saved: TF.Tensor[]) => recompute(fn, saved, params, dy),
    };
  }) as unknown as CustomGradFunc);
  return run(...inputs, ...params);
}

function recompute(
  fn: (...inputs: TF.Tensor[]) => TF.Tensor,
  saved: TF.Tensor[],
  params: TF.Variable[],
  dy: TF.Tensor,
): TF.Tensor[] {
  // A nested gradients() call replaces (then clears) the engine's active tape, which the outer
  // backward pass still needs to free its saved tensors at the end.
  const state = (tf.engine() as unknown as { state: { activeTape: unknown } }).state;
  const outer = state.activeTape;
  try {
    return tf.tidy(() => {
      const xs = [...saved, ...params];
      const { value, grads } = tf.engine().gradients(() => fn(...saved), xs, dy, true);
      value.dispose();
      return grads.map((g, i) => g ?? tf.zerosLike(xs[i] as TF.Tensor));
    });
  } finally {
    state.activeTape = outer;
  }
}
