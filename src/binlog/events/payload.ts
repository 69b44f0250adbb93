// TRANSACTION_PAYLOAD (40, MySQL 8.0.20+ binlog_transaction_compression=ON): a whole
// transaction's events, usually zstd-compressed, inside one event.
//
// Layout (libbinlogevents control_events.h Transaction_payload_event and its decoder in
// binary_log::codecs::binary::Transaction_payload; MySQL manual "Binary Log Transaction
// Compression"):
//   header fields, repeated: type packed | length packed | value (a packed integer)
//     0 end of header (no length, no value)
//     1 PAYLOAD_SIZE       bytes of payload after the header
//     2 COMPRESSION_TYPE   0 ZSTD, 255 NONE
//     3 UNCOMPRESSED_SIZE  informational
//     other types: skipped by their length
//   payload: PAYLOAD_SIZE bytes
// Decompressed, the payload is a plain sequence of complete events, each with its 19-byte
// common header (log_pos 0) and WITHOUT a checksum footer: the outer event's CRC already
// covers them (the server serialises them with checksums off).

import { ReplicateError } from "../../errors.ts";
import { HEADER_LEN, readHeader } from "../header.ts";
import type { ByteReader } from "../reader.ts";

const CompressionType = { ZSTD: 0, NONE: 255 } as const;

export interface Payload {
  compressionType: number;
  payloadSize: number;
  uncompressedSize: number;
  /** Inner events, raw, in order; no checksum footers. */
  events: Uint8Array[];
}

const FIELD_END = 0;
const FIELD_PAYLOAD_SIZE = 1;
const FIELD_COMPRESSION_TYPE = 2;
const FIELD_UNCOMPRESSED_SIZE = 3;

export function decodePayload(r: ByteReader): Payload {
  let payloadSize: number | undefined;
  let compressionType: number | undefined;
  let uncompressedSize: number | undefined;
  for (;;) {
    const type = r.packed();
    if (type === FIELD_END) break;
    const v = r.sub(r.packed());
    if (type === FIELD_PAYLOAD_SIZE) payloadSize = v.packed();
    else if (type === FIELD_COMPRESSION_TYPE) compressionType = v.packed();
    else if (type === FIELD_UNCOMPRESSED_SIZE) uncompressedSize = v.packed();
  }
  if (payloadSize === undefined || compressionType === undefined) {
    throw new ReplicateError("BINLOG_BAD_VALUE", "TRANSACTION_PAYLOAD header lacks the payload size or the compression type", { where: r.where });
  }
  const data = r.bytes(payloadSize);
  let plain: Uint8Array;
  if (compressionType === CompressionType.NONE) plain = data;
  else if (compressionType === CompressionType.ZSTD) {
    try {
      plain = Bun.zstdDecompressSync(data);
    } catch (cause) {
      throw new ReplicateError("BINLOG_BAD_VALUE", "TRANSACTION_PAYLOAD: zstd data does not decompress", {
        where: r.where,
        cause,
      });
    }
  } else {
    throw new ReplicateError("BINLOG_UNSUPPORTED", `TRANSACTION_PAYLOAD compression type ${compressionType} is unknown (only ZSTD 0 and NONE 255 exist)`, { where: r.where });
  }
  if (uncompressedSize !== undefined && plain.length !== uncompressedSize) {
    throw new ReplicateError("BINLOG_BAD_VALUE", `TRANSACTION_PAYLOAD decompressed to ${plain.length} bytes, header says ${uncompressedSize}`, { where: r.where });
  }
  return { compressionType, payloadSize, uncompressedSize: plain.length, events: splitInner(plain, r.where) };
}

function splitInner(buf: Uint8Array, where: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  let pos = 0;
  while (pos < buf.length) {
    if (buf.length - pos < HEADER_LEN) {
      throw new ReplicateError("BINLOG_TRUNCATED", `TRANSACTION_PAYLOAD: ${buf.length - pos} trailing byte(s) at payload offset ${pos} are not an event`, { where });
    }
    const size = readHeader(buf, pos).eventSize;
    if (size < HEADER_LEN || pos + size > buf.length) {
      throw new ReplicateError("BINLOG_TRUNCATED", `TRANSACTION_PAYLOAD: inner event at payload offset ${pos} declares ${size} bytes, ${buf.length - pos} remain`, { where });
    }
    out.push(buf.subarray(pos, pos + size));
    pos += size;
  }
  return out;
}
