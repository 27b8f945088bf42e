// A WebAssembly module of one function and its memory, assembled from named opcodes: for the few
// hot loops (the bootstrap's draws, the gold-file scanner) where SIMD lanes beat JavaScript. No
// toolchain: the bytes are written here, and where WebAssembly or its SIMD is missing
// `instantiateKernel` returns null and the caller keeps its JavaScript loop.

/** Value types. */
export const wasmType = { i32: 0x7f, f64: 0x7c, v128: 0x7b } as const;

const SIMD = 0xfd;

/** The instructions the kernels use, by their text-format names; each is its encoding. */
export const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  if: [0x04, 0x40],
  else: [0x05],
  end: [0x0b],
  br: (depth: number) => [0x0c, depth],
  brIf: (depth: number) => [0x0d, depth],
  return: [0x0f],
  get: (local: number) => [0x20, local],
  set: (local: number) => [0x21, local],
  tee: (local: number) => [0x22, local],
  i32Load8U: [0x2d, 0, 0],
  i32Store: (offset: number) => [0x36, 2, offset],
  f64Load: [0x2b, 3, 0],
  f64Store: [0x39, 3, 0],
  i32Const: (value: number) => [0x41, ...sleb(value)],
  i32Eqz: [0x45],
  i32Eq: [0x46],
  i32LtU: [0x49],
  i32GtU: [0x4b],
  i32GeU: [0x4f],
  i32Ctz: [0x68],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  i32And: [0x71],
  i32Or: [0x72],
  i32Shl: [0x74],
  f64Add: [0xa0],
  i32WrapI64: [0xa7],
  v128Load: [SIMD, 0x00, 0, 0],
  v128Const32: (a: number, b: number, c: number, d: number) => [SIMD, 0x0c, ...lanes32(a, b, c, d)],
  i8x16Splat: [SIMD, 0x0f],
  i32x4Splat: [SIMD, 0x11],
  i64x2ExtractLane: (lane: number) => [SIMD, 0x1d, lane],
  i8x16Eq: [SIMD, 0x23],
  v128Or: [SIMD, 0x50],
  v128Xor: [SIMD, 0x51],
  i8x16Bitmask: [SIMD, 0x64],
  i32x4ShrU: [SIMD, 0xad, 0x01],
  i32x4Add: [SIMD, 0xae, 0x01],
  i32x4Mul: [SIMD, 0xb5, 0x01],
  i64x2ShrU: [SIMD, 0xcd, 0x01],
  i64x2ExtmulLowI32x4U: [SIMD, 0xde, 0x01],
  i64x2ExtmulHighI32x4U: [SIMD, 0xdf, 0x01],
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

/** Four 32-bit lanes, little-endian (each taken modulo 2^32). */
function lanes32(...values: number[]): number[] {
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < 4; i++) view.setUint32(i * 4, values[i]! >>> 0, true);
  return [...bytes];
}

const section = (id: number, content: number[]) => [id, ...uleb(content.length), ...content];
const name = (s: string) => [s.length, ...[...s].map((c) => c.charCodeAt(0))];

export interface WasmKernel {
  /** Exported as `kernel`. */
  params: number[];
  result: number;
  /** Locals after the parameters, in runs: `[count, type]`. */
  locals: [number, number][];
  body: number[];
}

/** The module: its one function exported as `kernel`, its memory (one page to start) as `memory`. */
export function wasmModule(kernel: WasmKernel): Uint8Array<ArrayBuffer> {
  const locals = [kernel.locals.length, ...kernel.locals.flat()];
  const code = [...locals, ...kernel.body, ...op.end];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [1, 0x60, kernel.params.length, ...kernel.params, 1, kernel.result]),
    ...section(3, [1, 0]),
    ...section(5, [1, 0x00, 1]),
    ...section(7, [2, ...name("kernel"), 0x00, 0, ...name("memory"), 0x02, 0]),
    ...section(10, [1, ...uleb(code.length), ...code]),
  ]);
}

type KernelExports<F> = { kernel: F; memory: WebAssembly.Memory };

/**
 * A factory of instances of the module (each with its own memory), compiled once; null where
 * WebAssembly or an instruction the module uses is missing.
 */
export function kernelFactory<F extends (...args: number[]) => number>(
  bytes: Uint8Array<ArrayBuffer>,
): (() => KernelExports<F>) | null {
  const wasm = (globalThis as { WebAssembly?: typeof WebAssembly }).WebAssembly;
  if (!wasm) return null;
  try {
    const module = new wasm.Module(bytes);
    return () => new wasm.Instance(module).exports as unknown as KernelExports<F>;
  } catch {
    return null;
  }
}

/** One instance of the module, or null where WebAssembly or an instruction it uses is missing. */
export function instantiateKernel<F extends (...args: number[]) => number>(
  bytes: Uint8Array<ArrayBuffer>,
): KernelExports<F> | null {
  return kernelFactory<F>(bytes)?.() ?? null;
}

/** Grows a kernel's memory to hold at least `bytes`. */
export function ensureMemory(memory: WebAssembly.Memory, bytes: number): void {
  const pages = Math.ceil(bytes / 65536) - memory.buffer.byteLength / 65536;
  if (pages > 0) memory.grow(pages);
}
