// Writes tiny random models in the folder layout transformers.js loads, deterministically from a seed.
// No Python, no download:
//   npx tsx tooling/scripts/make-fixture-model.ts [out-dir] [--seed N] [--kind t5|causal] [--d-model N] [--layers N] [--q8]
// --q8 (T5 only) also writes onnx/*_quantized.onnx, loaded with dtype q8 (LMCOT_DTYPE=q8).
// Default out-dir: packages/small-lm/test/fixtures/generated/tiny-<kind> (git-ignored).
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { writeFixtureCausal, writeFixtureT5 } from "../../packages/model-writer/src/index";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    seed: { type: "string", default: "0" },
    kind: { type: "string", default: "t5" },
    "d-model": { type: "string" },
    layers: { type: "string" },
    q8: { type: "boolean", default: false },
    help: { type: "boolean", short: "h" },
  },
});

function int(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`--${name} must be a non-negative integer, got "${value}"`);
    process.exit(2);
  }
  return n;
}

if (values.help) {
  console.log(
    "usage: make-fixture-model.ts [out-dir] [--seed N] [--kind t5|causal] [--d-model N] [--layers N] [--q8]",
  );
  process.exit(0);
}
const kind = values.kind;
if (kind !== "t5" && kind !== "causal") {
  console.error(`--kind must be t5 or causal, got "${kind}"`);
  process.exit(2);
}
if (values.q8 && kind !== "t5") {
  console.error("--q8 is for --kind t5 (the decoder-only writer has no quantized variant)");
  process.exit(2);
}
const out =
  positionals[0] !== undefined
    ? resolve(positionals[0])
    : fileURLToPath(new URL(`../../packages/small-lm/test/fixtures/generated/tiny-${kind}`, import.meta.url));
const options = {
  seed: int("seed", values.seed),
  d_model: int("d-model", values["d-model"]),
  num_layers: int("layers", values.layers),
};
if (kind === "t5") await writeFixtureT5(out, { ...options, quantized: values.q8 });
else await writeFixtureCausal(out, options);
console.log(
  `wrote a tiny random ${kind === "t5" ? "T5" : "decoder-only"} model (seed ${options.seed}${values.q8 ? ", fp32 + q8" : ""}) to ${out}`,
);
