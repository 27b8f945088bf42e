import type { Command } from "commander";
import { isQuiet, note, printResult } from "../log";
import type { RegisterCommand } from "./index";

interface WhereFlags {
  dataDir?: string;
  registry?: string;
  mirror?: string;
  json?: boolean;
}

function where(flags: WhereFlags) {
  return {
    ...(flags.dataDir ? { dataDir: flags.dataDir } : {}),
    ...(flags.registry ? { registryFile: flags.registry } : {}),
    ...(flags.mirror ? { mirror: flags.mirror } : {}),
  };
}

function withWhere(command: Command): Command {
  return command
    .option("--data-dir <dir>", "the cache folder (default $LMCOT_DATA_DIR, else $XDG_CACHE_HOME/lmcot/data)")
    .option(
      "--registry <file>",
      "your own entries, JSON (default $LMCOT_DATA_REGISTRY, else <data dir>/registry.json)",
    )
    .option(
      "--mirror <url>",
      "a server with the official file names, tried first (default $LMCOT_DATA_MIRROR)",
    )
    .option("--json", "print the result as JSON");
}

const mb = (bytes: number | undefined) => (bytes === undefined ? "?" : `${(bytes / 1e6).toFixed(1)} MB`);

async function list(flags: WhereFlags): Promise<void> {
  const { dataDir, listDatasets } = await import("@lmcot/datasets");
  const rows = await listDatasets(where(flags));
  const json = rows.map((r) => ({
    id: r.source.id,
    cached: r.cached,
    path: r.path,
    bytes: r.record?.bytes ?? r.source.download.bytes,
    sha256: r.record?.sha256 ?? r.source.download.sha256,
    examples: r.source.examples,
    licence: r.source.licence,
    urls: r.source.download.urls,
    description: r.source.description,
  }));
  printResult(flags.json, { dataDir: dataDir(flags.dataDir), datasets: json }, () => {
    const lines = [
      `Data folder: ${dataDir(flags.dataDir)}`,
      "",
      `  ${"id".padEnd(28)} ${"size".padStart(9)}  ${"items".padStart(7)}  ${"licence".padEnd(13)} description`,
    ];
    for (const r of json)
      lines.push(
        `${r.cached ? "✓" : " "} ${r.id.padEnd(28)} ${mb(r.bytes).padStart(9)}  ${String(r.examples ?? "").padStart(7)}  ${(r.licence ?? "").padEnd(13)} ${r.description}`,
      );
    lines.push(
      "",
      "✓ = in the cache. Get one with `lmcot data get <id>`; add your own in the registry file.",
    );
    return `${lines.join("\n")}\n`;
  });
}

interface GetFlags extends WhereFlags {
  sha256?: string;
  stallTimeout?: string;
  totalTimeout?: string;
  maxMb?: string;
}

/** `--stall-timeout`, `--total-timeout` (seconds) and `--max-mb` as library options: only those given. */
async function limitsFrom(flags: GetFlags) {
  const { UsageError } = await import("../usage-error");
  const positive = (flag: string, value: string | undefined, scale: number) => {
    if (value === undefined) return undefined;
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n) || n <= 0)
      throw new UsageError(`${flag} must be a number > 0, got "${value}"`);
    return Math.round(n * scale);
  };
  const stall = positive("--stall-timeout", flags.stallTimeout, 1000);
  const total = positive("--total-timeout", flags.totalTimeout, 1000);
  const max = positive("--max-mb", flags.maxMb, 1024 * 1024);
  return {
    ...(stall === undefined ? {} : { stallTimeoutMs: stall }),
    ...(total === undefined ? {} : { totalTimeoutMs: total }),
    ...(max === undefined ? {} : { maxBytes: max }),
  };
}

async function get(ids: string[], flags: GetFlags): Promise<void> {
  const { getDataset, stderrProgress } = await import("@lmcot/datasets");
  const { UsageError } = await import("../usage-error");
  if (flags.sha256 && ids.length > 1)
    throw new UsageError("--sha256 pins one file: give one dataset with it");
  const limits = await limitsFrom(flags);
  const progress = isQuiet() ? undefined : stderrProgress();
  const got: { id: string; path: string; sha256: string; bytes: number }[] = [];
  for (const id of ids) {
    const [name = "", split = ""] = id.split(":");
    const local = await getDataset(name, split, {
      ...where(flags),
      download: true,
      ...limits,
      ...(flags.sha256 ? { sha256: flags.sha256 } : {}),
      ...(progress ? { onProgress: progress } : {}),
      onNotice: (m) => note(`${m}\n`),
    });
    got.push({ id: local.id, path: local.path, sha256: local.sha256, bytes: local.bytes });
  }
  printResult(flags.json, got, () => got.map((g) => `${g.id}\t${g.path}\n`).join(""));
}

