/** A 32-bit multiply-xorshift pass over a string's UTF-16 code units, from `seed`. */
function lane(text: string, seed: number, multiplier: number): number {
  let h = seed ^ text.length;
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), multiplier);
    h ^= h >>> 13;
  }
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * A set of strings kept as 64-bit hashes in one typed array (open addressing, at most half full):
 * 16–32 bytes a key whatever its length, for the resume checks of runs with hundreds of thousands of items, whose
 * keys (method, dataset, example id, model ids, prompt version, seed) run to 100–200 characters.
 * Two keys with the same 64-bit hash count as one; at a million keys the odds of any such pair are
 * about 1 in 36 million.
 */
export class KeySet {
  /** Pairs of 32-bit halves; (0, 0) marks an empty slot. */
  private slots = new Uint32Array(2 * 1024);
  private used = 0;

  constructor(keys: Iterable<string> = []) {
    for (const key of keys) this.add(key);
  }

  get size(): number {
    return this.used;
  }

  has(key: string): boolean {
    const [hi, lo] = KeySet.hash(key);
    return this.find(hi, lo) >= 0;
  }

  /** Adds `key`; false when it was there already. */
  add(key: string): boolean {
    const [hi, lo] = KeySet.hash(key);
    if (this.find(hi, lo) >= 0) return false;
    if ((this.used + 1) * 2 > this.slots.length / 2) this.grow();
    this.place(hi, lo);
    this.used++;
    return true;
  }

  private static hash(key: string): [number, number] {
    const hi = lane(key, 0x811c9dc5, 0x01000193);
    const lo = lane(key, 0x9e3779b9, 0x5bd1e995);
    // (0, 0) marks an empty slot.
    return hi === 0 && lo === 0 ? [0, 1] : [hi, lo];
  }

  private find(hi: number, lo: number): number {
    const mask = this.slots.length / 2 - 1;
    for (let i = (hi ^ lo) & mask; ; i = (i + 1) & mask) {
      const a = this.slots[2 * i]!;
      const b = this.slots[2 * i + 1]!;
      if (a === 0 && b === 0) return -1;
      if (a === hi && b === lo) return i;
    }
  }

  private place(hi: number, lo: number): void {
    const mask = this.slots.length / 2 - 1;
    let i = (hi ^ lo) & mask;
    while (this.slots[2 * i] !== 0 || this.slots[2 * i + 1] !== 0) i = (i + 1) & mask;
    this.slots[2 * i] = hi;
    this.slots[2 * i + 1] = lo;
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Uint32Array(old.length * 2);
    for (let i = 0; i < old.length; i += 2)
      if (old[i] !== 0 || old[i + 1] !== 0) this.place(old[i]!, old[i + 1]!);
  }
}
