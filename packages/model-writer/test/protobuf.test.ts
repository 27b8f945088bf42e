import { describe, expect, it } from "vitest";
import { decodeSafetensors, encodeSafetensors, OnnxGraph } from "../src/index";
import { encodeMessage, MODEL_PROTO } from "../src/protobuf";

describe("ONNX protobuf encoding", () => {
  it("writes fields in field-number order, skips empty repeated fields, negative ints in ten bytes", () => {
    const bytes = encodeMessage({ producerName: "x", irVersion: 8, opsetImport: [] }, MODEL_PROTO);
    expect([...bytes]).toEqual([0x08, 8, 0x12, 1, 0x78]);
    const graph = encodeMessage({ graph: { node: [{ attribute: [{ i: -1 }] }] } }, MODEL_PROTO);
    expect(graph.length).toBe(2 + 2 + 2 + 11);
  });

  it("refuses a field the schema does not have", () => {
    expect(() => encodeMessage({ nope: 1 }, MODEL_PROTO)).toThrow(/no field nope/);
  });

  it("a graph encodes to the same bytes every time", () => {
    const build = () => {
      const g = new OnnxGraph("g");
      const x = g.input("x", "float", ["batch", 4]);
      g.output("y", g.node("Mul", [x, g.weight("w", new Float32Array([1, 2, 3, 4]), [4])]), "float", [
        "batch",
        4,
      ]);
      return g.toBytes();
    };
    expect(build()).toEqual(build());
  });
});

describe("safetensors", () => {
  it("round-trips names, shapes and values", () => {
    const weights = new Map([["a.weight", { data: new Float32Array([1, -2, 3.5, 0]), shape: [2, 2] }]]);
    const decoded = decodeSafetensors(encodeSafetensors(weights));
    expect(decoded.get("a.weight")?.shape).toEqual([2, 2]);
    expect([...(decoded.get("a.weight")?.data ?? [])]).toEqual([1, -2, 3.5, 0]);
  });
});
