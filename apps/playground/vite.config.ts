import { createRequire } from "node:module";
import { dirname } from "node:path";
import { defineConfig } from "vite";

// onnxruntime-web's wasm runtime, from the copy transformers.js depends on, imported by src/small.ts
// with `?url`: the page serves it itself (one file, shared with onnxruntime-web's own reference), so
// nothing loads from a CDN.
const require = createRequire(import.meta.url);
const ortDist = dirname(
  createRequire(require.resolve("@huggingface/transformers")).resolve("onnxruntime-web"),
);

export default defineConfig({
  // Relative URLs: the built folder works from any path, or opened by any static server.
  base: "./",
  resolve: { alias: { "onnxruntime-web-dist": ortDist } },
  build: { target: "es2022", outDir: "dist", chunkSizeWarningLimit: 4096 },
  // The small LM's worker imports transformers.js, which splits into chunks: an ES module worker.
  worker: { format: "es" },
  // Not pre-bundled in dev: transformers.js (large, and loads onnxruntime-web itself) and the runtime files.
  optimizeDeps: { exclude: ["@huggingface/transformers", "onnxruntime-web-dist"] },
  server: { host: "127.0.0.1" },
  preview: { host: "127.0.0.1" },
});
