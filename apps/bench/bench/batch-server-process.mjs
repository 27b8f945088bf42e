// The loopback batch server (batch-scale-server.mjs) in its own process, so its memory is neither
// the measured client's nor the benchmark's. `stop()` resolves with what it was sent.
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

/** @returns {Promise<{ env: Record<string, string>, stop: () => Promise<{ batches: number, requests: number, resent: number }> }>} */
export async function startServer(key, answerChars = "0") {
  const child = spawn(process.execPath, [join(here, "batch-scale-server.mjs"), key, String(answerChars)], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  const env = await new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (c) => {
      out += c;
      if (out.includes("\n")) resolve(JSON.parse(out));
    });
    child.once("exit", (code) => reject(new Error(`server exited ${code}`)));
  });
  let err = "";
  child.stderr.on("data", (c) => (err += c));
  return {
    env,
    stop: () =>
      new Promise((resolve) => {
        child.once("exit", () => resolve(JSON.parse(err.trim().split("\n").at(-1) ?? "{}")));
        child.stdin.end();
      }),
  };
}
