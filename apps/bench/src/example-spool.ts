import { closeSync, mkdirSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import type { Example } from "@lmcot/core";

/**
 * A dataset's examples written to a file of the run directory and read back one at a time by
 * position: a batch round over 20k questions holds their ids, not their contexts.
 */
export class ExampleSpool {
  readonly ids: string[] = [];
  private readonly offsets: number[] = [];
  private readonly lengths: number[] = [];
  private readonly fd: number;

  private constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.fd = openSync(path, "w+");
  }

  /** Writes `examples` (an array, or a stream read as it is written) to `path`. */
  static async create(
    path: string,
    examples: Iterable<Example> | AsyncIterable<Example>,
  ): Promise<ExampleSpool> {
    const spool = new ExampleSpool(path);
    await spool.write(examples);
    return spool;
  }

  private async write(examples: Iterable<Example> | AsyncIterable<Example>): Promise<void> {
    let offset = 0;
    let chunk: string[] = [];
    let bytes = 0;
    for await (const e of examples) {
      const line = JSON.stringify(e);
      const length = Buffer.byteLength(line);
      this.ids.push(e.id);
      this.offsets.push(offset);
      this.lengths.push(length);
      chunk.push(line, "\n");
      offset += length + 1;
      bytes += length + 1;
      if (bytes >= 64 * 1024) {
        writeSync(this.fd, chunk.join(""));
        chunk = [];
        bytes = 0;
      }
    }
    if (chunk.length) writeSync(this.fd, chunk.join(""));
  }

  get size(): number {
    return this.ids.length;
  }

  read(index: number): Example {
    const buffer = Buffer.allocUnsafe(this.lengths[index]!);
    readSync(this.fd, buffer, 0, buffer.length, this.offsets[index]!);
    return JSON.parse(buffer.toString("utf8")) as Example;
  }

  remove(): void {
    closeSync(this.fd);
    rmSync(this.path, { force: true });
  }
}
