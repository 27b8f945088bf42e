// The files of BatchRounds: a round's spilled submission chunks, and results files read by offset.
import {
  closeSync,
  createReadStream,
  fsyncSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { join, relative } from "node:path";
import { createInterface } from "node:readline";
import { type CallPolicy, callWithPolicy } from "@lmcot/core";
import type { BatchJob, journalPaths } from "./journal";
import { RESULT_BYTES, type StepContext, transferPolicy } from "./steps";
import type { BatchAPI, BatchOutcome, BatchStatus } from "./types";

// Small, so buffered lines die young instead of filling the old generation with garbage.
const FLUSH_BYTES = 64 * 1024;

/** Appends lines to a file through a 64 KB buffer. */
class LineWriter {
  private readonly fd: number;
  private buffer: string[] = [];
  private buffered = 0;

  constructor(readonly path: string) {
    this.fd = openSync(path, "w");
  }

  write(text: string, bytes: number): void {
    this.buffer.push(text);
    this.buffered += bytes;
    if (this.buffered >= FLUSH_BYTES) this.flush();
  }

  flush(): void {
    if (!this.buffer.length) return;
    writeSync(this.fd, this.buffer.join(""));
    this.buffer = [];
    this.buffered = 0;
  }

  close(sync = false): void {
    try {
      this.flush();
      if (sync) fsyncSync(this.fd);
    } finally {
      closeSync(this.fd);
    }
  }
}

/** A chunk of a round's calls to one model, written as the provider's submission lines. */
export class SpillFile {
  bytes = 0;
  estimate = 0;
  count = 0;
  closed = false;
  private readonly writer: LineWriter;
  // The chunk's custom ids, newline-separated outside the JS heap: a round of 360k calls would
  // otherwise keep 360k id strings alive until its batches are submitted.
  private idBytes = Buffer.allocUnsafe(16 * 1024);
  private idLength = 0;

  constructor(
    readonly path: string,
    readonly model: string,
  ) {
    this.writer = new LineWriter(path);
  }

  /** The custom ids, in the order their lines were written. */
  get ids(): string[] {
    return this.count ? this.idBytes.toString("utf8", 0, this.idLength - 1).split("\n") : [];
  }

  add(customId: string, line: string, bytes: number, estimate: number): void {
    this.writer.write(`${line}\n`, bytes);
    const need = Buffer.byteLength(customId) + 1;
    if (this.idLength + need > this.idBytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(2 * this.idBytes.length, this.idLength + need));
      this.idBytes.copy(grown, 0, 0, this.idLength);
      this.idBytes = grown;
    }
    this.idLength += this.idBytes.write(customId, this.idLength);
    this.idBytes[this.idLength++] = 10;
    this.count++;
    this.bytes += bytes;
    this.estimate += estimate;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.writer.close();
  }

  remove(): void {
    this.close();
    rmSync(this.path, { force: true });
  }
}

/** A results file (`batches/<id>.jsonl`), one BatchOutcome a line. */
export interface BatchFile {
  path: string;
  indexed: boolean;
  fd?: number;
}

/** The outcome on the line at `offset`, when it is `customId`'s (a 64-bit index collision is not). */
export function readLine(
  file: BatchFile,
  offset: number,
  length: number,
  customId: string,
): BatchOutcome | undefined {
  file.fd ??= openSync(file.path, "r");
  const buffer = Buffer.allocUnsafe(length);
  readSync(file.fd, buffer, 0, length, offset);
  const outcome = JSON.parse(buffer.toString("utf8")) as BatchOutcome;
  return outcome.customId === customId ? outcome : undefined;
}

/** A saved line: its custom id, where it is, whether it succeeded. */
export interface SavedLine {
  id: string;
  offset: number;
  length: number;
  ok: boolean;
}

/** Every line of a results file, streamed: its custom id and where it is. */
export async function scanResults(path: string, each: (line: SavedLine) => void): Promise<void> {
  let offset = 0;
  for await (const text of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) {
    const length = Buffer.byteLength(text);
    if (text.trim()) {
      const outcome = JSON.parse(text) as BatchOutcome;
      each({ id: outcome.customId, offset, length, ok: outcome.ok });
    }
    offset += length + 1;
  }
}

/**
 * Streams a batch's outcomes to `<results>/<batchId>.jsonl` (a temporary file, synced, then renamed:
 * whole or not at all) and returns where each line is. A batch that failed as a whole has none.
 */
export async function downloadResults(
  ctx: StepContext,
  api: BatchAPI,
  job: Pick<BatchJob, "batchId" | "model"> & { requests: number },
  paths: ReturnType<typeof journalPaths>,
  status: BatchStatus,
  policy: CallPolicy | undefined,
): Promise<{ file: string; lines: SavedLine[]; succeeded: number }> {
  const id = job.batchId!;
  mkdirSync(paths.results, { recursive: true });
  const file = join(paths.results, `${id}.jsonl`);
  const tmp = `${file}.${process.pid}.tmp`;
  const lines = await callWithPolicy(
    async (signal) => {
      const saved: SavedLine[] = [];
      const writer = new LineWriter(tmp);
      try {
        let offset = 0;
        if (!status.error)
          for await (const outcome of api.outcomes(id, signal)) {
            const text = JSON.stringify(outcome);
            const length = Buffer.byteLength(text);
            writer.write(`${text}\n`, length + 1);
            saved.push({ id: outcome.customId, offset, length, ok: outcome.ok });
            offset += length + 1;
          }
      } finally {
        writer.close(true);
      }
      return saved;
    },
    transferPolicy(policy, job.requests * RESULT_BYTES),
    { label: `${job.model} batch ${id}`, ...(ctx.signal ? { signal: ctx.signal } : {}) },
  );
  renameSync(tmp, file);
  return { file: relative(paths.dir, file), lines, succeeded: lines.filter((l) => l.ok).length };
}
