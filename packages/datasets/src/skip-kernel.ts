import { ensureMemory, kernelFactory, wasmOp as op, wasmModule, wasmType } from "@lmcot/core";

// The JSON scanner's step over a skipped value (a gold file's contexts: most of its bytes) as
// WebAssembly: strings are crossed sixteen bytes at a time (SIMD compares for `"` and `\`), the few
// bytes between them one by one, tracking nesting and lines, as `ArrayScanner.skipValue` does.

/** Where the chunk's bytes start in the kernel's memory; before it, the scratch the kernel writes. */
const BASE = 64;
/** SIMD loads read up to 15 bytes past the chunk: masked, but they must be memory. */
const PAD = 16;

const [QUOTE, BACKSLASH, NEWLINE, COMMA] = [34, 92, 10, 44];
const [OPEN_BRACKET, CLOSE_BRACKET, OPEN_BRACE, CLOSE_BRACE] = [91, 93, 123, 125];

// Parameters, then locals, by index.
const [I, END, NESTING] = [0, 1, 2];
const [C, MASK, LINES, QUOTES, BACKSLASHES, V] = [3, 4, 5, 6, 7, 8];
const { get, set } = op;
const is = (byte: number) => [...get(C), ...op.i32Const(byte), ...op.i32Eq];
const add = (local: number, n: number) => [...get(local), ...op.i32Const(n), ...op.i32Add, ...set(local)];

/** Cut: 0 the value ended (or the chunk, between strings), 1 the chunk ended in a string, 2 right after its `\`. */
// biome-ignore format: one store a line
const exit = (position: number[], cut: number) => [
  ...op.i32Const(0), ...get(NESTING), ...op.i32Store(0),
  ...op.i32Const(0), ...get(LINES), ...op.i32Store(4),
  ...op.i32Const(0), ...op.i32Const(cut), ...op.i32Store(8),
  ...position, ...op.return,
];

/** From just after an opening quote to just after the closing one (then on to the next byte), or out at the chunk's end. */
// biome-ignore format: one instruction group a line
const string = [
  ...add(I, 1),
  ...op.loop,
  ...get(I), ...get(END), ...op.i32GeU, ...op.if, ...exit(get(END), 1), ...op.end,
  ...get(I), ...op.v128Load, ...set(V),
  ...get(V), ...get(QUOTES), ...op.i8x16Eq, ...get(V), ...get(BACKSLASHES), ...op.i8x16Eq, ...op.v128Or, ...op.i8x16Bitmask, ...set(MASK),
  // Fewer than 16 bytes left: only their bits count.
  ...get(END), ...get(I), ...op.i32Sub, ...op.i32Const(16), ...op.i32LtU, ...op.if,
  ...get(MASK), ...op.i32Const(1), ...get(END), ...get(I), ...op.i32Sub, ...op.i32Shl, ...op.i32Const(1), ...op.i32Sub, ...op.i32And, ...set(MASK),
  ...op.end,
  ...get(MASK), ...op.i32Eqz, ...op.if, ...add(I, 16), ...op.br(1), ...op.end,
  ...get(I), ...get(MASK), ...op.i32Ctz, ...op.i32Add, ...set(I),
  // A quote closes the string: on with the value (the loop two blocks out).
  ...get(I), ...op.i32Load8U, ...op.i32Const(QUOTE), ...op.i32Eq, ...op.if, ...add(I, 1), ...op.br(3), ...op.end,
  // A backslash: step over it and the byte it escapes.
  ...add(I, 2),
  ...get(I), ...get(END), ...op.i32GtU, ...op.if, ...exit(get(END), 2), ...op.end,
  ...op.br(0),
  ...op.end,
];

// biome-ignore format: one byte class a line
const structure = [
  ...is(OPEN_BRACKET), ...is(OPEN_BRACE), ...op.i32Or, ...op.if, ...add(NESTING, 1), ...op.else,
  ...is(CLOSE_BRACKET), ...is(CLOSE_BRACE), ...op.i32Or, ...op.if,
  ...get(NESTING), ...op.i32Eqz, ...op.if, ...exit(get(I), 0), ...op.end, ...add(NESTING, -1), ...op.else,
  ...is(COMMA), ...op.if, ...get(NESTING), ...op.i32Eqz, ...op.if, ...exit(get(I), 0), ...op.end, ...op.else,
  ...is(NEWLINE), ...op.if, ...add(LINES, 1), ...op.end,
  ...op.end, ...op.end, ...op.end,
];

/** kernel(i, end, nesting) → where the value ends (its `,` or closing bracket) or `end`; state in the scratch. */
// biome-ignore format: one instruction group a line
const body = [
  ...op.i32Const(QUOTE), ...op.i8x16Splat, ...set(QUOTES),
  ...op.i32Const(BACKSLASH), ...op.i8x16Splat, ...set(BACKSLASHES),
  ...op.loop,
  ...get(I), ...get(END), ...op.i32GeU, ...op.if, ...exit(get(END), 0), ...op.end,
  ...get(I), ...op.i32Load8U, ...set(C),
  ...is(QUOTE), ...op.if, ...string, ...op.end,
  ...structure,
  ...add(I, 1), ...op.br(0),
  ...op.end,
  ...get(END),
];

const { i32, v128 } = wasmType;
const bytes = wasmModule({
  params: [i32, i32, i32],
  result: i32,
  locals: [
    [3, i32],
    [3, v128],
  ],
  body,
});

type Skip = (i: number, end: number, nesting: number) => number;
let factory: ReturnType<typeof kernelFactory<Skip>> | undefined;

/** The end of a skipped value in a chunk, and the scanner state after it. */
export interface SkipResult {
  /** Index of the `,` or closing bracket that ends the value, or the chunk's length when it ends first. */
  end: number;
  nesting: number;
  /** Newlines stepped over (outside strings). */
  lines: number;
  inString: boolean;
  escaped: boolean;
}

export interface SkipKernel {
  /** Two read buffers inside the kernel's memory: a chunk read into one is skipped where it lies. */
  buffers: readonly [Buffer, Buffer];
  /** The skipper over a chunk, which must be (a part of) one of `buffers`. */
  over(chunk: Buffer): (i: number, nesting: number) => SkipResult;
}

/**
 * A kernel of one scanner's own (its own memory, so scanners reading at once never share it) with
 * read buffers of `size` bytes; undefined where WebAssembly or its SIMD is missing.
 */
export function skipKernel(size: number): SkipKernel | undefined {
  factory ??= kernelFactory<Skip>(bytes);
  if (!factory) return undefined;
  const { kernel, memory } = factory();
  ensureMemory(memory, BASE + 2 * (size + PAD));
  const buffers = [
    Buffer.from(memory.buffer, BASE, size),
    Buffer.from(memory.buffer, BASE + size + PAD, size),
  ] as const;
  const scratch = new Int32Array(memory.buffer, 0, 3);
  return {
    buffers,
    over(chunk) {
      if (chunk.buffer !== memory.buffer)
        throw new RangeError("skipKernel: the chunk is not in the kernel's buffers");
      const start = chunk.byteOffset;
      const end = start + chunk.length;
      return (i, nesting) => {
        const at = kernel(start + i, end, nesting) - start;
        const cut = scratch[2];
        return { end: at, nesting: scratch[0]!, lines: scratch[1]!, inString: cut !== 0, escaped: cut === 2 };
      };
    },
  };
}
