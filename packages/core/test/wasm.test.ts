import { describe, expect, it } from "vitest";
import { ensureMemory, kernelFactory, wasmOp as op, wasmModule, wasmType } from "../src/index";

const { i32 } = wasmType;

describe("wasmModule", () => {
  it("assembles a function that runs, as the README shows", () => {
    const bytes = wasmModule({
      params: [i32, i32],
      result: i32,
      locals: [],
      body: [...op.get(0), ...op.get(1), ...op.i32Add],
    });
    const add = kernelFactory<(a: number, b: number) => number>(bytes)?.();
    expect(add?.kernel(2, 3)).toBe(5);
    expect(add?.kernel(-7, 2 ** 31)).toBe((-7 + 2 ** 31) | 0); // i32 arithmetic wraps
  });

  it("gives each instance its own memory, grown on demand", () => {
    // kernel(address) → the byte there; a loop and a local count the bytes equal to 7 below the address.
    // biome-ignore format: one instruction group a line
    const body = [
      ...op.block, ...op.loop,
      ...op.get(0), ...op.i32Eqz, ...op.brIf(1),
      ...op.get(0), ...op.i32Const(1), ...op.i32Sub, ...op.tee(0), ...op.i32Load8U, ...op.i32Const(7), ...op.i32Eq,
      ...op.get(1), ...op.i32Add, ...op.set(1),
      ...op.br(0), ...op.end, ...op.end,
      ...op.get(1),
    ];
    const make = kernelFactory<(end: number) => number>(
      wasmModule({ params: [i32], result: i32, locals: [[1, i32]], body }),
    );
    const [a, b] = [make!(), make!()];
    ensureMemory(a.memory, 3 * 65536);
    expect(a.memory.buffer.byteLength).toBe(3 * 65536);
    expect(b.memory.buffer.byteLength).toBe(65536);
    new Uint8Array(a.memory.buffer).set([7, 1, 7, 7], 100_000);
    expect(a.kernel(100_004)).toBe(3);
    expect(b.kernel(100)).toBe(0);
  });

  it("is null where a module does not compile (no WebAssembly, or an instruction it lacks)", () => {
    expect(kernelFactory(new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x02, 0x00, 0x00, 0x00]))).toBeNull();
  });
});
