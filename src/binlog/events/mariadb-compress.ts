// MariaDB's compressed event parts (log_bin_compress=ON: QUERY_COMPRESSED 165 and the
// compressed rows events 166-171), MariaDB KB "Compressing Events to Reduce Size of the
// Binary Log" and sql/log_event.cc binlog_buf_compress():
//   header u8          high bit always set; low 3 bits = n, the byte count of the length
//   length u8[n]       uncompressed length, BIG-endian
//   data               zlib stream (RFC 1950, deflate with the 2-byte zlib header)

import { inflateSync } from "node:zlib";
import { ReplicateError } from "../../errors.ts";

export function inflateMariadb(data: Uint8Array, where: string, what: string): Uint8Array {
  const first = data[0];
  if (first === undefined || (first & 0x80) === 0) {
    throw new ReplicateError("BINLOG_BAD_VALUE", `${what}: compressed data does not start with a 0x80 header byte`, {
      where,
    });
  }
  const lenlen = first & 0x07;
  if (lenlen < 1 || lenlen > 4 || data.length < 1 + lenlen) {
    throw new ReplicateError("BINLOG_BAD_VALUE", `${what}: bad compressed length header 0x${first.toString(16)}`, {
      where,
    });
  }
  let expected = 0;
  for (let i = 1; i <= lenlen; i++) expected = expected * 256 + data[i]!;
  let out: Uint8Array;
  try {
    out = inflateSync(data.subarray(1 + lenlen));
  } catch (cause) {
    throw new ReplicateError("BINLOG_BAD_VALUE", `${what}: zlib data does not inflate`, { where, cause });
  }
  if (out.length !== expected) {
    throw new ReplicateError("BINLOG_BAD_VALUE", `${what}: inflated to ${out.length} bytes, header says ${expected}`, { where });
  }
  // inflateSync returns a Buffer; callers expect a plain Uint8Array view.
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
