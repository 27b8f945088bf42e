import type { DownloadProgress } from "./download";

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

function eta(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return "";
  const s = Math.max(0, Math.round(seconds));
  return `, ETA ${s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`}`;
}

/** `hotpotqa:dev 12.3 / 46.3 MB (27%), 8.1 MB/s, ETA 4 s` */
export function formatProgress(p: DownloadProgress & { id?: string }): string {
  const of = p.total ? ` / ${mb(p.total)} (${Math.floor((100 * p.bytes) / p.total)}%)` : "";
  const rate = `${(p.rate / 1e6).toFixed(1)} MB/s`;
  return `${p.id ?? p.url} ${mb(p.bytes)}${of}, ${rate}${p.done ? ", done" : eta(p.etaSeconds)}`;
}

/**
 * A progress callback writing to stderr: one updating line on a terminal, else a line every
 * `everyMs` (default 2 s) and one at the end.
 */
export function stderrProgress(
  stream: { write(text: string): unknown; isTTY?: boolean } = process.stderr,
  everyMs = stream.isTTY ? 200 : 2000,
): (p: DownloadProgress & { id?: string }) => void {
  let last = 0;
  return (p) => {
    const now = performance.now();
    if (!p.done && now - last < everyMs) return;
    last = now;
    if (stream.isTTY) stream.write(`\r\x1b[2K${formatProgress(p)}${p.done ? "\n" : ""}`);
    else stream.write(`${formatProgress(p)}\n`);
  };
}
