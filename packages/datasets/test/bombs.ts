import { constants, crc32, deflateRawSync, gzipSync } from "node:zlib";

const MiB = 1 << 20;

/**
 * `size` zero bytes as raw deflate data, built without ever holding them: one MiB is deflated with a
 * full flush (a self-contained, non-final piece of about 1 KB) and the piece repeated, then a final
 * empty block. `size` must be a whole number of MiB.
 */
export function deflatedZeros(size: number): { deflated: Buffer; crc: number } {
  const zeros = Buffer.alloc(MiB);
  const piece = deflateRawSync(zeros, { finishFlush: constants.Z_FULL_FLUSH });
  const pieces = size / MiB;
  let crc = 0;
  for (let i = 0; i < pieces; i++) crc = crc32(zeros, crc);
  const deflated = Buffer.concat([
    ...Array.from({ length: pieces }, () => piece),
    deflateRawSync(Buffer.alloc(0)),
  ]);
  return { deflated, crc };
}

/** A gzip body (RFC 1952) decoding to `size` zero bytes. */
export function gzipBomb(size: number): Buffer {
  const { deflated, crc } = deflatedZeros(size);
  const header = gzipSync(Buffer.alloc(0)).subarray(0, 10);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE(size % 2 ** 32, 4);
  return Buffer.concat([header, deflated, trailer]);
}

/** A zip archive with one deflated member `name` of `size` zero bytes, its sizes declared truthfully. */
export function zipBomb(name: string, size: number): Buffer {
  const { deflated, crc } = deflatedZeros(size);
  const file = Buffer.from(name);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4); // version needed
  local.writeUInt16LE(0x800, 6); // UTF-8 names
  local.writeUInt16LE(8, 8); // deflate
  local.writeUInt32LE(crc >>> 0, 14);
  local.writeUInt32LE(deflated.length, 18);
  local.writeUInt32LE(size, 22);
  local.writeUInt16LE(file.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4); // made by
  central.writeUInt16LE(20, 6);
  central.writeUInt16LE(0x800, 8);
  central.writeUInt16LE(8, 10);
  central.writeUInt32LE(crc >>> 0, 16);
  central.writeUInt32LE(deflated.length, 20);
  central.writeUInt32LE(size, 24);
  central.writeUInt16LE(file.length, 28);
  central.writeUInt32LE(0, 42); // local header offset
  const centralStart = local.length + file.length + deflated.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + file.length, 12);
  end.writeUInt32LE(centralStart, 16);
  return Buffer.concat([local, file, deflated, central, file, end]);
}
