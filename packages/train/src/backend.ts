import type * as TF from "@tensorflow/tfjs-core";

/**
 * tfjs-core, set once `useWasmBackend()` has resolved: tfjs loads on first use, so importing this
 * package to read or write data files does not load it.
 */
export let tf: typeof TF;

let ready: Promise<void> | undefined;

/**
 * Loads tfjs-core and selects its wasm backend (XNNPACK kernels, ~25× the pure-JS cpu backend here;
 * see bench/libraries.ts). Every model and trainer awaits this before touching a tensor.
 */
export function useWasmBackend(): Promise<void> {
  ready ??= (async () => {
    const core = await import("@tensorflow/tfjs-core");
    // tfjs-core's Node build registers no gradients; the umbrella package bundles them, so do we (tsup.config.ts)
    await import("@tensorflow/tfjs-core/dist/register_all_gradients");
    await import("@tensorflow/tfjs-backend-wasm");
    if (core.getBackend() !== "wasm" && !(await core.setBackend("wasm")))
      throw new Error("tfjs: the wasm backend failed to initialise");
    await core.ready();
    tf = core;
  })();
  ready.catch(() => {
    ready = undefined;
  });
  return ready;
}

export type { TF };
