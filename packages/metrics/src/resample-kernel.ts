import { ensureMemory, instantiateKernel, wasmOp as op, wasmModule, wasmType } from "@lmcot/core";

// The bootstrap's inner loop as WebAssembly: the mulberry32 draws of one resample four at a time in
// SIMD lanes (its state is a counter, so the lanes are independent), each draw's two values summed
// in draw order, as the JavaScript loop sums them.

/** mulberry32's step, added to its state before each draw. */
export const STEP = 0x6d2b79f5;

/** Below this many items a draw's 64-bit product equals the JavaScript loop's exact double product. */
export const KERNEL_MAX_N = 2 ** 21;

// Parameters, then locals, by index.
const [N, A, QUADS, X_BASE, Y_BASE] = [0, 1, 2, 3, 4];
const [STATE, T, N4, LO, HI, SX, SY, D] = [5, 6, 7, 8, 9, 10, 11, 12];
const { get, set } = op;
const splat4 = (v: number) => op.v128Const32(v, v, v, v);

/** `t = imul(t ^ (t >>> 15), t | 1)`, then `t ^= t + imul(t ^ (t >>> 7), t | 61)`, then `t ^= t >>> 14`, lane-wise. */
// biome-ignore format: one step of the generator a line
const mix = [
  ...get(STATE), ...get(STATE), ...op.i32Const(15), ...op.i32x4ShrU, ...op.v128Xor,
  ...get(STATE), ...splat4(1), ...op.v128Or, ...op.i32x4Mul, ...set(T),
  ...get(T), ...get(T), ...get(T), ...get(T), ...op.i32Const(7), ...op.i32x4ShrU, ...op.v128Xor,
  ...get(T), ...splat4(61), ...op.v128Or, ...op.i32x4Mul, ...op.i32x4Add, ...op.v128Xor, ...set(T),
  ...get(T), ...get(T), ...op.i32Const(14), ...op.i32x4ShrU, ...op.v128Xor, ...set(T),
];

/** A draw is floor(u × n / 2^32): the high half of the 64-bit product, lanes 0–1 and 2–3. */
// biome-ignore format: one pair of lanes a line
const draws = [
  ...get(T), ...get(N4), ...op.i64x2ExtmulLowI32x4U, ...op.i32Const(32), ...op.i64x2ShrU, ...set(LO),
  ...get(T), ...get(N4), ...op.i64x2ExtmulHighI32x4U, ...op.i32Const(32), ...op.i64x2ShrU, ...set(HI),
];

/** `sx += x[d]; sy += y[d]` for the draw in `lane` of `pair`. */
// biome-ignore format: the draw's byte offset, then one sum a line
const sum = (pair: number, lane: number) => [
  ...get(pair), ...op.i64x2ExtractLane(lane), ...op.i32WrapI64, ...op.i32Const(3), ...op.i32Shl, ...op.tee(D),
  ...get(X_BASE), ...op.i32Add, ...op.f64Load, ...get(SX), ...op.f64Add, ...set(SX),
  ...get(D), ...get(Y_BASE), ...op.i32Add, ...op.f64Load, ...get(SY), ...op.f64Add, ...set(SY),
];

/** kernel(n, state, quads, xBase, yBase) → sx, sy stored at address 0: the first 4 × quads draws. */
// biome-ignore format: one instruction group a line
const body = [
  ...get(N), ...op.i32x4Splat, ...set(N4),
  ...get(A), ...op.i32x4Splat, ...op.v128Const32(STEP, 2 * STEP, 3 * STEP, 4 * STEP), ...op.i32x4Add, ...set(STATE),
  ...op.block, ...op.loop,
  ...get(QUADS), ...op.i32Eqz, ...op.brIf(1),
  ...mix, ...draws, ...sum(LO, 0), ...sum(LO, 1), ...sum(HI, 0), ...sum(HI, 1),
  ...get(STATE), ...splat4(4 * STEP), ...op.i32x4Add, ...set(STATE),
  ...get(QUADS), ...op.i32Const(1), ...op.i32Sub, ...set(QUADS),
  ...op.br(0), ...op.end, ...op.end,
  ...op.i32Const(0), ...get(SY), ...op.f64Store,
  ...get(SX),
];

const { i32, f64, v128 } = wasmType;
const bytes = wasmModule({
  params: [i32, i32, i32, i32, i32],
  result: f64,
  locals: [
    [5, v128],
    [2, f64],
    [1, i32],
  ],
  body,
});

type Sums = (n: number, state: number, quads: number, xBase: number, yBase: number) => number;
let loaded: ReturnType<typeof instantiateKernel<Sums>> | undefined;

/** The compiled kernel, or null where WebAssembly (or its SIMD) is not available. */
export function resampleKernel() {
  loaded ??= instantiateKernel<Sums>(bytes);
  return loaded;
}

/**
 * The columns copied into the kernel's memory (after the 8-byte scratch where it leaves sy): its
 * `sums`, each column's byte offset and the scratch; undefined without a kernel.
 */
export function columnsInKernel(data: readonly Float64Array[]) {
  const k = resampleKernel();
  if (!k) return undefined;
  const n = data[0]?.length ?? 0;
  ensureMemory(k.memory, 8 + 8 * n * data.length);
  const memory = new Float64Array(k.memory.buffer);
  for (let c = 0; c < data.length; c++) memory.set(data[c]!, 1 + n * c);
  return { sums: k.kernel, offsets: data.map((_, c) => 8 + 8 * n * c), scratch: memory };
}
