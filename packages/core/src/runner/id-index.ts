/** Where a custom id's latest state lives: a source (a spilled chunk or a batch) and, once collected, its line. */
export interface IdLocation {
  slot: number;
  /** Byte offset and length of its outcome's line in the source's results file; -1 before. */
  offset: number;
  length: number;
}

const EMPTY = 0xffffffff;

/** The first 64 bits of a hex custom id (lmcot's are SHA-256 hex); any other id hashed (FNV-1a, two seeds). */
function key64(id: string): [number, number] {
  if (/^[0-9a-f]{16}/.test(id))
    return [Number.parseInt(id.slice(0, 8), 16), Number.parseInt(id.slice(8, 16), 16)];
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let i = 0; i < id.length; i++) {
    a = Math.imul(a ^ id.charCodeAt(i), 0x01000193) >>> 0;
    b = Math.imul(b ^ id.charCodeAt(i), 0x5bd1e995) >>> 0;
  }
  return [a, b];
}

/**
 * Custom id → location in typed arrays (20 bytes an id at most half full), so a grid of millions of
 * calls is indexed in tens of MB rather than a Map of strings. Ids are kept by their first 64 bits:
 * a reader checks the full id on the line it reads, so a collision costs a re-submission, never a
 * wrong answer.
 */
export class IdIndex {
  private hi = new Uint32Array(1024);
  private lo = new Uint32Array(1024);
  private slots = new Uint32Array(1024).fill(EMPTY);
  private offsets = new Float64Array(1024);
  private lengths = new Uint32Array(1024);
  size = 0;

  private find(h: number, l: number): number {
    const mask = this.slots.length - 1;
    let i = (h ^ Math.imul(l, 0x9e3779b1)) & mask;
    while (this.slots[i] !== EMPTY && (this.hi[i] !== h || this.lo[i] !== l)) i = (i + 1) & mask;
    return i;
  }

  get(id: string): IdLocation | undefined {
    const i = this.find(...key64(id));
    if (this.slots[i] === EMPTY) return undefined;
    return { slot: this.slots[i]!, offset: this.offsets[i]!, length: this.lengths[i]! };
  }

  set(id: string, slot: number, offset = -1, length = 0): void {
    if ((this.size + 1) * 2 > this.slots.length) this.grow();
    const [h, l] = key64(id);
    const i = this.find(h, l);
    if (this.slots[i] === EMPTY) this.size++;
    this.hi[i] = h;
    this.lo[i] = l;
    this.slots[i] = slot;
    this.offsets[i] = offset;
    this.lengths[i] = length;
  }

  private grow(): void {
    const { hi, lo, slots, offsets, lengths } = this;
    const n = slots.length * 2;
    this.hi = new Uint32Array(n);
    this.lo = new Uint32Array(n);
    this.slots = new Uint32Array(n).fill(EMPTY);
    this.offsets = new Float64Array(n);
    this.lengths = new Uint32Array(n);
    for (let j = 0; j < slots.length; j++) {
      if (slots[j] === EMPTY) continue;
      const i = this.find(hi[j]!, lo[j]!);
      this.hi[i] = hi[j]!;
      this.lo[i] = lo[j]!;
      this.slots[i] = slots[j]!;
      this.offsets[i] = offsets[j]!;
      this.lengths[i] = lengths[j]!;
    }
  }
}
