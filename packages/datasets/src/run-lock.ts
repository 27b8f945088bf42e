import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { LmcotError } from "@lmcot/core";

/** Who holds a run directory: written as JSON to `<runDir>/.lock`. */
export interface RunLockHolder {
  pid: number;
  host: string;
  command: string;
  startedAt: string;
}

/** Another live process writes this run directory; the message names it. The CLI exits 2. */
export class RunLockedError extends LmcotError {
  constructor(
    readonly runDir: string,
    readonly holder: RunLockHolder,
  ) {
    super(
      "run_locked",
      `${runDir} is being written by another process: ${holder.command} (pid ${holder.pid} on ${holder.host}, since ${holder.startedAt}); wait for it to finish, or give a different --out`,
    );
    this.name = "RunLockedError";
  }
}

export interface RunLock {
  readonly path: string;
  /** Set when a stale lock (its process is gone) was taken over. */
  readonly tookOver?: RunLockHolder;
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readHolder(path: string): RunLockHolder | undefined {
  try {
    const value = JSON.parse(readFileSync(path, "utf8")) as Partial<RunLockHolder>;
    return typeof value.pid === "number" ? (value as RunLockHolder) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The holder, waiting up to ~1 s while the file is unreadable: a lock just created by another
 * process is empty for the instant before its content is written.
 */
function readSettledHolder(path: string): RunLockHolder | undefined {
  for (let waited = 0; ; waited += 50) {
    const holder = readHolder(path);
    if (holder || waited >= 1000) return holder;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
  }
}

/**
 * Takes the one-writer lock of a run directory (`<runDir>/.lock`, created exclusively). A second
 * process gets `RunLockedError` naming the holder; a lock whose process is dead (same host) or that
 * cannot be read is taken over, and `tookOver` says whose it was. Released on `release()` and when
 * the process exits.
 */
export function lockRunDir(runDir: string, command: string): RunLock {
  mkdirSync(runDir, { recursive: true });
  const path = join(runDir, ".lock");
  const me: RunLockHolder = {
    pid: process.pid,
    host: hostname(),
    command,
    startedAt: new Date().toISOString(),
  };
  let tookOver: RunLockHolder | undefined;
  for (let tries = 0; ; tries++) {
    try {
      writeFileSync(path, `${JSON.stringify(me)}\n`, { flag: "wx" });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST" || tries >= 3) throw error;
      const holder = readSettledHolder(path);
      if (holder && (holder.host !== me.host || alive(holder.pid)) && holder.pid !== process.pid)
        throw new RunLockedError(runDir, holder);
      // Stale (dead pid on this host) or unreadable for a while (a torn write): take it over.
      tookOver = holder ?? { pid: 0, host: "?", command: "unknown (unreadable lock)", startedAt: "?" };
      rmSync(path, { force: true });
    }
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off("exit", release);
    if (readHolder(path)?.pid === process.pid) rmSync(path, { force: true });
  };
  process.on("exit", release);
  return { path, ...(tookOver ? { tookOver } : {}), release };
}
