import type { GenerateRequest } from "@lmcot/core";

/**
 * The text a cache key hashes: model id + the full request (minus the signal), objects' keys sorted,
 * so the same call gives the same key in every process and on every platform.
 */
export function canonicalRequest(modelId: string, request: GenerateRequest): string {
  const { signal: _signal, ...rest } = request;
  return JSON.stringify({ model: modelId, request: rest }, (_k, v) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}
