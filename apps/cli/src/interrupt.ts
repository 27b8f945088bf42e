let interrupted = false;

/** Whether Ctrl-C stopped work in this process (the exit code is then 130). */
export const wasInterrupted = () => interrupted;

/** Runs `work` with a signal that Ctrl-C (SIGINT) aborts, for as long as the work runs. */
export async function onInterrupt<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const abort = () => {
    interrupted = true;
    controller.abort();
  };
  process.once("SIGINT", abort);
  try {
    return await work(controller.signal);
  } finally {
    process.off("SIGINT", abort);
  }
}
