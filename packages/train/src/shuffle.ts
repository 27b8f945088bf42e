import { seededRandom } from "@lmcot/core";

/** A seeded permutation of `0..n-1` for one epoch (or any other stream): the same on resume. */
export function epochOrder(n: number, seed: number, epoch: number): number[] {
  const random = seededRandom((seed * 1_000_003 + epoch * 7919 + 1) >>> 0);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  return order;
}

/** The `step`-th batch of `size` indices when cycling through seeded epochs of `n` items. */
export function batchAt(n: number, size: number, seed: number, step: number): number[] {
  const perEpoch = Math.ceil(n / size);
  const order = epochOrder(n, seed, Math.floor(step / perEpoch));
  const at = (step % perEpoch) * size;
  return order.slice(at, at + size);
}
