import type { RunProgress } from "@lmcot/core";
import type { Cell } from "./grid";

const seconds = (ms: number | undefined) =>
  ms === undefined
    ? "?"
    : ms < 1000
      ? `${Math.round(ms)}ms`
      : ms < 60_000
        ? `${(ms / 1000).toFixed(0)}s`
        : `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;

export function progressLine(cell: Cell, p: RunProgress): string {
  const rate = p.ratePerSecond > 0 ? `${p.ratePerSecond.toFixed(1)}/s` : "-";
  return `${cell.id}: ${p.done}/${p.total} (${rate}, eta ${p.done >= p.total ? "0s" : seconds(p.etaMs)}) $${p.costUsd.toFixed(4)} cache ${p.cacheHits} errors ${p.failed}${p.skipped ? ` resumed ${p.skipped}` : ""}`;
}

/** Off a terminal, a cell's line between its first and last: at least this long and this far apart. */
const QUIET_MS = 10_000;
const QUIET_FRACTION = 0.1;

interface Printed {
  at: number;
  finished: number;
}

/**
 * Live progress per cell, on stderr so stdout keeps only results. On a terminal it redraws one line
 * per cell in place; when the stream is not a TTY or `CI` is set it prints plain log lines: a cell's
 * start, its end, and between them a line only when 10 s and 10 % have passed since the last one.
 */
export class ProgressDisplay {
  private readonly lines = new Map<string, string>();
  private readonly printed = new Map<string, Printed>();
  private readonly pending = new Map<string, string>();
  private drawn = 0;
  private readonly live: boolean;

  constructor(
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly now: () => number = Date.now,
  ) {
    this.live = Boolean(out.isTTY) && !process.env.CI;
  }

  update(cell: Cell, p: RunProgress): void {
    const line = progressLine(cell, p);
    if (this.live) {
      this.lines.set(cell.id, line);
      this.redraw();
      return;
    }
    const finished = p.done + p.failed;
    const last = this.printed.get(cell.id);
    const end = finished >= p.total;
    const due =
      last !== undefined &&
      this.now() - last.at >= QUIET_MS &&
      finished - last.finished >= QUIET_FRACTION * p.total;
    if (last === undefined || (end && last.finished < p.total) || due) this.print(cell.id, line, finished);
    else if (!end) this.pending.set(cell.id, line);
  }

  /**
   * A line about something other than a cell (a provider batch, by `key`): on a terminal it is one
   * more row redrawn in place; elsewhere it is printed as it comes.
   */
  note(key: string, line: string): void {
    if (!this.live) {
      this.out.write(`${line}\n`);
      return;
    }
    this.lines.set(`\0${key}`, line);
    this.redraw();
  }

  /** Prints each cell's newest line that was held back (a run stopped before its cells ended). */
  finish(): void {
    for (const line of this.pending.values()) this.out.write(`${line}\n`);
    this.pending.clear();
  }

  private print(id: string, line: string, finished: number): void {
    this.printed.set(id, { at: this.now(), finished });
    this.pending.delete(id);
    this.out.write(`${line}\n`);
  }

  private redraw(): void {
    if (this.drawn) this.out.write(`\x1b[${this.drawn}A`);
    for (const line of this.lines.values())
      this.out.write(`\x1b[2K${line.slice(0, (this.out.columns ?? 120) - 1)}\n`);
    this.drawn = this.lines.size;
  }
}
