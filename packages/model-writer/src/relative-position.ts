const f32 = Math.fround;

/**
 * HF T5's `_relative_position_bucket`, evaluated in float32 like PyTorch does, for one relative
 * position (`memory_position - query_position`). Encoder attention is bidirectional, decoder
 * self-attention unidirectional.
 */
export function t5RelativePositionBucket(
  relativePosition: number,
  bidirectional: boolean,
  numBuckets: number,
  maxDistance: number,
): number {
  let buckets = numBuckets;
  let bucket = 0;
  let n: number;
  if (bidirectional) {
    buckets = Math.floor(buckets / 2);
    if (relativePosition > 0) bucket += buckets;
    n = Math.abs(relativePosition);
  } else {
    n = Math.max(-relativePosition, 0);
  }
  const maxExact = Math.floor(buckets / 2);
  if (n < maxExact) return bucket + n;
  const scaled = f32(
    f32(f32(Math.log(f32(n / maxExact))) / f32(Math.log(maxDistance / maxExact))) * (buckets - maxExact),
  );
  const large = Math.min(maxExact + Math.trunc(scaled), buckets - 1);
  return bucket + large;
}

/**
 * Bias per clipped relative position: row `r + maxDistance` holds the per-head bias for relative
 * position `r` in [-maxDistance, maxDistance]. Buckets saturate beyond `maxDistance`, so clipping the
 * relative position first gives the same bucket as HF for any distance.
 * `bias` is `relative_attention_bias.weight` ([numBuckets, heads], row-major).
 */
export function relativeBiasTable(
  bias: Float32Array,
  heads: number,
  bidirectional: boolean,
  numBuckets: number,
  maxDistance: number,
): Float32Array {
  const rows = 2 * maxDistance + 1;
  const table = new Float32Array(rows * heads);
  for (let row = 0; row < rows; row++) {
    const bucket = t5RelativePositionBucket(row - maxDistance, bidirectional, numBuckets, maxDistance);
    table.set(bias.subarray(bucket * heads, (bucket + 1) * heads), row * heads);
  }
  return table;
}
