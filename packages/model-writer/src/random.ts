import { seededRandom } from "@lmcot/core";

/** Seeded uniform floats (mulberry32, from `@lmcot/core`). */
export { seededRandom };

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
