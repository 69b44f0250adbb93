// Binlog v4 event framing: the common header every event starts with, the event type
// codes of MySQL and MariaDB, and the CRC32 footer.
//
// Common header, 19 bytes, little-endian (MySQL Internals "Binlog Event Header",
// libbinlogevents binlog_event.h LOG_EVENT_HEADER_LEN; MariaDB KB "Log Event Header"):
//   0  timestamp   u32   seconds since the epoch when the statement began
//   4  type        u8    EventType code
//   5  server_id   u32   originating server
//   9  event_size  u32   header + post-header + body + checksum
//  13  log_pos     u32   position of the NEXT event in the originating file (0 for
//                        artificial events and for events inside TRANSACTION_PAYLOAD)
//  17  flags       u16   LOG_EVENT_*_F bits
// Footer: when the checksum algorithm is CRC32, the last 4 bytes are CRC-32/ISO-HDLC
// (zlib crc32) over everything before them, little-endian.

import { ReplicateError } from "../errors.ts";

export const HEADER_LEN = 19;
export const CHECKSUM_LEN = 4;
/** Every binlog file starts with these 4 bytes: 0xfe 'b' 'i' 'n'. */
export const BINLOG_MAGIC = Uint8Array.of(0xfe, 0x62, 0x69, 0x6e);

export const EventType = {
  UNKNOWN: 0,
  START_V3: 1,
  QUERY: 2,
  STOP: 3,
  ROTATE: 4,
  INTVAR: 5,
  LOAD: 6,
  SLAVE: 7,
  CREATE_FILE: 8,
  APPEND_BLOCK: 9,
  EXEC_LOAD: 10,
  DELETE_FILE: 11,
  NEW_LOAD: 12,
  RAND: 13,
  USER_VAR: 14,
  FORMAT_DESCRIPTION: 15,
  XID: 16,
  BEGIN_LOAD_QUERY: 17,
  EXECUTE_LOAD_QUERY: 18,
  TABLE_MAP: 19,
  PRE_GA_WRITE_ROWS: 20,
  PRE_GA_UPDATE_ROWS: 21,
  PRE_GA_DELETE_ROWS: 22,
  WRITE_ROWS_V1: 23,
  UPDATE_ROWS_V1: 24,
  DELETE_ROWS_V1: 25,
  INCIDENT: 26,
  HEARTBEAT: 27,
  IGNORABLE: 28,
  ROWS_QUERY: 29,
  WRITE_ROWS: 30,
  UPDATE_ROWS: 31,
  DELETE_ROWS: 32,
  GTID: 33,
  ANONYMOUS_GTID: 34,
  PREVIOUS_GTIDS: 35,
  TRANSACTION_CONTEXT: 36,
  VIEW_CHANGE: 37,
  XA_PREPARE: 38,
  PARTIAL_UPDATE_ROWS: 39,
  TRANSACTION_PAYLOAD: 40,
  HEARTBEAT_V2: 41,
  GTID_TAGGED: 42,
  // MariaDB
  ANNOTATE_ROWS: 160,
  BINLOG_CHECKPOINT: 161,
  MARIADB_GTID: 162,
  GTID_LIST: 163,
  START_ENCRYPTION: 164,
  QUERY_COMPRESSED: 165,
  WRITE_ROWS_COMPRESSED_V1: 166,
  UPDATE_ROWS_COMPRESSED_V1: 167,
  DELETE_ROWS_COMPRESSED_V1: 168,
  WRITE_ROWS_COMPRESSED: 169,
  UPDATE_ROWS_COMPRESSED: 170,
  DELETE_ROWS_COMPRESSED: 171,
} as const;

const typeNames = new Map<number, string>(Object.entries(EventType).map(([name, code]) => [code, name]));

/** "TABLE_MAP (19)", or "type 201" for codes neither server defines. */
export function eventTypeName(type: number): string {
  const name = typeNames.get(type);
  return name === undefined ? `type ${type}` : `${name} (${type})`;
}

/** A reader that does not know this event may skip it instead of stopping. */
export const LOG_EVENT_IGNORABLE_F = 0x80;
/** Set on events the server made up for the stream (the ROTATE a dump thread sends first). */
export const LOG_EVENT_ARTIFICIAL_F = 0x20;

