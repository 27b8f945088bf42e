import { createHash } from "node:crypto";
import { closeSync, mkdirSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { IdIndex, type RationaleModel, type RationaleOutput } from "@lmcot/core";

/**
 * The small LM's rationales of a batch run, kept on disk: an LM-guided item put off for its large-LM
 * call runs again next round, and gets its rationales back from here instead of generating them a
 * second time. Memory is an index entry (~24 bytes) a call; the rationales stay in the file.
 */
export class RationaleMemo {
  private readonly fd: number;
  private readonly index = new IdIndex();
  private end = 0;

  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.fd = openSync(path, "w+");
  }

  wrap(model: RationaleModel): RationaleModel {
    return {
      specificationVersion: model.specificationVersion,
      id: model.id,
      generate: async (inputs, options = {}) => {
        const { signal, ...decoding } = options;
        const key = createHash("sha256")
          .update(JSON.stringify([model.id, inputs, decoding]))
          .digest("hex");
        const saved = this.read(key);
        if (saved) return saved;
        const outputs = await model.generate(inputs, options);
        this.write(key, outputs);
        return outputs;
      },
      scoreLogprobs: (items, options) => model.scoreLogprobs(items, options),
      ...(model.dispose ? { dispose: () => model.dispose!() } : {}),
    };
  }

  private read(key: string): RationaleOutput[] | undefined {
    const at = this.index.get(key);
    if (!at) return undefined;
    const buffer = Buffer.allocUnsafe(at.length);
    readSync(this.fd, buffer, 0, at.length, at.offset);
    const [saved, outputs] = JSON.parse(buffer.toString("utf8")) as [string, RationaleOutput[]];
    // The index holds 64 bits of the key: a collision generates again rather than answering wrongly.
    return saved === key ? outputs : undefined;
  }

  private write(key: string, outputs: RationaleOutput[]): void {
    const line = Buffer.from(`${JSON.stringify([key, outputs])}\n`);
    writeSync(this.fd, line, 0, line.length, this.end);
    this.index.set(key, 0, this.end, line.length - 1);
    this.end += line.length;
  }

  remove(): void {
    closeSync(this.fd);
    rmSync(this.path, { force: true });
  }
}
