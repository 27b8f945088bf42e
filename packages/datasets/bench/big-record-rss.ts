// Peak RSS of reading a file whose one record is ~200 MB (a HotpotQA record with a huge sentence),
// as a JSON array and as JSONL. With the default 64 MB record limit the read fails early; with the
// limit raised it parses. Run: npx tsx bench/big-record-rss.ts [--mb 200] [--format json|jsonl]
import { createWriteStream, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readAll, samplePath } from "../src/index";

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const mb = Number(arg("mb") ?? 200);
const format = arg("format") ?? "json";
const record = JSON.parse(readFileSync(samplePath("hotpotqa"), "utf8").split("\n")[0]!);

async function writeBig(path: string): Promise<void> {
  const out = createWriteStream(path);
  const put = async (s: string) => {
    if (!out.write(s)) await new Promise((r) => out.once("drain", r));
  };
  const [head, tail] = JSON.stringify({ ...record, context: [["Huge", ["@@"]], ...record.context] }).split(
    "@@",
  );
  await put(format === "json" ? `[\n${head}` : head!);
  const piece = "lorem ipsum dolor sit amet, Müller ".repeat(1000);
  for (let n = 0; n < (mb * 1e6) / piece.length; n++) await put(piece);
  await put(format === "json" ? `${tail}\n]\n` : `${tail}\n`);
  await new Promise((r) => out.end(r));
}

const hwm = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))![1]) / 1024;
const path = join(tmpdir(), `lmcot-big-record.${format}`);
try {
  await writeBig(path);
  const before = hwm();
  const t = performance.now();
  let outcome: string;
  try {
    outcome = `read ${(await readAll(path)).length} record(s)`;
  } catch (error) {
    outcome = `error: ${(error as Error).message}`;
  }
  console.log(`${format}, one ${mb} MB record: ${outcome}`);
  console.log(
    `peak RSS ${hwm().toFixed(0)} MB (${before.toFixed(0)} MB before reading), ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );
} finally {
  rmSync(path, { force: true });
}
