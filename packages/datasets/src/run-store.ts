import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { DataValidationError, KeySet, type RunStore } from "@lmcot/core";
import { readLines } from "./jsonl";

export interface RunStoreInfo {
  /** Records found when the file was opened. */
  existing: number;
  /** A torn last line (an append cut by a kill) was found and removed. */
  droppedTornLine: boolean;
}

/** A `RunStore` on an append-only JSONL file. */
export interface JsonlRunStore<R extends { key: string }> extends RunStore<R> {
  readonly path: string;
  readonly info: RunStoreInfo;
}

/**
 * Opens (or creates) an append-only JSONL run file. A torn last line, left by a kill in the middle
 * of an append, is detected and cut off; a bad line elsewhere is an error naming it. Each record is
 * written with one `write` of its line, appends are serialised, and appending a key the store
 * already has is a no-op, so a file never holds a key twice.
 */
export async function openRunStore<R extends { key: string } = { key: string }>(
  path: string,
): Promise<JsonlRunStore<R>> {
  mkdirSync(dirname(path), { recursive: true });
  const file = basename(path);
  // Only hashes of the keys are held (`KeySet`): a run's memory does not grow with its file.
  const keys = new KeySet();
  let goodEnd = 0;
  let droppedTornLine = false;
  if (existsSync(path)) {
    for await (const { text, line, end, terminated } of readLines(path)) {
      if (text.trim() === "") {
        if (terminated) goodEnd = end;
        continue;
      }
      let record: unknown;
      try {
        record = JSON.parse(text);
      } catch {
        record = undefined;
      }
      const key = (record as { key?: unknown } | undefined)?.key;
      if (!terminated || record === undefined) {
        if (!terminated) {
          droppedTornLine = true;
          break;
        }
        throw new DataValidationError(
          "is not valid JSON: the run file is damaged in the middle, not just at the end",
          {
            file,
            line,
          },
        );
      }
      if (typeof key !== "string")
        throw new DataValidationError("has no string `key`", { file, line, field: "key" });
      keys.add(key);
      goodEnd = end;
    }
    if (droppedTornLine) {
      const fd = openSync(path, "r+");
      ftruncateSync(fd, goodEnd);
      closeSync(fd);
    }
  }
  const info: RunStoreInfo = { existing: keys.size, droppedTornLine };
  const handle: FileHandle = await open(path, "a");
  let queue: Promise<void> = Promise.resolve();

  return {
    path,
    info,
    has: (key) => keys.has(key),
    append(record) {
      const write = queue.then(async () => {
        if (keys.has(record.key)) return;
        await handle.write(`${JSON.stringify(record)}\n`);
        keys.add(record.key);
      });
      queue = write.catch(() => undefined);
      return write;
    },
    async *records() {
      await queue;
      for await (const { text, terminated } of readLines(path)) {
        if (terminated && text.trim() !== "") yield JSON.parse(text) as R;
      }
    },
    async close() {
      await queue;
      await handle.close();
    },
  };
}
