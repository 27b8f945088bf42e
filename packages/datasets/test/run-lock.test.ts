import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { lockRunDir, RunLockedError } from "../src/index";

const dir = () => mkdtempSync(join(tmpdir(), "lmcot-lock-"));

describe("lockRunDir", () => {
  it("refuses a second writer while another live process holds the lock, naming it", async () => {
    const runDir = dir();
    // A real second process holds the lock file (its own pid, alive while it sleeps).
    const child = spawn(
      process.execPath,
      [
        "-e",
        `require("fs").writeFileSync(${JSON.stringify(join(runDir, ".lock"))}, JSON.stringify({pid: process.pid, host: require("os").hostname(), command: "lmcot bench", startedAt: "then"})); console.log("ready"); setTimeout(() => {}, 20000);`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
    try {
      let caught: unknown;
      try {
        lockRunDir(runDir, "lmcot bench");
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(RunLockedError);
      expect(String((caught as Error).message)).toContain(`pid ${child.pid}`);
      expect(String((caught as Error).message)).toContain("lmcot bench");
    } finally {
      child.kill("SIGKILL");
      await new Promise((r) => child.once("exit", r));
    }
    // Its process is gone now: the stale lock is taken over, with notice of whose it was.
    const lock = lockRunDir(runDir, "lmcot bench");
    expect(lock.tookOver?.pid).toBe(child.pid);
    expect(JSON.parse(readFileSync(lock.path, "utf8")).pid).toBe(process.pid);
    lock.release();
    expect(existsSync(lock.path)).toBe(false);
  });

  it("treats a lock that becomes readable within a moment as held (created, not yet written)", async () => {
    const runDir = dir();
    const path = join(runDir, ".lock");
    writeFileSync(path, "");
    const child = spawn(
      process.execPath,
      [
        "-e",
        `console.log("ready"); setTimeout(() => require("fs").writeFileSync(${JSON.stringify(path)}, JSON.stringify({pid: process.pid, host: require("os").hostname(), command: "lmcot distill", startedAt: "now"})), 200); setTimeout(() => {}, 20000);`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
    try {
      expect(() => lockRunDir(runDir, "lmcot bench")).toThrow(/lmcot distill/);
    } finally {
      child.kill("SIGKILL");
      await new Promise((r) => child.once("exit", r));
    }
  });

  it("takes over an unreadable lock file", () => {
    const runDir = dir();
    writeFileSync(join(runDir, ".lock"), "{torn");
    const lock = lockRunDir(runDir, "lmcot distill");
    expect(lock.tookOver?.command).toMatch(/unreadable/);
    lock.release();
  });
});
