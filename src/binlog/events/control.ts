// Control events: they steer the reader (format, file changes, liveness) and carry no rows.
//
// FORMAT_DESCRIPTION (15), whole event (MySQL Internals "FORMAT_DESCRIPTION_EVENT",
// libbinlogevents control_events.h Format_description_event; MariaDB KB
// "FORMAT_DESCRIPTION_EVENT"):
//   19-byte common header
//   binlog_version u16 (4) | server_version char[50] NUL-padded | create_timestamp u32
//   | common_header_len u8 (19) | post_header_len u8[number of event types]
//   | checksum_alg u8 | checksum u32
// The last two fields exist only on checksum-aware servers (MySQL >= 5.6.1, MariaDB >= 5.3);
// such a server ALWAYS writes them into this event, even with binlog_checksum=NONE (then the
// alg byte is 0 and the 4 bytes are not a CRC), so the post-header array ends 5 bytes early.
//
// ROTATE (4): position u64 | next file name (to the end of the body, no NUL)
// HEARTBEAT (27): log file name (rest of body); the header's log_pos is the position
// HEARTBEAT_V2 (41): TLV fields: type packed, length packed, value; 1 file name, 2 position
//   (packed), 0 ends the list
// STOP (3): empty body
// INCIDENT (26): incident type u16 | message length u8 | message
// PREVIOUS_GTIDS (35, MySQL): n_sids u64 | per SID: uuid[16] | n_intervals u64 |
//   intervals (start u64, end u64) with end exclusive
// GTID_LIST (163, MariaDB KB "GTID_LIST_EVENT"): count u32 (low 28 bits; high 4 are flags)
//   | per GTID: domain_id u32 | server_id u32 | seq_no u64
// BINLOG_CHECKPOINT (161, MariaDB KB "BINLOG_CHECKPOINT_EVENT"): name length u32 | name

import { ReplicateError } from "../../errors.ts";
import { HEADER_LEN, ChecksumAlg, CHECKSUM_LEN, LOG_EVENT_ARTIFICIAL_F, verifyCrc32 } from "../header.ts";
import type { ByteReader } from "../reader.ts";

export type Flavour = "mysql" | "mariadb";

export interface FormatDescription {
  binlogVersion: number;
  serverVersion: string;
  createTimestamp: number;
  headerLength: number;
  /** post_header_len[type - 1] is the post-header length of event type `type`. */
  postHeaderLengths: Uint8Array;
  /** ChecksumAlg: 0 off, 1 CRC32, 255 when the server predates checksums. */
  checksumAlg: number;
  flavour: Flavour;
}

const VERSION_LEN = 50;
const FIXED_LEN = 2 + VERSION_LEN + 4 + 1;

/** Decodes a whole FORMAT_DESCRIPTION event, verifying its own CRC when it declares CRC32. */
export function decodeFormatDescription(raw: Uint8Array, where: string): FormatDescription {
  if (raw.length < HEADER_LEN + FIXED_LEN) {
    throw new ReplicateError("BINLOG_TRUNCATED", `FORMAT_DESCRIPTION of ${raw.length} bytes is too short`, { where });
  }
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const binlogVersion = v.getUint16(HEADER_LEN, true);
  const versionBytes = raw.subarray(HEADER_LEN + 2, HEADER_LEN + 2 + VERSION_LEN);
  const nul = versionBytes.indexOf(0);
  const serverVersion = new TextDecoder("latin1").decode(nul < 0 ? versionBytes : versionBytes.subarray(0, nul));
  const createTimestamp = v.getUint32(HEADER_LEN + 2 + VERSION_LEN, true);
  const headerLength = raw[HEADER_LEN + 2 + VERSION_LEN + 4]!;
  if (headerLength < HEADER_LEN) {
    throw new ReplicateError("BINLOG_BAD_VALUE", `FORMAT_DESCRIPTION declares a ${headerLength}-byte common header`, {
      where,
    });
  }
  const flavour: Flavour = /mariadb/i.test(serverVersion) ? "mariadb" : "mysql";
  let checksumAlg: number = ChecksumAlg.UNDEF;
  let arrayEnd = raw.length;
  if (checksumAware(serverVersion, flavour)) {
    arrayEnd = raw.length - 1 - CHECKSUM_LEN;
    if (arrayEnd < HEADER_LEN + FIXED_LEN) {
      throw new ReplicateError("BINLOG_TRUNCATED", "FORMAT_DESCRIPTION is too short for its checksum footer", {
        where,
      });
    }
    checksumAlg = raw[arrayEnd]!;
    if (checksumAlg === ChecksumAlg.CRC32) verifyCrc32(withoutInUseFlag(raw), where);
    else if (checksumAlg !== ChecksumAlg.OFF) {
      throw new ReplicateError("BINLOG_UNSUPPORTED", `binlog checksum algorithm ${checksumAlg} is unknown (only NONE and CRC32 exist)`, { where });
    }
  }
  return {
    binlogVersion,
    serverVersion,
    createTimestamp,
    headerLength,
    postHeaderLengths: raw.slice(HEADER_LEN + FIXED_LEN, arrayEnd),
    checksumAlg,
    flavour,
  };
}

/** LOG_EVENT_BINLOG_IN_USE_F: set in a file's FORMAT_DESCRIPTION while its server has it open. */
const BINLOG_IN_USE_F = 0x1;
/** Offset of the common header's flags (u16 little-endian). */
const FLAGS_OFFSET = 17;

