import { spawn } from "node:child_process";

/**
 * glibc keeps the onnxruntime engine's freed activations (chunks under 32 MB) in its heap and
 * fragments it, so a process's peak RSS grows from step to step (3.6 GB against 2.4 GB for a
 * flan-t5-small KD step at batch 8). A fixed mmap threshold gives every large block back to the
 * kernel when freed, and two arenas keep onnxruntime's threads from each growing its own heap.
 * glibc reads these only at start-up, hence a child process.
 */
const TUNABLE = "glibc.malloc.mmap_threshold=131072:glibc.malloc.arena_max=2";

/**
 * Runs this very command again in a child whose glibc returns large freed blocks at once, and
 * resolves with its exit code; undefined where that is not needed (not Linux, already set, or
 * `LMCOT_MALLOC_TUNABLES=0`), and the caller goes on in this process. The child has its own process
 * group: Ctrl-C reaches it once, through this process; if this process dies, the child stops at the
 * end of its step as after Ctrl-C (`watchParent`).
 */
export function rerunWithMallocTunables(): Promise<number> | undefined {
  const current = process.env.GLIBC_TUNABLES ?? "";
  // Only `lmcot train …` itself: run in-process by another command (reproduce), it stays there.
  const top = process.argv.slice(2).find((a) => !a.startsWith("-"));
  if (
    process.platform !== "linux" ||
    top !== "train" ||
    current.includes("mmap_threshold") ||
    process.env.LMCOT_MALLOC_TUNABLES === "0"
  )
    return undefined;
  const env = {
    ...process.env,
    GLIBC_TUNABLES: current ? `${current}:${TUNABLE}` : TUNABLE,
    LMCOT_PARENT_PID: String(process.pid),
  };
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: "inherit",
    env,
    detached: true,
  });
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  const handlers = (["SIGINT", "SIGTERM", "SIGHUP"] as const).map((s) => [s, forward(s)] as const);
  for (const [s, h] of handlers) process.on(s, h);
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      for (const [s, h] of handlers) process.off(s, h);
      resolve(code ?? (signal === "SIGINT" ? 130 : 1));
    });
  });
}

/** In the child: SIGINT to itself (a checkpoint, then exit) once the parent that started it is gone. */
export function watchParent(): void {
  const parent = Number(process.env.LMCOT_PARENT_PID);
  if (!parent) return;
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer);
      process.kill(process.pid, "SIGINT");
    }
  }, 500);
  timer.unref();
}
