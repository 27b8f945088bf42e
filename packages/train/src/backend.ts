import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";

let ready: Promise<void> | undefined;

/**
 * Selects tfjs's wasm backend (XNNPACK kernels, ~25× the pure-JS cpu backend here; see
 * bench/libraries.ts). Every model and trainer awaits this before touching a tensor.
 */
export function useWasmBackend(): Promise<void> {
  ready ??= (async () => {
    if (tf.getBackend() !== "wasm") {
      const ok = await tf.setBackend("wasm");
      if (!ok) throw new Error("tfjs: the wasm backend failed to initialise");
    }
    await tf.ready();
  })();
  return ready;
}

export { tf };
