import { AbortError, LmcotError, TimeoutError } from "./errors";

/**
 * How one model call is attempted, whichever package makes it (large LM, small LM over HTTP, judge):
 * a timeout per attempt, retries with backoff that honour `retry-after`, and a cap on the whole call.
 */
export interface CallPolicy {
  /** Retries after the first attempt (default 4, so 5 attempts). */
  retries?: number;
  /** Timeout of one attempt in ms (default 60 000). */
  timeoutMs?: number;
  /** Cap on the whole call, every attempt and wait included, in ms (default 300 000). */
  totalTimeoutMs?: number;
  /** First backoff ceiling; doubles each attempt (default 500 ms). */
  baseDelayMs?: number;
  /** Longest single wait, hinted or not (default 60 000 ms). */
  maxDelayMs?: number;
  /** Which errors to retry; default: typed errors marked `retryable` (429, 408, 409, 5xx, 529, timeouts, resets). */
  isRetryable?: (error: unknown) => boolean;
  /** Injectable for tests. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  onRetry?: (event: { attempt: number; delayMs: number; error: unknown }) => void;
}

export const DEFAULT_CALL_POLICY = {
  retries: 4,
  timeoutMs: 60_000,
  totalTimeoutMs: 300_000,
  baseDelayMs: 500,
  maxDelayMs: 60_000,
} as const;

/** Sleeps `ms`, rejecting at once with the signal's reason when it fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

const retryable = (error: unknown) => LmcotError.isInstance(error) && error.retryable;

/** Records on a typed error how many attempts were made and how long they took, in its message too. */
export function withAttempts(error: unknown, attempts: number, elapsedMs: number): unknown {
  if (!LmcotError.isInstance(error) || error.attempts !== undefined) return error;
  const e = error as LmcotError & { attempts?: number; elapsedMs?: number };
  e.attempts = attempts;
  e.elapsedMs = Math.round(elapsedMs);
  e.message = `${e.message} (after ${attempts} attempt${attempts === 1 ? "" : "s"} over ${(elapsedMs / 1000).toFixed(1)} s)`;
  return e;
}

/**
 * The promise's outcome, or a rejection as soon as the signal fires (with `reasonOf(signal)`,
 * default its reason), for work that ignores the signal.
 */
export function settledOrAborted<T>(
  promise: Promise<T>,
  signal: AbortSignal,
  reasonOf: (signal: AbortSignal) => unknown = (s) => s.reason,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(reasonOf(signal));
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** What to do when a signal fires, for every signal followed: one listener on it however many follow it. */
const followers = new WeakMap<AbortSignal, Set<() => void>>();

/** Calls `onAbort` when `source` fires, until the returned function is called. */
function follow(source: AbortSignal, onAbort: () => void): () => void {
  let set = followers.get(source);
  if (!set) {
    const created = new Set<() => void>();
    source.addEventListener(
      "abort",
      () => {
        for (const f of created) f();
      },
      { once: true },
    );
    followers.set(source, created);
    set = created;
  }
  set.add(onAbort);
  return () => set.delete(onAbort);
}

/**
 * A signal that fires when any of `signals` does, and `release` to detach it from them once the work
 * it guards is over. Not `AbortSignal.any`: on Node 20 a composite signal that someone left an abort
 * listener on (as the OpenAI SDK does on the signal of every request) stays alive until the process
 * ends, so a long run grew by one such signal, its listeners and their closures per call.
 */
export function linkedSignal(signals: readonly AbortSignal[]): { signal: AbortSignal; release: () => void } {
  const controller = new AbortController();
  const fired = signals.find((s) => s.aborted);
  if (fired) {
    controller.abort(fired.reason);
    return { signal: controller.signal, release: () => undefined };
  }
  const links = signals.map((source) => follow(source, () => controller.abort(source.reason)));
  const release = () => {
    for (const unlink of links) unlink();
  };
  return { signal: controller.signal, release };
}

/**
 * Runs `attempt` under the policy. Each attempt gets a signal that fires on the caller's abort, on
 * the per-attempt timeout, or on the total cap. The final error is typed and says
 * "after N attempts over T s"; aborts are never retried and never annotated.
 */
export async function callWithPolicy<T>(
  attempt: (signal: AbortSignal) => Promise<T>,
  policy: CallPolicy = {},
  options: {
    signal?: AbortSignal;
    label?: string;
    /** Add "after N attempts over T s" to the final error (default true); off for a layer that only times out. */
    annotate?: boolean;
  } = {},
): Promise<T> {
  const retries = policy.retries ?? DEFAULT_CALL_POLICY.retries;
  const perAttempt = policy.timeoutMs ?? DEFAULT_CALL_POLICY.timeoutMs;
  const total = policy.totalTimeoutMs ?? DEFAULT_CALL_POLICY.totalTimeoutMs;
  const base = policy.baseDelayMs ?? DEFAULT_CALL_POLICY.baseDelayMs;
  const cap = policy.maxDelayMs ?? DEFAULT_CALL_POLICY.maxDelayMs;
  const isRetryable = policy.isRetryable ?? retryable;
  const wait = policy.sleep ?? sleep;
  const random = policy.random ?? Math.random;
  const label = options.label ?? "model call";
  const started = performance.now();
  const deadline = new AbortController();
  const capped = total > 0 && Number.isFinite(total);
  const totalTimer = capped
    ? setTimeout(
        () => deadline.abort(new TimeoutError(`${label}: no answer within the ${total / 1000} s total cap`)),
        total,
      )
    : undefined;
  const linked = options.signal ? linkedSignal([options.signal, deadline.signal]) : undefined;
  const outer = linked?.signal ?? deadline.signal;
  const elapsed = () => performance.now() - started;
  const final = (error: unknown, attempts: number) =>
    options.annotate === false ? error : withAttempts(error, attempts, elapsed());
  try {
    for (let n = 1; ; n++) {
      if (options.signal?.aborted) throw new AbortError();
      if (deadline.signal.aborted) throw final(deadline.signal.reason, n - 1);
      const timer = new AbortController();
      const handle =
        perAttempt > 0 && Number.isFinite(perAttempt)
          ? setTimeout(
              () => timer.abort(new TimeoutError(`${label}: no answer within ${perAttempt / 1000} s`)),
              perAttempt,
            )
          : undefined;
      const either = linkedSignal([outer, timer.signal]);
      try {
        return await settledOrAborted(attempt(either.signal), either.signal);
      } catch (caught) {
        let error = caught;
        if (options.signal?.aborted) throw AbortError.isInstance(error) ? error : new AbortError();
        if (deadline.signal.aborted) throw final(deadline.signal.reason, n);
        if (timer.signal.aborted) error = timer.signal.reason;
        if (AbortError.isInstance(error)) throw error;
        if (n > retries || !isRetryable(error)) throw final(error, n);
        const hinted = LmcotError.isInstance(error) ? error.retryAfterMs : undefined;
        const delayMs =
          hinted !== undefined
            ? Math.min(hinted, cap)
            : Math.round(random() * Math.min(cap, base * 2 ** (n - 1)));
        // A wait that would outlast the total cap is not worth starting: the provider's error is the answer.
        if (capped && elapsed() + delayMs >= total) throw final(error, n);
        policy.onRetry?.({ attempt: n, delayMs, error });
        try {
          await wait(delayMs, outer);
        } catch {
          if (options.signal?.aborted) throw new AbortError();
          throw final(deadline.signal.reason ?? error, n);
        }
      } finally {
        either.release();
        if (handle) clearTimeout(handle);
      }
    }
  } finally {
    linked?.release();
    if (totalTimer) clearTimeout(totalTimer);
  }
}