export const ChecksumAlg = { OFF: 0, CRC32: 1, UNDEF: 255 } as const;

export interface EventHeader {
  timestamp: number;
  type: number;
  serverId: number;
  eventSize: number;
  logPos: number;
  flags: number;
}

/** Reads the common header at `offset`; the caller guarantees 19 bytes are there. */
export function readHeader(buf: Uint8Array, offset = 0): EventHeader {
  const v = new DataView(buf.buffer, buf.byteOffset + offset, HEADER_LEN);
  return {
    timestamp: v.getUint32(0, true),
    type: v.getUint8(4),
    serverId: v.getUint32(5, true),
    eventSize: v.getUint32(9, true),
    logPos: v.getUint32(13, true),
    flags: v.getUint16(17, true),
  };
}

/**
 * Where an event starts, for messages: log_pos names the END of the event, so the start is
 * log_pos - event_size; artificial and payload-inner events have log_pos 0 and keep 0.
 */
export function eventStart(h: EventHeader): number {
  return h.logPos >= h.eventSize ? h.logPos - h.eventSize : h.logPos;
}

/** Throws BINLOG_CHECKSUM unless the last 4 bytes are the CRC32 of the rest. */
export function verifyCrc32(raw: Uint8Array, where: string): void {
  const n = raw.length - CHECKSUM_LEN;
  if (n < HEADER_LEN) {
    throw new ReplicateError("BINLOG_TRUNCATED", `binlog event of ${raw.length} bytes cannot carry a CRC32 footer`, {
      where,
    });
  }
  const stored = (raw[n]! | (raw[n + 1]! << 8) | (raw[n + 2]! << 16) | (raw[n + 3]! << 24)) >>> 0;
  const computed = Bun.hash.crc32(raw.subarray(0, n)) >>> 0;
  if (stored !== computed) {
    throw new ReplicateError(
      "BINLOG_CHECKSUM",
      `binlog event checksum mismatch (${eventTypeName(raw[4]!)}, ${raw.length} bytes): ` +
        `stored 0x${hex32(stored)}, computed 0x${hex32(computed)}; the binlog file or the network stream is corrupt`,
      { where },
    );
  }
}

/** True when the last 4 bytes happen to be a valid CRC32 (used only before any FORMAT_DESCRIPTION). */
export function hasValidCrc32(raw: Uint8Array): boolean {
  const n = raw.length - CHECKSUM_LEN;
  if (n < HEADER_LEN) return false;
  const stored = (raw[n]! | (raw[n + 1]! << 8) | (raw[n + 2]! << 16) | (raw[n + 3]! << 24)) >>> 0;
  return stored === Bun.hash.crc32(raw.subarray(0, n)) >>> 0;
}

function hex32(v: number): string {
  return v.toString(16).padStart(8, "0");
}

/**
 * Splits a binlog FILE image into raw events (views, no copies). `start` is the offset of the
 * first event: 4 after the magic for a whole file. A final partial event (a file still being
 * written) is not returned; `end` tells where complete events stop.
 */
export function splitEvents(buf: Uint8Array, fileName: string, start = BINLOG_MAGIC.length): { events: { offset: number; raw: Uint8Array }[]; end: number } {
  if (start === BINLOG_MAGIC.length) {
    for (let i = 0; i < BINLOG_MAGIC.length; i++) {
      if (buf[i] !== BINLOG_MAGIC[i]) {
        throw new ReplicateError("BINLOG_BAD_VALUE", "not a binlog file: the first 4 bytes are not fe 62 69 6e", {
          where: `${fileName}:0`,
        });
      }
    }
  }
  const events: { offset: number; raw: Uint8Array }[] = [];
  let pos = start;
  while (pos + HEADER_LEN <= buf.length) {
    const size = readHeader(buf, pos).eventSize;
    if (size < HEADER_LEN) {
      throw new ReplicateError("BINLOG_BAD_VALUE", `event_size ${size} is smaller than the 19-byte header`, {
        where: `${fileName}:${pos}`,
      });
    }
    if (pos + size > buf.length) break;
    events.push({ offset: pos, raw: buf.subarray(pos, pos + size) });
    pos += size;
  }
  return { events, end: pos };
}
