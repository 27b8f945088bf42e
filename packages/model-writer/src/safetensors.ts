import { type FileHandle, open } from "node:fs/promises";
import { BadRequestError } from "@lmcot/core";
import type { WeightTensor } from "./t5-onnx";

/** The tensor dtypes read (all returned as float32) and written (F32 by default). */
const WIDTH = { F32: 4, F16: 2, BF16: 2 } as const;
export type SafetensorsDtype = keyof typeof WIDTH;
type Dtype = SafetensorsDtype;

interface HeaderEntry {
  name: string;
  dtype: Dtype;
  shape: number[];
  begin: number;
  end: number;
}

const bad = (message: string) => new BadRequestError(message);

/** Checks a parsed safetensors header against the data size; errors name `source` and the tensor. */
function headerEntries(header: Record<string, unknown>, dataBytes: number, source: string): HeaderEntry[] {
  const entries: HeaderEntry[] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const { dtype, shape, data_offsets: offsets } = (entry ?? {}) as Record<string, unknown>;
    if (
      !Array.isArray(shape) ||
      !shape.every((d) => Number.isInteger(d) && d >= 0) ||
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isInteger(o) && o >= 0)
    ) {
      throw bad(`${source}: tensor ${name}: shape or data_offsets missing or invalid`);
    }
    if (typeof dtype !== "string" || !(dtype in WIDTH))
      throw bad(`${source}: tensor ${name}: dtype ${String(dtype)} is not supported (F32, F16, BF16)`);
    const [begin, end] = offsets as [number, number];
    if (end < begin) throw bad(`${source}: tensor ${name}: data_offsets [${begin}, ${end}] are reversed`);
    if (end > dataBytes) {
      throw bad(
        `${source}: tensor ${name}: data ends at byte ${end} but the file holds ${dataBytes} data bytes (truncated file?)`,
      );
    }
    const size = (shape as number[]).reduce((a, b) => a * b, 1);
    if (end - begin !== size * WIDTH[dtype as Dtype]) {
      throw bad(`${source}: tensor ${name}: ${end - begin} bytes for shape [${shape}] of ${dtype}`);
    }
    entries.push({ name, dtype: dtype as Dtype, shape: shape as number[], begin, end });
  }
  return entries;
}

function parseHeader(json: Uint8Array, source: string): Record<string, unknown> {
  try {
    const header = JSON.parse(new TextDecoder().decode(json));
    if (typeof header === "object" && header !== null && !Array.isArray(header)) return header;
  } catch {}
  throw bad(`${source}: header is not a valid JSON object`);
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** Raw little-endian bytes of one tensor → float32 (F32 bits are copied unchanged). */
function toFloat32(raw: Uint8Array, dtype: Dtype): Float32Array {
  if (dtype === "F32") {
    const copy = new Uint8Array(raw.length);
    copy.set(raw);
    return new Float32Array(copy.buffer);
  }
  const halves = new Uint16Array(raw.length / 2);
  new Uint8Array(halves.buffer).set(raw);
  if (dtype === "BF16") {
    const bits = new Uint32Array(halves.length);
    for (let i = 0; i < halves.length; i++) bits[i] = (halves[i] as number) << 16;
    return new Float32Array(bits.buffer);
  }
  const out = new Float32Array(halves.length);
  for (let i = 0; i < halves.length; i++) out[i] = halfToFloat(halves[i] as number);
  return out;
}

function headerLengthOf(prefix: Uint8Array, fileBytes: number, source: string): number {
  if (fileBytes < 8) throw bad(`${source}: too short to be a safetensors file (${fileBytes} bytes)`);
  const length = Number(new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true));
  if (length <= 0 || 8 + length > fileBytes) {
    throw bad(`${source}: header length ${length} does not fit in ${fileBytes} bytes (truncated file?)`);
  }
  return length;
}

/** Parses safetensors bytes; F32, F16 and BF16 tensors are returned as float32. `source` names the file in errors. */
export function decodeSafetensors(bytes: Uint8Array, source = "safetensors"): Map<string, WeightTensor> {
  const headerLength = headerLengthOf(bytes, bytes.length, source);
  const base = 8 + headerLength;
  const header = parseHeader(bytes.subarray(8, base), source);
  const tensors = new Map<string, WeightTensor>();
  for (const e of headerEntries(header, bytes.length - base, source)) {
    tensors.set(e.name, {
      data: toFloat32(bytes.subarray(base + e.begin, base + e.end), e.dtype),
      shape: e.shape,
    });
  }
  return tensors;
}

/**
 * Reads a safetensors file tensor by tensor (no whole-file buffer, so files past 2 GB read too).
 * A file shorter than its header says is reported as truncated, naming the first tensor it cuts.
 */
