import { encodeMessage, MODEL_PROTO } from "./protobuf";

export const TensorType = { float: 1, int8: 3, int64: 7, bool: 9 } as const;
export type TensorTypeName = keyof typeof TensorType;

/** A dimension: a fixed size or a symbolic name such as `batch_size`. */
export type Dim = number | string;

export type AttributeValue =
  | number
  | number[]
  | string
  | { float: number }
  | { graph: Record<string, unknown> };

const AttrType = { FLOAT: 1, INT: 2, STRING: 3, GRAPH: 5, INTS: 7 } as const;

function attribute(name: string, value: AttributeValue): Record<string, unknown> {
  if (typeof value === "number") {
    if (!Number.isInteger(value)) throw new Error(`attribute ${name}: use { float } for non-integers`);
    return { name, type: AttrType.INT, i: value };
  }
  if (typeof value === "string") return { name, type: AttrType.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: AttrType.INTS, ints: value };
  if ("graph" in value) return { name, type: AttrType.GRAPH, g: value.graph };
  return { name, type: AttrType.FLOAT, f: value.float };
}

function valueInfo(name: string, type: TensorTypeName, dims: Dim[]): Record<string, unknown> {
  return {
    name,
    type: {
      tensorType: {
        elemType: TensorType[type],
        shape: { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function bytesOf(data: Float32Array | BigInt64Array | Uint8Array): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * A small builder for ONNX graphs: add inputs, initializers and nodes, then `toBytes()` a ModelProto.
 * Node outputs get unique names from the op type unless a name is given.
 */
export class OnnxGraph {
  private readonly nodes: Record<string, unknown>[] = [];
  private readonly initializers: Record<string, unknown>[] = [];
  private readonly inputs: Record<string, unknown>[] = [];
  private readonly outputs: Record<string, unknown>[] = [];
  private readonly names: Set<string>;
  private readonly counter: { next: number };
  private readonly constants: Map<string, string>;
  /** Whether a node uses onnxruntime's `com.microsoft` contrib ops (e.g. FusedMatMul). */
  private contribOps = false;
  /** The main graph; subgraphs (If branches) keep weights and constants there and share its names. */
  private readonly root: OnnxGraph;

  constructor(
    readonly name: string,
    readonly opset = 17,
    parent?: OnnxGraph,
  ) {
    this.root = parent?.root ?? this;
    this.names = parent?.names ?? new Set();
    this.counter = parent?.counter ?? { next: 0 };
    this.constants = parent?.constants ?? new Map();
  }

  private fresh(hint: string): string {
    let name: string;
    do {
      name = `${hint}_${this.counter.next++}`;
    } while (this.names.has(name));
    this.names.add(name);
    return name;
  }

  private claim(name: string): string {
    if (this.names.has(name)) throw new Error(`ONNX graph ${this.name}: duplicate value name ${name}`);
    this.names.add(name);
    return name;
  }

  input(name: string, type: TensorTypeName, dims: Dim[]): string {
    this.inputs.push(valueInfo(this.claim(name), type, dims));
    return name;
  }

  /** Marks `value` as a graph output named `name` (an Identity node renames it when they differ). */
  output(name: string, value: string, type: TensorTypeName, dims: Dim[]): void {
    if (value !== name) this.node("Identity", [value], {}, name);
    this.outputs.push(valueInfo(name, type, dims));
  }

  /** A float32 weight stored in the model file. */
  weight(name: string, data: Float32Array, dims: number[]): string {
    const size = dims.reduce((a, b) => a * b, 1);
    if (size !== data.length) {
      throw new Error(
        `ONNX graph ${this.name}: ${name} has ${data.length} values, shape [${dims}] needs ${size}`,
      );
    }
    this.root.initializers.push({
      name: this.claim(name),
      dims,
      dataType: TensorType.float,
      rawData: bytesOf(data),
    });
    return name;
  }

  /** An int8 weight (quantized) stored in the model file. */
  int8Weight(name: string, data: Int8Array, dims: number[]): string {
    this.root.initializers.push({
      name: this.claim(name),
      dims,
      dataType: TensorType.int8,
      rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    });
    return name;
  }

  /** A node with several outputs (fresh names). */
  nodeOutputs(
    op: string,
    inputs: string[],
    count: number,
    attrs: Record<string, AttributeValue> = {},
  ): string[] {
    const outs = Array.from({ length: count }, () => this.fresh(op));
    this.nodes.push({
      opType: op,
      name: `${op}_node_${this.nodes.length}`,
      input: inputs,
      output: outs,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return outs;
  }

  /** An int64 constant (shared between uses with equal values). Pass `scalar` for a 0-d tensor. */
  ints(values: number[], scalar = false): string {
    const key = `i64:${scalar ? "s" : "v"}:${values.join(",")}`;
    const known = this.constants.get(key);
    if (known !== undefined) return known;
    const name = this.fresh("const_i64");
    this.root.initializers.push({
      name,
      dims: scalar ? [] : [values.length],
      dataType: TensorType.int64,
      rawData: bytesOf(BigInt64Array.from(values.map((v) => BigInt(v)))),
    });
    this.constants.set(key, name);
    return name;
  }

  /** A float32 constant (shared between uses with equal values). */
  floats(values: number[], scalar = true): string {
    const key = `f32:${scalar ? "s" : "v"}:${values.join(",")}`;
    const known = this.constants.get(key);
    if (known !== undefined) return known;
    const name = this.fresh("const_f32");
    this.root.initializers.push({
      name,
      dims: scalar ? [] : [values.length],
      dataType: TensorType.float,
      rawData: bytesOf(Float32Array.from(values)),
    });
    this.constants.set(key, name);
    return name;
  }

  node(
    op: string,
    inputs: string[],
    attrs: Record<string, AttributeValue> = {},
    outputName?: string,
  ): string {
    const out = outputName === undefined ? this.fresh(op) : this.claim(outputName);
    this.nodes.push({
      opType: op,
      name: `${op}_node_${this.nodes.length}`,
      input: inputs,
      output: [out],
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return out;
  }

  /** A node of onnxruntime's `com.microsoft` domain (runs on onnxruntime only), e.g. `FusedMatMul`. */
  contrib(op: string, inputs: string[], attrs: Record<string, AttributeValue> = {}): string {
    const out = this.node(op, inputs, attrs);
    (this.nodes[this.nodes.length - 1] as Record<string, unknown>).domain = "com.microsoft";
    this.root.contribOps = true;
    return out;
  }

  /**
   * An `If` node: `build(branch, taken)` fills each branch (it may read any value of the enclosing
   * graph) and returns that branch's output values, in the order of `outputs`.
   */
  ifNode(
    condition: string,
    outputs: { name: string; type: TensorTypeName; dims: Dim[] }[],
    build: (branch: OnnxGraph, taken: boolean) => string[],
  ): string[] {
    const branches = [true, false].map((taken) => {
      const branch = new OnnxGraph(
        `${this.name}_${taken ? "then" : "else"}_${this.counter.next}`,
        this.opset,
        this,
      );
      const values = build(branch, taken);
      if (values.length !== outputs.length)
        throw new Error(`If branch returned ${values.length} values for ${outputs.length} outputs`);
      values.forEach((value, i) => {
        const spec = outputs[i] as (typeof outputs)[number];
        const renamed = branch.node("Identity", [value]);
        branch.outputs.push(valueInfo(renamed, spec.type, spec.dims));
      });
      return { name: branch.name, node: branch.nodes, output: branch.outputs };
    });
    const names = outputs.map((o) => this.claim(o.name));
    this.nodes.push({
      opType: "If",
      name: `If_node_${this.nodes.length}`,
      input: [condition],
      output: names,
      attribute: [
        attribute("then_branch", { graph: branches[0] as Record<string, unknown> }),
        attribute("else_branch", { graph: branches[1] as Record<string, unknown> }),
      ],
    });
    return names;
  }

  private modelProto(initializers: Record<string, unknown>[]): Record<string, unknown> {
    return {
      irVersion: 8,
      producerName: "lmcot",
      producerVersion: "0.1.0",
      opsetImport: [
        { domain: "", version: this.opset },
        ...(this.contribOps ? [{ domain: "com.microsoft", version: 1 }] : []),
      ],
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: initializers,
        input: this.inputs,
        output: this.outputs,
      },
    };
  }

  /** The model as one protobuf, weights inside (below protobuf's 2 GB limit only). */
  toBytes(): Uint8Array {
    return encodeMessage(this.modelProto(this.initializers), MODEL_PROTO);
  }

  /** Bytes of every initializer's data. */
  weightBytes(): number {
    return this.initializers.reduce((n, t) => n + ((t.rawData as Uint8Array | undefined)?.length ?? 0), 0);
  }

  /**
   * The model with its weights in ONNX external data files when they would make the protobuf larger
   * than `maxModelBytes` (protobuf refuses messages past 2 GB). Initializers of 1 KB or more move to
   * `<modelFile>_data`, `<modelFile>_data_1`, … (transformers.js's chunk names), each at most
   * `maxChunkBytes`; small constants stay inside. `chunks` is empty when everything fits.
   */
  toFiles(
    modelFile: string,
    options: { maxModelBytes?: number; maxChunkBytes?: number } = {},
  ): { model: Uint8Array; chunks: { file: string; parts: Uint8Array[] }[] } {
    const maxModel = options.maxModelBytes ?? EXTERNAL_DATA_THRESHOLD;
    if (this.weightBytes() <= maxModel) return { model: this.toBytes(), chunks: [] };
    const maxChunk = options.maxChunkBytes ?? EXTERNAL_DATA_CHUNK_BYTES;
    const chunks: { file: string; parts: Uint8Array[]; size: number }[] = [];
    const initializers = this.initializers.map((t) => {
      const raw = t.rawData as Uint8Array;
      if (raw.length < 1024) return t;
      let chunk = chunks.at(-1);
      if (chunk === undefined || (chunk.size > 0 && chunk.size + raw.length > maxChunk)) {
        chunk = {
          file: `${modelFile}_data${chunks.length === 0 ? "" : `_${chunks.length}`}`,
          parts: [],
          size: 0,
        };
        chunks.push(chunk);
      }
      const offset = chunk.size;
      chunk.parts.push(raw);
      const pad = (64 - (raw.length % 64)) % 64;
      if (pad > 0) chunk.parts.push(new Uint8Array(pad));
      chunk.size += raw.length + pad;
      const { rawData: _, ...rest } = t;
      return {
        ...rest,
        dataLocation: 1,
        externalData: [
          { key: "location", value: chunk.file },
          { key: "offset", value: String(offset) },
          { key: "length", value: String(raw.length) },
        ],
      };
    });
    return {
      model: encodeMessage(this.modelProto(initializers), MODEL_PROTO),
      chunks: chunks.map(({ file, parts }) => ({ file, parts })),
    };
  }
}

/** Weights above this many bytes go to external data: protobuf's 2 GB limit, less room for the graph. */
export const EXTERNAL_DATA_THRESHOLD = 2 ** 31 - 2 ** 26;
/** The largest external data file written (a browser reads each file into one ArrayBuffer). */
export const EXTERNAL_DATA_CHUNK_BYTES = 2 ** 31 - 2 ** 26;
