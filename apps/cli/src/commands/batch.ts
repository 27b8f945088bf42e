import { existsSync, readdirSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { type BatchListing, batchStatuses, cancelBatches, listBatches } from "@lmcot/llm";
import type { Command } from "commander";
import { duration } from "../batch-flags";
import { EXIT_FAILURE } from "../exit-codes";
import { printResult } from "../log";
import { UsageError } from "../usage-error";
import type { RegisterCommand } from "./index";

interface Flags {
  json?: boolean;
}

/**
 * The journal a `<runDir>` argument names: `<dir>/batches.jsonl`, the one `*.batches.jsonl` in it
 * (`rewards score` keeps `<out>.batches.jsonl` next to its --out), or a journal file itself.
 */
export function journalOf(target: string): { dir: string; name: string; path: string } {
  const at = (dir: string, file: string) => ({ dir, name: basename(file, ".jsonl"), path: join(dir, file) });
  if (existsSync(target) && statSync(target).isFile()) {
    if (!target.endsWith(".jsonl"))
      throw new UsageError(`${target}: not a batch journal (batches.jsonl or <out>.batches.jsonl)`);
    return at(dirname(target), basename(target));
  }
  if (existsSync(join(target, "batches.jsonl"))) return at(target, "batches.jsonl");
  const others = existsSync(target) ? readdirSync(target).filter((f) => f.endsWith(".batches.jsonl")) : [];
  if (others.length === 1) return at(target, others[0]!);
  throw new UsageError(
    others.length
      ? `${target} holds several batch journals (${others.join(", ")}): give one of them`
      : `no batch journal in ${target} (no batches.jsonl): give the run directory of a command run with --batch, or its journal file`,
  );
}

const time = (ms: number) => new Date(ms).toISOString().replace("T", " ").slice(0, 19);

/** Left-aligned columns, two spaces apart. */
function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** `running`, `collected (3 ok, 1 failed)`, `not-submitted: …`, with `, cancel requested`. */
function stateOf(b: BatchListing): string {
  let s: string = b.state;
  if (b.state === "collected") s += ` (${b.succeeded ?? 0} ok, ${b.failed ?? 0} failed)`;
  else if (b.state === "ended" && b.status) s += ` (${b.status})`;
  else if (b.reason !== undefined) s += `: ${b.reason}`;
  return b.cancelRequested ? `${s}, cancel requested` : s;
}

/** Per-job errors on stderr; exit code 1 when there were any. */
function reportErrors(rows: { id: string; model: string; error?: string }[]): void {
  const failed = rows.filter((r) => r.error);
  for (const r of failed) process.stderr.write(`lmcot: batch ${r.id} (${r.model}): ${r.error}\n`);
  if (failed.length) process.exitCode = EXIT_FAILURE;
}

function list(target: string, flags: Flags): void {
  const j = journalOf(target);
  const batches = listBatches(j.dir, { name: j.name });
  printResult(flags.json, { journal: j.path, batches }, () => {
    if (!batches.length) return `no batches in ${j.path}\n`;
    const rows = [["batch", "provider", "model", "requests", "submitted (UTC)", "state"]];
    for (const b of batches)
      rows.push([b.id, b.provider, b.model, String(b.requests), time(b.submittedAt), stateOf(b)]);
    return `${table(rows)}\n`;
  });
}

async function status(target: string, flags: Flags): Promise<void> {
  const j = journalOf(target);
  const batches = await batchStatuses(j.dir, { name: j.name });
  printResult(flags.json, { journal: j.path, batches }, () => {
    if (!batches.length) return `no batches in ${j.path}\n`;
    const rows = [["batch", "model", "status", "done/total", "failed", "elapsed", "ETA"]];
    for (const b of batches) {
      const live = b.live;
      rows.push(
        live
          ? [
              b.id,
              b.model,
              `${live.status}${b.cancelRequested ? " (cancel requested)" : ""}`,
              `${live.done}/${live.total}`,
              String(live.failed),
              duration(b.elapsedMs),
              duration(b.etaMs),
            ]
          : [
              b.id,
              b.model,
              b.error ? "unknown (see below)" : stateOf(b),
              b.state === "collected" ? `${b.requests}/${b.requests}` : "-",
              b.failed === undefined ? "-" : String(b.failed),
              "-",
              "-",
            ],
      );
    }
    return `${table(rows)}\n`;
  });
  reportErrors(batches);
  if (batches.some((b) => b.state === "failed")) process.exitCode = EXIT_FAILURE;
}

async function cancel(target: string, flags: Flags): Promise<void> {
  const j = journalOf(target);
  const batches = await cancelBatches(j.dir, { name: j.name });
  const cancelled = batches.filter((b) => b.outcome === "cancelling");
  printResult(flags.json, { journal: j.path, batches }, () => {
    const lines = batches
      .filter((b) => b.outcome !== "skipped")
      .map((b) =>
        b.outcome === "cancelling"
          ? `batch ${b.id} (${b.model}, ${b.requests} request${b.requests === 1 ? "" : "s"}): ${b.live?.status ?? "cancelling"}`
          : b.outcome === "ended"
            ? `batch ${b.id} (${b.model}): had ended already (${b.live?.status})`
            : `batch ${b.id} (${b.model}): not cancelled`,
      );
    if (!batches.some((b) => b.outcome !== "skipped")) lines.push(`no running batches in ${j.path}`);
    if (cancelled.length)
      lines.push(
        `${cancelled.length} batch${cancelled.length === 1 ? "" : "es"} cancelled. Requests already done are kept: re-running the original command (with --batch) collects them and submits the cancelled ones again.`,
      );
    return `${lines.join("\n")}\n`;
  });
  reportErrors(batches);
}

export const registerBatch: RegisterCommand = (program: Command) => {
  const batch = program
    .command("batch")
    .description(
      "the provider batches of a run made with --batch: list them, their live status, cancel them",
    );
  const runDir = [
    "<runDir>",
    "a run directory (its batches.jsonl), or a journal file such as scores.batches.jsonl",
  ] as const;
  batch
    .command("list")
    .description("the batches the run's journal records (no network)")
    .argument(...runDir)
    .option("--json", "print them as JSON")
    .action(list);
  batch
    .command("status")
    .description("each batch's status at its provider now: done/total, failed, elapsed, ETA")
    .argument(...runDir)
    .option("--json", "print them as JSON")
    .action(status);
  batch
    .command("cancel")
    .description(
      "cancel every batch still running; re-running the original command re-submits what was cancelled",
    )
    .argument(...runDir)
    .option("--json", "print what happened as JSON")
    .action(cancel);
};
