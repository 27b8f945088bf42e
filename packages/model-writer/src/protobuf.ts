/**
 * Just enough protobuf to write an ONNX ModelProto: messages are plain objects, a schema maps each
 * field name to its number and wire kind (field numbers from onnx/onnx.proto).
 */
type Kind = "int" | "ints" | "float" | "string" | "strings" | "bytes" | Schema | [Schema];
export interface Schema {
  [field: string]: [number, Kind];
}

const dimension: Schema = { dimValue: [1, "int"], dimParam: [2, "string"] };
const tensorType: Schema = { elemType: [1, "int"], shape: [2, { dim: [1, [dimension]] }] };
const valueInfo: Schema = { name: [1, "string"], type: [2, { tensorType: [1, tensorType] }] };
const tensor: Schema = {
  dims: [1, "ints"],
  dataType: [2, "int"],
  name: [8, "string"],
  rawData: [9, "bytes"],
  externalData: [13, [{ key: [1, "string"], value: [2, "string"] }]],
  dataLocation: [14, "int"],
};
const graph: Schema = { name: [2, "string"] };
const attribute: Schema = {
  name: [1, "string"],
  f: [2, "float"],
  i: [3, "int"],
  s: [4, "bytes"],
  g: [6, graph],
  ints: [8, "ints"],
  type: [20, "int"],
};
const node: Schema = {
  input: [1, "strings"],
  output: [2, "strings"],
  name: [3, "string"],
  opType: [4, "string"],
  attribute: [5, [attribute]],
  domain: [7, "string"],
};
Object.assign(graph, {
  node: [1, [node]],
  initializer: [5, [tensor]],
  input: [11, [valueInfo]],
  output: [12, [valueInfo]],
});

export const MODEL_PROTO: Schema = {
  irVersion: [1, "int"],
  producerName: [2, "string"],
  producerVersion: [3, "string"],
  graph: [7, graph],
  opsetImport: [8, [{ domain: [1, "string"], version: [2, "int"] }]],
};

class Writer {
  parts: Uint8Array[] = [];
  length = 0;
  push(bytes: Uint8Array): void {
    this.parts.push(bytes);
    this.length += bytes.length;
  }
  varint(value: number | bigint): void {
    // negative int64 values take ten bytes (two's complement)
    let v = BigInt.asUintN(64, BigInt(value));
    const out: number[] = [];
    while (v > 0x7fn) {
      out.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    out.push(Number(v));
    this.push(Uint8Array.from(out));
  }
  tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }
  delimited(field: number, child: Writer | Uint8Array): void {
    this.tag(field, 2);
    this.varint(child.length);
    if (child instanceof Writer) for (const p of child.parts) this.push(p);
    else this.push(child);
  }
}

/** Fields in field-number order, repeated ints packed: the bytes onnx-proto (protobufjs) wrote. */
function write(message: Record<string, unknown>, schema: Schema, out = new Writer()): Writer {
  const unknown = Object.keys(message).find((name) => schema[name] === undefined);
  if (unknown !== undefined) throw new Error(`protobuf: no field ${unknown} in this message`);
  const fields = Object.entries(schema).sort(([, a], [, b]) => a[0] - b[0]);
  for (const [name, [field, kind]] of fields) {
    const value = message[name];
    if (value === undefined || (Array.isArray(value) && value.length === 0)) continue;
    if (kind === "int") {
      out.tag(field, 0);
      out.varint(value as number);
    } else if (kind === "float") {
      out.tag(field, 5);
      const bytes = new Uint8Array(4);
      new DataView(bytes.buffer).setFloat32(0, value as number, true);
      out.push(bytes);
    } else if (kind === "string") out.delimited(field, new TextEncoder().encode(value as string));
    else if (kind === "bytes") out.delimited(field, value as Uint8Array);
    else if (kind === "strings")
      for (const s of value as string[]) out.delimited(field, new TextEncoder().encode(s));
    else if (kind === "ints") {
      const packed = new Writer();
      for (const v of value as number[]) packed.varint(v);
      out.delimited(field, packed);
    } else if (Array.isArray(kind)) {
      for (const item of value as Record<string, unknown>[]) out.delimited(field, write(item, kind[0]));
    } else out.delimited(field, write(value as Record<string, unknown>, kind));
  }
  return out;
}

/** Encodes `message` with `schema` into one buffer (weights are copied once, at the end). */
export function encodeMessage(message: Record<string, unknown>, schema: Schema): Uint8Array {
  const out = write(message, schema);
  const bytes = new Uint8Array(out.length);
  let at = 0;
  for (const p of out.parts) {
    bytes.set(p, at);
    at += p.length;
  }
  return bytes;
}