async function path(id: string | undefined, flags: WhereFlags): Promise<void> {
  const { dataDir, findSource, missingError } = await import("@lmcot/datasets");
  const dir = dataDir(flags.dataDir);
  if (!id) return printResult(flags.json, { dataDir: dir }, () => `${dir}\n`);
  const { existsSync } = await import("node:fs");
  const { join } = await import("node:path");
  const source = await findSource(id, dir, where(flags));
  const file = join(dir, source.file);
  if (!existsSync(file)) throw missingError(source, dir);
  printResult(flags.json, { id: source.id, path: file }, () => `${file}\n`);
}

async function verify(ids: string[], flags: WhereFlags): Promise<void> {
  const { DataFetchError, listDatasets, verifyDataset } = await import("@lmcot/datasets");
  const wanted = ids.length
    ? ids
    : (await listDatasets(where(flags))).filter((r) => r.cached).map((r) => r.source.id);
  const results: {
    id: string;
    ok: boolean;
    path?: string;
    sha256?: string;
    bytes?: number;
    pinnedBy?: string;
    recordedAt?: string;
    records?: number;
    checked?: string;
    error?: string;
  }[] = [];
  for (const id of wanted) {
    try {
      const local = await verifyDataset(id, { ...where(flags), onNotice: (m) => note(`${m}\n`) });
      results.push({
        id: local.id,
        ok: true,
        path: local.path,
        sha256: local.sha256,
        bytes: local.bytes,
        ...(local.pinnedBy ? { pinnedBy: local.pinnedBy } : {}),
        ...(local.recordedAt ? { recordedAt: local.recordedAt } : {}),
        records: local.parse.records,
        checked: local.checked,
      });
    } catch (error) {
      if (!DataFetchError.is(error) || error.code === "dataset_unknown") throw error;
      results.push({ id, ok: false, error: error.message });
    }
  }
  printResult(flags.json, results, () =>
    results.length
      ? results
          .map((r) =>
            r.ok ? `ok      ${r.id}  ${r.checked} (${mb(r.bytes)})\n` : `FAILED  ${r.id}: ${r.error}\n`,
          )
          .join("")
      : "nothing in the cache to verify\n",
  );
  if (results.some((r) => !r.ok)) process.exitCode = 1;
}

export const registerData: RegisterCommand = (program: Command) => {
  const data = program
    .command("data")
    .description(
      "the full official datasets: list, download (verified, resumable, cached), locate and verify them",
    );
  withWhere(
    data.command("list").description("the known datasets (built in and yours) and which are in the cache"),
  ).action(list);
  withWhere(
    data
      .command("get")
      .description(
        "download datasets into the cache (streamed, resumed, retried, checksum-verified, parsed, size-capped)",
      )
      .argument("<ids...>", "dataset ids, e.g. hotpotqa:dev 2wikimultihopqa:dev")
      .option("--sha256 <hex>", "pin the download's sha256 (else the registry's, else trusted on first use)")
      .option(
        "--stall-timeout <s>",
        "seconds an attempt may receive nothing before it is retried (default the registry entry's stallTimeout, else $LMCOT_DATA_STALL_TIMEOUT, else 30)",
      )
      .option(
        "--total-timeout <s>",
        "seconds one dataset's download may take, every attempt and URL included (default the registry entry's totalTimeout, else $LMCOT_DATA_TOTAL_TIMEOUT, else 3600)",
      )
      .option(
        "--max-mb <n>",
        "the largest a download (decoded) or an unpacked file may become (default the registry entry's maxBytes, else $LMCOT_DATA_MAX_MB, else 4096)",
      ),
  ).action(get);
  withWhere(
    data
      .command("path")
      .description("print where a cached dataset is (or the data folder, with no id)")
      .argument("[id]", "a dataset id, e.g. hotpotqa:dev"),
  ).action(path);
  withWhere(
    data
      .command("verify")
      .description(
        "re-hash cached datasets against their pinned or first-use checksums and parse them whole (exit 1 on a mismatch or a parse error)",
      )
      .argument("[ids...]", "dataset ids (default: every cached one)"),
  ).action(verify);
};
