/** A small seeded PRNG (mulberry32): the same seed gives the same stream on every platform. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fills a Float32Array with N(0, std²) values (Box–Muller) from `random`. */
export function normalArray(random: () => number, size: number, std: number): Float32Array {
  const out = new Float32Array(size);
  for (let i = 0; i < size; i += 2) {
    const u = 1 - random();
    const v = random();
    const r = Math.sqrt(-2 * Math.log(u));
    out[i] = r * Math.cos(2 * Math.PI * v) * std;
    if (i + 1 < size) out[i + 1] = r * Math.sin(2 * Math.PI * v) * std;
  }
  return out;
}
