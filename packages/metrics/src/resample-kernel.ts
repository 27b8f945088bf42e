// The bootstrap's inner loop as a small WebAssembly module: the mulberry32 draws of one resample,
// four at a time in SIMD lanes (its state is a counter, so lanes are independent), each draw's two
// values summed in draw order, as the JavaScript loop sums them. Assembled here from named opcodes;
// where WebAssembly SIMD is missing the caller keeps its JavaScript loop.

/** mulberry32's step, added to its state before each draw. */
export const STEP = 0x6d2b79f5;

const I32 = 0x7f;
const F64 = 0x7c;
const V128 = 0x7b;

const op = {
  end: 0x0b,
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  br: 0x0c,
  brIf: 0x0d,
  get: 0x20,
  set: 0x21,
  tee: 0x22,
  f64Load: 0x2b,
  f64Store: 0x39,
  i32Const: 0x41,
  i32Eqz: 0x45,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Shl: 0x74,
  i32WrapI64: 0xa7,
  f64Add: 0xa0,
} as const;

const SIMD = 0xfd;
const simd = {
  v128Const: [SIMD, 0x0c],
  i32x4Splat: [SIMD, 0x11],
  i64x2ExtractLane: [SIMD, 0x1d],
  or: [SIMD, 0x50],
  xor: [SIMD, 0x51],
  i32x4ShrU: [SIMD, 0xad, 0x01],
  i32x4Add: [SIMD, 0xae, 0x01],
  i32x4Mul: [SIMD, 0xb5, 0x01],
  i64x2ShrU: [SIMD, 0xcd, 0x01],
  i64x2ExtmulLowU: [SIMD, 0xde, 0x01],
  i64x2ExtmulHighU: [SIMD, 0xdf, 0x01],
} as const;

/** Signed LEB128, as `i32.const` takes its operand. */
function sleb(value: number): number[] {
  const out: number[] = [];
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) return [...out, byte];
    out.push(byte | 0x80);
  }
}

/** A v128 constant of four 32-bit lanes. */
function lanes(...values: number[]): number[] {
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setUint32(i * 4, values[i]! >>> 0, true);
  return [...simd.v128Const, ...bytes];
}

const i32 = (v: number) => [op.i32Const, ...sleb(v)];

// Parameters, then locals, by index.
const [N, A, QUADS, X_BASE, Y_BASE] = [0, 1, 2, 3, 4];
const [STATE, T, N4, LO, HI] = [5, 6, 7, 8, 9];
const [SX, SY] = [10, 11];
const [D] = [12];

const get = (i: number) => [op.get, i];
const set = (i: number) => [op.set, i];

/** `t = imul(t ^ (t >>> 15), t | 1)`, then `t ^= t + imul(t ^ (t >>> 7), t | 61)`, then `t ^= t >>> 14`, lane-wise. */
// biome-ignore format: one step of the generator a line
const mix = [
  ...get(STATE), ...get(STATE), ...i32(15), ...simd.i32x4ShrU, ...simd.xor,
  ...get(STATE), ...lanes(1, 1, 1, 1), ...simd.or, ...simd.i32x4Mul, ...set(T),
  ...get(T), ...get(T), ...get(T), ...get(T), ...i32(7), ...simd.i32x4ShrU, ...simd.xor,
  ...get(T), ...lanes(61, 61, 61, 61), ...simd.or, ...simd.i32x4Mul, ...simd.i32x4Add, ...simd.xor, ...set(T),
  ...get(T), ...get(T), ...i32(14), ...simd.i32x4ShrU, ...simd.xor, ...set(T),
];

/** A draw is floor(u × n / 2^32): the high half of the 64-bit product, lanes 0–1 and 2–3. */
// biome-ignore format: one pair of lanes a line
const draws = [
  ...get(T), ...get(N4), ...simd.i64x2ExtmulLowU, ...i32(32), ...simd.i64x2ShrU, ...set(LO),
  ...get(T), ...get(N4), ...simd.i64x2ExtmulHighU, ...i32(32), ...simd.i64x2ShrU, ...set(HI),
];

