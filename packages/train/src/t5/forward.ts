import { type TF, tf } from "../backend";
import { padBatch, shiftRight } from "../batch";
import { labelLogProbs } from "../ops";
import type { T5Model } from "./model";

/** Teacher-forced outputs for a batch of (input, target) id sequences. */
export interface TeacherForced {
  /** Log-prob of each target token [B, T] (0 at padding). */
  logprobs: TF.Tensor2D;
  /** 1 at target tokens, 0 at padding [B, T]. */
  mask: TF.Tensor2D;
  /** Full log-softmax over the vocabulary [B, T, V], only when asked for (PPO's entropy). */
  logSoftmax?: TF.Tensor3D;
  /** Decoder final hidden states [B, T, d_model]. */
  hidden: TF.Tensor3D;
}

/**
 * Runs encoder + decoder with targets as labels. Differentiable: call it inside a gradient
 * function. Targets should end with `</s>` when the model must learn to stop. `temperature` divides
 * the logits first (PPO scores rollouts under the distribution they were sampled from).
 */
export function teacherForced(
  model: T5Model,
  inputs: readonly number[][],
  targets: readonly number[][],
  temperature = 1,
  withLogSoftmax = false,
): TeacherForced {
  const enc = padBatch(inputs);
  const dec = padBatch(shiftRight(targets));
  const labels = padBatch(targets);
  const encoded = model.encode(enc);
  const { hidden, logits } = model.decode(dec.ids, encoded, enc.mask);
  const scaled = temperature === 1 ? logits : tf.div(logits, temperature);
  const [b, t, v] = logits.shape;
  const mask = tf.cast(labels.mask, "float32") as TF.Tensor2D;
  const picked = tf.mul(
    tf.reshape(labelLogProbs(tf.reshape(scaled, [b * t, v]), tf.reshape(labels.ids, [b * t])), [b, t]),
    mask,
  ) as TF.Tensor2D;
  const logSoftmax = withLogSoftmax ? (tf.logSoftmax(scaled) as TF.Tensor3D) : undefined;
  tf.dispose([enc.ids, enc.mask, dec.ids, dec.mask, labels.ids, labels.mask, encoded]);
  if (scaled !== logits) logits.dispose();
  return { logprobs: picked, mask, ...(logSoftmax ? { logSoftmax } : {}), hidden };
}

/**
 * Mean token cross-entropy of targets given inputs (the KD loss). With `tokens`, the sum is divided
 * by that count instead: the target tokens of the whole batch when this is one micro-batch of it,
 * so that the micro-batches' losses (and gradients) add up to the batch's.
 */
export function crossEntropy(
  model: T5Model,
  inputs: readonly number[][],
  targets: readonly number[][],
  tokens?: number,
): TF.Scalar {
  return tf.tidy(() => {
    const out = teacherForced(model, inputs, targets);
    const count = tokens === undefined ? tf.maximum(tf.sum(out.mask), 1) : Math.max(tokens, 1);
    return tf.div(tf.neg(tf.sum(out.logprobs)), count) as TF.Scalar;
  });
}
