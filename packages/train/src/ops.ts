import { type TF, tf } from "./backend";

/*
 * tfjs-wasm runs only the plain 2-D `a @ b` through XNNPACK; transposed and batched matmuls fall back
 * to kernels 10–15× slower (bench/libraries.ts). These helpers keep every matmul, forward and
 * backward, on the fast path by materialising transposes and looping over the batch.
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

/** `a @ b` for 2-D tensors, with gradients computed as plain matmuls. */
export const mm = lazyCustomGrad(((a: TF.Tensor, b: TF.Tensor, save: TF.GradSaveFunc) => {
  save([a, b]);
  return {
    value: tf.matMul(a as TF.Tensor2D, b as TF.Tensor2D),
    gradFunc: (dy: TF.Tensor, saved: TF.Tensor[]) => {
      const [sa, sb] = saved as [TF.Tensor2D, TF.Tensor2D];
      return [tf.matMul(dy as TF.Tensor2D, tf.transpose(sb)), tf.matMul(tf.transpose(sa), dy as TF.Tensor2D)];
    },
  };
}) as unknown as CustomGradFunc) as unknown as (a: TF.Tensor, b: TF.Tensor) => TF.Tensor2D;

/** `x @ w^T` for an HF Linear weight `w` of shape [out, in]; `x` is [..., in]. */
export function linear(x: TF.Tensor, w: TF.Tensor): TF.Tensor {
  const inDim = x.shape[x.shape.length - 1] as number;
  const out = mm(tf.reshape(x, [-1, inDim]), tf.transpose(w));
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

/**
 * Rows of `table` [V, D] at integer `indices` (any shape) → [...indices.shape, D]. The gradient is
 * a scatter-add into a [V, D] zero table, done in JS: tfjs-wasm has no UnsortedSegmentSum kernel,
 * which tfjs's own gather gradient needs.
 */
export const gatherRows = lazyCustomGrad(((table: TF.Tensor, indices: TF.Tensor, save: TF.GradSaveFunc) => {
  save([indices]);
  const [rows, width] = table.shape as [number, number];
  return {
    value: tf.gather(table, indices),
    gradFunc: (dy: TF.Tensor, saved: TF.Tensor[]) => {
      const idx = (saved[0] as TF.Tensor).dataSync();
      const g = dy.dataSync();
      const out = new Float32Array(rows * width);
      for (let i = 0; i < idx.length; i++) {
        const row = (idx[i] as number) * width;
        const from = i * width;
        for (let j = 0; j < width; j++) out[row + j] = (out[row + j] as number) + (g[from + j] as number);
      }
      return [tf.tensor2d(out, [rows, width]), tf.zerosLike(saved[0] as TF.Tensor)];
    },
  };
}) as unknown as CustomGradFunc) as unknown as (table: TF.Tensor, indices: TF.Tensor) => TF.Tensor;