export async function readSafetensors(file: string): Promise<Map<string, WeightTensor>> {
  const handle = await open(file, "r");
  try {
    const { size } = await handle.stat();
    const prefix = new Uint8Array(8);
    await handle.read(prefix, 0, Math.min(8, size), 0);
    const headerLength = headerLengthOf(prefix, size, file);
    const json = new Uint8Array(headerLength);
    await handle.read(json, 0, headerLength, 8);
    const base = 8 + headerLength;
    const tensors = new Map<string, WeightTensor>();
    for (const e of headerEntries(parseHeader(json, file), size - base, file)) {
      const raw = new Uint8Array(e.end - e.begin);
      let at = 0;
      while (at < raw.length) {
        const { bytesRead } = await handle.read(
          raw,
          at,
          Math.min(raw.length - at, 1 << 30),
          base + e.begin + at,
        );
        if (bytesRead === 0) throw bad(`${file}: tensor ${e.name}: file ended early (truncated file?)`);
        at += bytesRead;
      }
      tensors.set(e.name, { data: toFloat32(raw, e.dtype), shape: e.shape });
    }
    return tensors;
  } finally {
    await handle.close();
  }
}

/** The header bytes (JSON padded with spaces to 8 bytes, as the Rust `safetensors` writes) and the data length. */
function encodeHeader(
  tensors: Map<string, WeightTensor>,
  metadata: Record<string, string>,
  dtype: Dtype,
): { names: string[]; header: Uint8Array; dataBytes: number } {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const name of names) {
    const t = tensors.get(name) as WeightTensor;
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (size !== t.data.length)
      throw new Error(`safetensors: ${name} has ${t.data.length} values for shape [${t.shape}]`);
    const bytes = t.data.length * WIDTH[dtype];
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const bytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + bytes.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(bytes.length), true);
  out.set(bytes, 8);
  return { names, header: out, dataBytes: offset };
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 → IEEE half, rounding to nearest even (overflow → ±Infinity, tiny values → subnormals or 0). */
export function floatToHalf(value: number): number {
  f32[0] = value;
  const x = u32[0] as number;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 112;
  if (e >= 0x1f) return sign | 0x7c00;
  // drop `shift` low bits of m, rounding to nearest, ties to even
  const roundedShift = (m: number, shift: number) => {
    let half = m >>> shift;
    const rest = m & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && half & 1)) half++;
    return half;
  };
  if (e <= 0) return e < -10 ? sign : sign | roundedShift(mant | 0x800000, 14 - e);
  // a mantissa that rounds up to 0x400 carries into the exponent, as it should
  return sign | ((e << 10) + roundedShift(mant, 13));
}

/** float32 → bfloat16 (the top 16 bits), rounding to nearest even; NaN stays NaN. */
export function floatToBfloat16(value: number): number {
  f32[0] = value;
  const x = u32[0] as number;
  if ((x & 0x7fffffff) > 0x7f800000) return 0x7fc0;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

/** A tensor's bytes in `dtype` (F32: its own bytes, no copy). */
function tensorBytes(t: WeightTensor, dtype: Dtype = "F32"): Uint8Array {
  if (dtype === "F32") return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const out = new Uint16Array(t.data.length);
  const convert = dtype === "F16" ? floatToHalf : floatToBfloat16;
  for (let i = 0; i < out.length; i++) out[i] = convert(t.data[i] as number);
  return new Uint8Array(out.buffer);
}

/** Appends every byte of `bytes` (a single write may take fewer). */
export async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length; ) {
    const { bytesWritten } = await handle.write(bytes, at, Math.min(bytes.length - at, 1 << 30));
    at += bytesWritten;
  }
}

/**
 * Writes float32 tensors in the safetensors format (stored as `dtype`, F32 by default): an 8-byte
 * little-endian header length, a JSON header mapping names (sorted) to dtype/shape/byte offsets, then the data.
 */
export function encodeSafetensors(
  tensors: Map<string, WeightTensor>,
  metadata: Record<string, string> = { format: "pt" },
  dtype: SafetensorsDtype = "F32",
): Uint8Array {
  const { names, header, dataBytes } = encodeHeader(tensors, metadata, dtype);
  const out = new Uint8Array(header.length + dataBytes);
  out.set(header, 0);
  let at = header.length;
  for (const name of names) {
    const bytes = tensorBytes(tensors.get(name) as WeightTensor, dtype);
    out.set(bytes, at);
    at += bytes.length;
  }
  return out;
}

/** Writes `tensors` to `file` tensor by tensor (no whole-file buffer); returns the file's size. */
export async function writeSafetensors(
  file: string,
  tensors: Map<string, WeightTensor>,
  metadata: Record<string, string> = { format: "pt" },
  dtype: SafetensorsDtype = "F32",
): Promise<number> {
  const { names, header, dataBytes } = encodeHeader(tensors, metadata, dtype);
  const handle = await open(file, "w");
  try {
    await writeAll(handle, header);
    for (const name of names) await writeAll(handle, tensorBytes(tensors.get(name) as WeightTensor, dtype));
  } finally {
    await handle.close();
  }
  return header.length + dataBytes;
}