/** `sx += x[d]; sy += y[d]` for the draw in `lane` of `pair`. */
// biome-ignore format: the draw's byte offset, then one sum a line
const sum = (pair: number, lane: number) => [
  ...get(pair), ...simd.i64x2ExtractLane, lane, op.i32WrapI64, ...i32(3), op.i32Shl, op.tee, D,
  ...get(X_BASE), op.i32Add, op.f64Load, 3, 0, ...get(SX), op.f64Add, ...set(SX),
  ...get(D), ...get(Y_BASE), op.i32Add, op.f64Load, 3, 0, ...get(SY), op.f64Add, ...set(SY),
];

// sums(n, state, quads, xBase, yBase) -> sx, with sy stored at address 0: the first 4 × quads draws.
// biome-ignore format: one instruction group a line
const body = [
  ...get(N), ...simd.i32x4Splat, ...set(N4),
  ...get(A), ...simd.i32x4Splat, ...lanes(STEP, 2 * STEP, 3 * STEP, 4 * STEP), ...simd.i32x4Add, ...set(STATE),
  ...op.block, ...op.loop,
  ...get(QUADS), op.i32Eqz, op.brIf, 1,
  ...mix, ...draws, ...sum(LO, 0), ...sum(LO, 1), ...sum(HI, 0), ...sum(HI, 1),
  ...get(STATE), ...lanes(4 * STEP, 4 * STEP, 4 * STEP, 4 * STEP), ...simd.i32x4Add, ...set(STATE),
  ...get(QUADS), ...i32(1), op.i32Sub, ...set(QUADS),
  op.br, 0, op.end, op.end,
  ...i32(0), ...get(SY), op.f64Store, 3, 0,
  ...get(SX), op.end,
];

const locals = [3, 5, V128, 2, F64, 1, I32];

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

function uleb(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    const byte = v & 0x7f;
    v >>>= 7;
    out.push(v ? byte | 0x80 : byte);
  } while (v);
  return out;
}

const name = (s: string) => [s.length, ...[...s].map((c) => c.charCodeAt(0))];

const code = [...locals, ...body];
// biome-ignore format: one section a line
const moduleBytes = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
  ...section(1, [1, 0x60, 5, I32, I32, I32, I32, I32, 1, F64]), // type: (i32 × 5) -> f64
  ...section(3, [1, 0]), // one function of that type
  ...section(5, [1, 0x00, 1]), // one memory, one page to start
  ...section(7, [2, ...name("sums"), 0x00, 0, ...name("memory"), 0x02, 0]),
  ...section(10, [1, ...uleb(code.length), ...code]),
]);

export interface ResampleKernel {
  /** Sums x and y over the first 4 × quads draws from `state`: sx returned, sy at address 0. */
  sums(n: number, state: number, quads: number, xBase: number, yBase: number): number;
  memory: WebAssembly.Memory;
}

let kernel: ResampleKernel | null | undefined;

/** The compiled kernel, or null where WebAssembly (or its SIMD) is not available. */
export function resampleKernel(): ResampleKernel | null {
  if (kernel !== undefined) return kernel;
  try {
    const wasm = (globalThis as { WebAssembly?: typeof WebAssembly }).WebAssembly;
    const instance = wasm ? new wasm.Instance(new wasm.Module(moduleBytes)) : undefined;
    kernel = instance ? (instance.exports as unknown as ResampleKernel) : null;
  } catch {
    kernel = null;
  }
  return kernel;
}

/** Below this many items a draw's 64-bit product equals the JavaScript loop's exact double product. */
export const KERNEL_MAX_N = 2 ** 21;

/**
 * The columns copied into the kernel's memory (after the 8-byte scratch where `sums` leaves sy), with
 * each column's byte offset; undefined without a kernel.
 */
export function columnsInKernel(
  data: readonly Float64Array[],
): (ResampleKernel & { offsets: number[]; scratch: Float64Array }) | undefined {
  const k = resampleKernel();
  if (!k) return undefined;
  const n = data[0]?.length ?? 0;
  const bytes = 8 + 8 * n * data.length;
  const pages = Math.ceil(bytes / 65536) - k.memory.buffer.byteLength / 65536;
  if (pages > 0) k.memory.grow(pages);
  const memory = new Float64Array(k.memory.buffer);
  for (let c = 0; c < data.length; c++) memory.set(data[c]!, 1 + n * c);
  return { sums: k.sums, memory: k.memory, offsets: data.map((_, c) => 8 + 8 * n * c), scratch: memory };
}
