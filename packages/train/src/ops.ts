import * as tf from "@tensorflow/tfjs";

/*
 * tfjs-wasm runs only the plain 2-D `a @ b` through XNNPACK; transposed and batched matmuls fall back
 * to kernels 10–15× slower (bench/libraries.ts). These helpers keep every matmul, forward and
 * backward, on the fast path by materialising transposes and looping over the batch.
 */

/** `a @ b` for 2-D tensors, with gradients computed as plain matmuls. */
export const mm = tf.customGrad(((a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  save([a, b]);
  return {
    value: tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [tf.matMul(dy as tf.Tensor2D, sb.transpose()), tf.matMul(sa.transpose(), dy as tf.Tensor2D)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (
  a: tf.Tensor,
  b: tf.Tensor,
) => tf.Tensor2D;

/** `x @ w^T` for an HF Linear weight `w` of shape [out, in]; `x` is [..., in]. */
export function linear(x: tf.Tensor, w: tf.Tensor): tf.Tensor {
  const inDim = x.shape[x.shape.length - 1] as number;
  const out = mm(x.reshape([-1, inDim]), w.transpose());
  return out.reshape([...x.shape.slice(0, -1), w.shape[0] as number]);
}

/** Batched `a @ b` for [n, m, k] × [n, k, p] as n fast 2-D matmuls. */
export function bmm(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  const as = tf.unstack(a);
  const bs = tf.unstack(b);
  return tf.stack(as.map((x, i) => mm(x, bs[i] as tf.Tensor))) as tf.Tensor3D;
}

/** T5LayerNorm (RMSNorm): x / sqrt(mean(x²) + eps) * w, no mean subtraction, no bias. */
export function rmsNorm(x: tf.Tensor, w: tf.Tensor, eps: number): tf.Tensor {
  return x.mul(x.square().mean(-1, true).add(eps).rsqrt()).mul(w);
}

/**
 * Rows of `table` [V, D] at integer `indices` (any shape) → [...indices.shape, D]. The gradient is
 * a scatter-add into a [V, D] zero table, done in JS: tfjs-wasm has no UnsortedSegmentSum kernel,
 * which tfjs's own gather gradient needs.
 */
export const gatherRows = tf.customGrad(((table: tf.Tensor, indices: tf.Tensor, save: tf.GradSaveFunc) => {
  save([indices]);
  const [rows, width] = table.shape as [number, number];
  return {
    value: tf.gather(table, indices),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const idx = (saved[0] as tf.Tensor).dataSync();
      const g = dy.dataSync();
      const out = new Float32Array(rows * width);
      for (let i = 0; i < idx.length; i++) {
        const row = (idx[i] as number) * width;
        const from = i * width;
        for (let j = 0; j < width; j++) out[row + j] = (out[row + j] as number) + (g[from + j] as number);
      }
      return [tf.tensor2d(out, [rows, width]), tf.zerosLike(saved[0] as tf.Tensor)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (
  table: tf.Tensor,
  indices: tf.Tensor,
) => tf.Tensor;
