import { AbortError } from "../errors";

export interface BatchOptions<I, T> {
  /** How many items run at once (default 4). */
  concurrency?: number;
  signal?: AbortSignal;
  onResult?: (result: T, item: I, index: number) => void;
}

/**
 * Runs `run` over `items` with at most `concurrency` in flight; results keep the input order.
 * The first error aborts the items still running (through the signal they get) and rejects.
 */
export async function runBatch<I, T>(
  items: readonly I[],
  run: (item: I, signal: AbortSignal) => Promise<T>,
  options: BatchOptions<I, T> = {},
): Promise<T[]> {
  const controller = new AbortController();
  const stop = () => controller.abort(options.signal?.reason);
  if (options.signal?.aborted) throw new AbortError();
  options.signal?.addEventListener("abort", stop, { once: true });
  const results = new Array<T>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && !controller.signal.aborted && next < items.length) {
      const index = next++;
      try {
        const result = await run(items[index]!, controller.signal);
        results[index] = result;
        options.onResult?.(result, items[index]!, index);
      } catch (error) {
        failure ??= { error };
        controller.abort(error);
      }
    }
  };
  try {
    await Promise.all(
      Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 4, items.length)) }, worker),
    );
  } finally {
    options.signal?.removeEventListener("abort", stop);
  }
  if (failure) throw failure.error;
  if (options.signal?.aborted) throw new AbortError();
  return results;
}
