import { readFile, writeFile } from "node:fs/promises";
import type { WeightTensor } from "./t5-onnx";

/**
 * Writes float32 tensors in the safetensors format: an 8-byte little-endian header length, a JSON
 * header (padded with spaces to 8 bytes) mapping names to dtype/shape/byte offsets, then the data.
 */
export function encodeSafetensors(
  tensors: Map<string, WeightTensor>,
  metadata: Record<string, string> = { format: "pt" },
): Uint8Array {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const name of names) {
    const t = tensors.get(name) as WeightTensor;
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (size !== t.data.length)
      throw new Error(`safetensors: ${name} has ${t.data.length} values for shape [${t.shape}]`);
    header[name] = { dtype: "F32", shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const name of names) {
    const t = tensors.get(name) as WeightTensor;
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}

export async function writeSafetensors(
  file: string,
  tensors: Map<string, WeightTensor>,
  metadata?: Record<string, string>,
): Promise<void> {
  await writeFile(file, encodeSafetensors(tensors, metadata));
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** Parses safetensors bytes; F32, F16 and BF16 tensors are returned as float32. `source` names the file in errors. */
export function decodeSafetensors(bytes: Uint8Array, source = "safetensors"): Map<string, WeightTensor> {
  if (bytes.length < 8) throw new Error(`${source}: too short to be a safetensors file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength <= 0 || 8 + headerLength > bytes.length) {
    throw new Error(`${source}: header length ${headerLength} does not fit in ${bytes.length} bytes`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  } catch {
    throw new Error(`${source}: header is not valid JSON`);
  }
  const base = 8 + headerLength;
  const tensors = new Map<string, WeightTensor>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const {
      dtype,
      shape,
      data_offsets: offsets,
    } = (entry ?? {}) as {
      dtype?: unknown;
      shape?: unknown;
      data_offsets?: unknown;
    };
    if (
      !Array.isArray(shape) ||
      !shape.every((d) => Number.isInteger(d) && d >= 0) ||
      !Array.isArray(offsets) ||
      offsets.length !== 2
    ) {
      throw new Error(`${source}: tensor ${name}: shape or data_offsets missing or invalid`);
    }
    const [begin, end] = offsets as [number, number];
    if (!(begin >= 0 && end >= begin && base + end <= bytes.length)) {
      throw new Error(`${source}: tensor ${name}: data_offsets [${begin}, ${end}] out of range`);
    }
    const size = (shape as number[]).reduce((a, b) => a * b, 1);
    const raw = bytes.subarray(base + begin, base + end);
    const width = dtype === "F32" ? 4 : dtype === "F16" || dtype === "BF16" ? 2 : 0;
    if (width === 0)
      throw new Error(`${source}: tensor ${name}: dtype ${String(dtype)} is not supported (F32, F16, BF16)`);
    if (raw.length !== size * width) {
      throw new Error(`${source}: tensor ${name}: ${raw.length} bytes for shape [${shape}] of ${dtype}`);
    }
    const data = new Float32Array(size);
    const rv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let i = 0; i < size; i++) {
      if (width === 4) data[i] = rv.getFloat32(i * 4, true);
      else if (dtype === "F16") data[i] = halfToFloat(rv.getUint16(i * 2, true));
      else {
        const bits = new Uint32Array([rv.getUint16(i * 2, true) << 16]);
        data[i] = new Float32Array(bits.buffer)[0] as number;
      }
    }
    tensors.set(name, { data, shape: shape as number[] });
  }
  return tensors;
}

export async function readSafetensors(file: string): Promise<Map<string, WeightTensor>> {
  return decodeSafetensors(new Uint8Array(await readFile(file)), file);
}
