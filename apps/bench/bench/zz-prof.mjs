import { execFileSync, spawn } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const here = "/work/wt/batch/apps/bench/bench";
const KEY = "sk-bench-not-a-real-key-0123456789";
function words(seed) {
  let x = seed | 1;
  const vocab =
    "river city author born film director album band state county village school team war king".split(" ");
  return (n) =>
    Array.from({ length: n }, () => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return vocab[(x >>> 0) % vocab.length];
    }).join(" ");
}
function devFile(dir, n) {
  const path = join(dir, `hotpot_dev_${n}.json`);
  const fd = openSync(path, "w");
  const w = words(n);
  writeSync(fd, "[");
  for (let i = 0; i < n; i++) {
    const context = Array.from({ length: 10 }, (_, p) => [
      `Title ${i}-${p}`,
      Array.from({ length: 4 }, () => `${w(24)}.`),
    ]);
    const q = {
      _id: `q${i}`,
      question: `Which ${w(12)}?`,
      answer: w(2),
      type: i % 5 ? "bridge" : "comparison",
      level: "medium",
      supporting_facts: [
        [`Title ${i}-0`, 0],
        [`Title ${i}-1`, 1],
      ],
      context,
    };
    writeSync(fd, `${i ? "," : ""}${JSON.stringify(q)}`);
  }
  writeSync(fd, "]");
  closeSync(fd);
  return path;
}
async function startServer() {
  const child = spawn(process.execPath, [join(here, "batch-scale-server.mjs"), KEY], {
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
const n = Number(process.argv[2]);
const cells = process.argv[3] ?? "2";
const impl = process.argv[4] ?? "/work/wt/batch/apps/bench/dist/index.js";
const file = existsSync(`/tmp/x/hotpot_dev_${n}.json`) ? `/tmp/x/hotpot_dev_${n}.json` : devFile("/tmp/x", n);
const server = await startServer();
const out = mkdtempSync(join(tmpdir(), "prof-"));
const child = spawn(
  process.execPath,
  [
    ...(process.env.NODEFLAGS?.split(" ").filter(Boolean) ?? []),
    "/tmp/x/mem-child.mjs",
    impl,
    file,
    join(out, "run"),
    cells,
  ],
  { env: { ...process.env, ...server.env, CI: "1" }, stdio: "inherit" },
);
await new Promise((r) => child.once("exit", r));
console.log("\nserver", await server.stop());
rmSync(out, { recursive: true, force: true });
