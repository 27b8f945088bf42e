/** Two independent 32-bit hashes of a string (FNV-1a, and the same with another basis and a final mix). */
function hashes(key: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  return [a >>> 0, (b ^ (b >>> 13)) >>> 0];
}

/**
 * Run keys → row number without holding the keys (360,000 of them are ~50 MB as strings): an
 * open-addressing table of each row's two 32-bit hashes. A row whose hashes match is confirmed by
 * reading its key back (`keyOf`), so a lookup is exact; that happens for a real duplicate only,
 * which is rare (a key written twice), and for a failure's key when the report checks it.
 */
export class KeyIndex {
  private slots = new Int32Array(1 << 12);
  private first: Uint32Array = new Uint32Array(1 << 11);
  private second: Uint32Array = new Uint32Array(1 << 11);
  private rows = 0;

  constructor(private readonly keyOf: (row: number) => string) {}

  /** The row holding `key`, or -1. */
  find(key: string): number {
    const [a, b] = hashes(key);
    return this.probe(key, a, b).row;
  }

  /** Adds `key` as the next row unless it is there; returns whether it was added. */
  add(key: string): boolean {
    const [a, b] = hashes(key);
    const { row, slot } = this.probe(key, a, b);
    if (row >= 0) return false;
    if (this.rows === this.first.length) {
      this.first = grow(this.first);
      this.second = grow(this.second);
    }
    this.first[this.rows] = a;
    this.second[this.rows] = b;
    this.slots[slot] = ++this.rows;
    if (this.rows * 2 > this.slots.length) this.rehash();
    return true;
  }

  private probe(key: string, a: number, b: number): { row: number; slot: number } {
    const mask = this.slots.length - 1;
    for (let slot = a & mask; ; slot = (slot + 1) & mask) {
      const held = this.slots[slot]!;
      if (held === 0) return { row: -1, slot };
      const row = held - 1;
      if (this.first[row] === a && this.second[row] === b && this.keyOf(row) === key) return { row, slot };
    }
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const mask = slots.length - 1;
    for (let row = 0; row < this.rows; row++) {
      let slot = this.first[row]! & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = row + 1;
    }
    this.slots = slots;
  }
}

function grow(array: Uint32Array): Uint32Array {
  const bigger = new Uint32Array(array.length * 2);
  bigger.set(array);
  return bigger;
}
