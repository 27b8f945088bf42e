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

/**
 * Live progress per cell. On a terminal it redraws one line per cell in place; when stdout is not a
 * TTY or `CI` is set it prints plain log lines (a cell's start, every 10% and its end).
 */
export class ProgressDisplay {
  private readonly lines = new Map<string, string>();
  private readonly lastDecile = new Map<string, number>();
  private drawn = 0;
  private readonly live: boolean;

  constructor(private readonly out: NodeJS.WriteStream = process.stdout) {
    this.live = Boolean(out.isTTY) && !process.env.CI;
  }

  update(cell: Cell, p: RunProgress): void {
    const line = progressLine(cell, p);
    if (this.live) {
      this.lines.set(cell.id, line);
      this.redraw();
      return;
    }
    const decile = p.total ? Math.floor((10 * (p.done + p.failed)) / p.total) : 10;
    if (this.lastDecile.get(cell.id) !== decile) {
      this.lastDecile.set(cell.id, decile);
      this.out.write(`${line}\n`);
    }
  }

  private redraw(): void {
    if (this.drawn) this.out.write(`\x1b[${this.drawn}A`);
    for (const line of this.lines.values())
      this.out.write(`\x1b[2K${line.slice(0, (this.out.columns ?? 120) - 1)}\n`);
    this.drawn = this.lines.size;
  }
}
