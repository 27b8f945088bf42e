import { isUtf8 } from "node:buffer";
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { basename } from "node:path";
import { DataValidationError } from "@lmcot/core";

/** A piece of a file, checked to be UTF-8, with the file offset of its first byte. */
export interface Chunk {
  bytes: Buffer;
  offset: number;
}

const hasBom = (b: Buffer) => b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf;

/** Bytes in the sequence a lead byte starts (1 for ASCII and for bytes that cannot start one). */
function sequenceLength(lead: number): number {
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 1;
}

/** The allowed range of a sequence's second byte (Unicode table 3-7: no overlongs, surrogates, > U+10FFFF). */
function secondByteRange(lead: number): [number, number] {
  if (lead === 0xe0) return [0xa0, 0xbf];
  if (lead === 0xed) return [0x80, 0x9f];
  if (lead === 0xf0) return [0x90, 0xbf];
  if (lead === 0xf4) return [0x80, 0x8f];
  return [0x80, 0xbf];
}

/**
 * Index of the first ill-formed UTF-8 sequence in `bytes`, or -1. With `partialEnd`, a sequence cut
 * by the end of `bytes` is not an error as long as what is there is a valid start.
 */
export function firstInvalidUtf8(bytes: Uint8Array, partialEnd = false): number {
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i]!;
    if (lead < 0x80) {
      i++;
      continue;
    }
    const n = sequenceLength(lead);
    if (n === 1) return i;
    for (let k = 1; k < n; k++) {
      if (i + k >= bytes.length) return partialEnd ? -1 : i;
      const [low, high] = k === 1 ? secondByteRange(lead) : [0x80, 0xbf];
      const c = bytes[i + k]!;
      if (c < low || c > high) return i;
    }
    i += n;
  }
  return -1;
}

/** Length of a multi-byte sequence cut by the end of `bytes` (0 when the last sequence is whole). */
function cutTail(bytes: Buffer, from: number): number {
  for (let k = 1; k <= 3 && bytes.length - k >= from; k++) {
    const b = bytes[bytes.length - k]!;
    if ((b & 0xc0) === 0x80) continue;
    return sequenceLength(b) > k ? k : 0;
  }
  return 0;
}

/** The error for a file that is not UTF-8, naming its line and the byte offset of the bad sequence. */
async function notUtf8(path: string, at: number): Promise<DataValidationError> {
  let line = 1;
  let pos = 0;
  const seen: number[] = [];
  for await (const chunk of createReadStream(path, { end: at + 3 })) {
    const bytes = chunk as Buffer;
    const before = Math.min(bytes.length, at - pos);
    for (let nl = bytes.indexOf(10); nl >= 0 && nl < before; nl = bytes.indexOf(10, nl + 1)) line++;
    seen.push(...bytes.subarray(Math.max(0, before)));
    pos += bytes.length;
  }
  const hex = seen.map((b) => b.toString(16).padStart(2, "0")).join(" ");
  const utf16 = at === 0 && (hex.startsWith("ff fe") || hex.startsWith("fe ff"));
  const hint = utf16
    ? "it looks like UTF-16: save it as UTF-8"
    : "save the file as UTF-8 (from Latin-1: iconv -f latin1 -t utf-8)";
  return new DataValidationError(`is not valid UTF-8 at byte offset ${at} (bytes ${hex}): ${hint}`, {
    file: basename(path),
    line,
  });
}

/**
 * Streams a file's bytes, checking they are UTF-8 (a sequence split across chunks included) and
 * skipping a leading byte order mark. An invalid sequence is a `DataValidationError` naming the file,
 * line and byte offset. A sequence cut by the end of the file is left to the caller, which reports
 * the file as truncated (a run file cut mid-character by a kill must still reopen).
 *
 * Two buffers are reused, one filled while the caller reads the other (fresh 1 MB buffers cost more
 * in page faults than the reading), `highWaterMark` bytes each unless the caller hands its own: a
 * chunk's `bytes` are valid until the next chunk is asked for, so a caller copies what it keeps.
 */
export async function* readChunks(
  path: string,
  signal?: AbortSignal,
  highWaterMark = 1 << 20,
  buffers: readonly [Buffer, Buffer] = [Buffer.allocUnsafe(highWaterMark), Buffer.allocUnsafe(highWaterMark)],
): AsyncGenerator<Chunk> {
  const handle = await open(path, "r");
  let turn = 0;
  let pending = handle.read(buffers[0], 0, highWaterMark, null);
  let offset = 0;
  let carry: Buffer | undefined;
  let carryAt = 0;
  try {
    for (;;) {
      const { bytesRead } = await pending;
      if (signal?.aborted) return;
      if (bytesRead === 0) break;
      const bytes = buffers[turn]!.subarray(0, bytesRead);
      turn ^= 1;
      pending = handle.read(buffers[turn]!, 0, highWaterMark, null);
      let start = 0;
      if (carry) {
        const need = sequenceLength(carry[0]!) - carry.length;
        const joined = Buffer.concat([carry, bytes.subarray(0, need)]);
        if (firstInvalidUtf8(joined, true) >= 0) throw await notUtf8(path, carryAt);
        start = Math.min(need, bytes.length);
        carry = joined.length < sequenceLength(joined[0]!) ? joined : undefined;
      }
      const tail = carry ? 0 : cutTail(bytes, start);
      const body = bytes.subarray(start, bytes.length - tail);
      if (!isUtf8(body)) throw await notUtf8(path, offset + start + firstInvalidUtf8(body));
      if (tail) {
        carry = Buffer.from(bytes.subarray(bytes.length - tail));
        carryAt = offset + bytes.length - tail;
      }
      const skip = offset === 0 && hasBom(bytes) ? 3 : 0;
      yield { bytes: skip ? bytes.subarray(skip) : bytes, offset: offset + skip };
      offset += bytes.length;
    }
    if (carry && firstInvalidUtf8(carry, true) >= 0) throw await notUtf8(path, carryAt);
  } finally {
    await pending.catch(() => {});
    await handle.close();
  }
}
