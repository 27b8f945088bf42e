import { type TF, tf } from "./backend";
import { PAD_ID } from "./tokenizer";

/** Right-pads id sequences into an int32 [B, maxLen] tensor and its 0/1 mask. */
export function padBatch(
  seqs: readonly (readonly number[])[],
  minLength = 1,
): { ids: TF.Tensor2D; mask: TF.Tensor2D } {
  const len = Math.max(minLength, ...seqs.map((s) => s.length));
  const ids = new Int32Array(seqs.length * len).fill(PAD_ID);
  const mask = new Int32Array(seqs.length * len);
  seqs.forEach((s, b) => {
    ids.set(s, b * len);
    mask.fill(1, b * len, b * len + s.length);
  });
  return {
    ids: tf.tensor2d(ids, [seqs.length, len], "int32"),
    mask: tf.tensor2d(mask, [seqs.length, len], "int32"),
  };
}

/** Decoder inputs for teacher forcing: the start token (pad, id 0) then the targets shifted right. */
export function shiftRight(targets: readonly (readonly number[])[], startId = PAD_ID): number[][] {
  return targets.map((t) => [startId, ...t.slice(0, -1)]);
}