/**
 * The server computes FORMAT_DESCRIPTION's CRC32 with LOG_EVENT_BINLOG_IN_USE_F cleared and sets
 * the flag afterwards, clearing it again when it closes the file (MySQL sql/log_event.cc,
 * Log_event_footer::event_checksum_test; MariaDB the same): a file copied while open has the
 * flag set over a CRC computed without it. The CRC is checked as the server computed it.
 */
function withoutInUseFlag(raw: Uint8Array): Uint8Array {
  if ((raw[FLAGS_OFFSET]! & BINLOG_IN_USE_F) === 0) return raw;
  const copy = raw.slice();
  copy[FLAGS_OFFSET] = copy[FLAGS_OFFSET]! & ~BINLOG_IN_USE_F;
  return copy;
}

function checksumAware(version: string, flavour: Flavour): boolean {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (!m) return true; // an unparseable version is a newer, unknown server, not an ancient one
  const n = Number(m[1]) * 10000 + Number(m[2]) * 100 + Number(m[3]);
  return flavour === "mariadb" ? n >= 50300 : n >= 50601;
}

export interface Rotate {
  position: number;
  nextFile: string;
  /** Made up by the dump thread (first event of a stream), not present in any file. */
  artificial: boolean;
}

export function decodeRotate(r: ByteReader, flags: number): Rotate {
  const position = r.u64n();
  return { position, nextFile: r.ascii(r.remaining), artificial: (flags & LOG_EVENT_ARTIFICIAL_F) !== 0 };
}

export interface Heartbeat {
  logFile: string;
  position: number;
}

export function decodeHeartbeat(r: ByteReader, logPos: number): Heartbeat {
  return { logFile: r.ascii(r.remaining), position: logPos };
}

const HB_END = 0;
const HB_LOG_FILENAME = 1;
const HB_LOG_POSITION = 2;

export function decodeHeartbeatV2(r: ByteReader): Heartbeat {
  let logFile = "";
  let position = 0;
  while (r.remaining > 0) {
    const type = r.packed();
    if (type === HB_END) break;
    const value = r.sub(r.packed());
    if (type === HB_LOG_FILENAME) logFile = value.ascii(value.remaining);
    else if (type === HB_LOG_POSITION) position = value.packed();
  }
  return { logFile, position };
}

export interface Incident {
  incidentType: number;
  message: string;
}

export function decodeIncident(r: ByteReader): Incident {
  const incidentType = r.u16();
  const message = r.remaining > 0 ? r.utf8(r.u8()) : "";
  return { incidentType, message };
}

export interface GtidSetEntry {
  uuid: string;
  /** [start, end) pairs as written; end is exclusive. */
  intervals: [bigint, bigint][];
}

export interface PreviousGtids {
  sids: GtidSetEntry[];
  /** MySQL text form: "uuid:1-5:7-9,uuid2:1-3"; "" when empty. */
  gtidSet: string;
}

export function decodePreviousGtids(r: ByteReader): PreviousGtids {
  const nSidsRaw = r.u64();
  // MySQL 8.3+ puts a format byte in the top of n_sids; 1 means tagged GTIDs follow, in a
  // layout (mysql::serialization) this reader does not implement.
  if (nSidsRaw >> 56n !== 0n) {
    throw new ReplicateError("BINLOG_UNSUPPORTED", "PREVIOUS_GTIDS uses the tagged GTID format of MySQL 8.3+ (gtid_next with a tag); tagged GTIDs are not supported", {
      where: r.where,
    });
  }
  const nSids = Number(nSidsRaw);
  const sids: GtidSetEntry[] = [];
  for (let i = 0; i < nSids; i++) {
    const uuid = formatUuid(r.bytes(16));
    const n = r.u64n();
    r.need(n * 16, "GTID intervals");
    const intervals: [bigint, bigint][] = [];
    for (let j = 0; j < n; j++) intervals.push([r.i64(), r.i64()]);
    sids.push({ uuid, intervals });
  }
  return { sids, gtidSet: sids.map(formatSid).join(",") };
}

function formatSid(s: GtidSetEntry): string {
  let out = s.uuid;
  for (const [start, end] of s.intervals) out += end - 1n === start ? `:${start}` : `:${start}-${end - 1n}`;
  return out;
}

const hex = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** 16 bytes to the 8-4-4-4-12 lowercase form MySQL prints. */
export function formatUuid(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) s += "-";
    s += hex[b[i]!];
  }
  return s;
}

export interface MariadbGtidPos {
  domainId: number;
  serverId: number;
  seqNo: bigint;
}

export interface GtidList {
  flags: number;
  gtids: MariadbGtidPos[];
  /** MariaDB text form "0-1-11,1-2-5"; "" when empty. */
  gtidList: string;
}

export function decodeGtidList(r: ByteReader): GtidList {
  const word = r.u32();
  const count = word & 0x0fffffff;
  r.need(count * 16, "GTID list entries");
  const gtids: MariadbGtidPos[] = [];
  for (let i = 0; i < count; i++) gtids.push({ domainId: r.u32(), serverId: r.u32(), seqNo: r.u64() });
  return {
    flags: word >>> 28,
    gtids,
    gtidList: gtids.map((g) => `${g.domainId}-${g.serverId}-${g.seqNo}`).join(","),
  };
}

export interface Checkpoint {
  file: string;
}

export function decodeCheckpoint(r: ByteReader): Checkpoint {
  return { file: r.ascii(r.u32()) };
}
