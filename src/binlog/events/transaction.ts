// Transaction boundary and statement events.
//
// MySQL GTID (33) / ANONYMOUS_GTID (34), libbinlogevents control_events.h Gtid_event:
//   flags u8 (bit 0: may contain statement-based events) | sid uuid[16] | gno i64
//   | lt_type u8 (2) | last_committed i64 | sequence_number i64           (5.7+)
//   | immediate_commit_timestamp 7 bytes, µs; bit 55 set: original follows (8.0.1+)
//   | original_commit_timestamp 7 bytes                                    (if bit 55)
//   | transaction_length packed integer                                    (8.0.2+)
//   | immediate_server_version u32; bit 31 set: original follows           (8.0.14+)
//   | original_server_version u32                                          (if bit 31)
// Each optional group is present iff bytes remain, which is how the server reads it too.
//
// MariaDB GTID (162), MariaDB KB "GTID_EVENT", sql/log_event.cc Gtid_log_event:
//   seq_no u64 | domain_id u32 | flags2 u8
//   | commit_id u64                               (flags2 & FL_GROUP_COMMIT_ID 2)
//   | formatID u32 | gtrid_len u8 | bqual_len u8 | gtrid+bqual   (flags2 & 64|128, XA)
//   | flags_extra u8 | extra_engines u8 (extra & 1) | sa_seq_no u64 (extra & 4|8) (10.5+)
// zero-padded to 19 bytes when shorter, so a zero flags_extra read from padding is harmless.
//
// XID (16): xid u64.   XA_PREPARE (38): one_phase u8 | formatID u32 | gtrid_len u32
//   | bqual_len u32 | data.   ROWS_QUERY (29, MySQL): length u8 (ignored, may be
//   truncated at 255) | text.   ANNOTATE_ROWS (160, MariaDB KB "ANNOTATE_ROWS_EVENT"): text.

import type { ByteReader } from "../reader.ts";
import { formatUuid } from "./control.ts";

export interface MysqlGtid {
  flavour: "mysql";
  anonymous: boolean;
  flags: number;
  uuid: string;
  gno: bigint;
  /** "uuid:gno", or "ANONYMOUS" for ANONYMOUS_GTID. */
  text: string;
  lastCommitted?: number;
  sequenceNumber?: number;
  /** Microseconds since the epoch. */
  immediateCommitTimestamp?: number;
  originalCommitTimestamp?: number;
  transactionLength?: number;
  immediateServerVersion?: number;
  originalServerVersion?: number;
}

export function decodeMysqlGtid(r: ByteReader, anonymous: boolean): MysqlGtid {
  const flags = r.u8();
  const uuid = formatUuid(r.bytes(16));
  const gno = r.i64();
  const g: MysqlGtid = {
    flavour: "mysql",
    anonymous,
    flags,
    uuid,
    gno,
    text: anonymous ? "ANONYMOUS" : `${uuid}:${gno}`,
  };
  if (r.remaining >= 17 && r.buf[r.pos] === 2) {
    r.skip(1);
    g.lastCommitted = Number(r.i64());
    g.sequenceNumber = Number(r.i64());
  }
  if (r.remaining >= 7) {
    const { value, more } = commitTimestamp(r);
    g.immediateCommitTimestamp = value;
    g.originalCommitTimestamp = more ? commitTimestamp(r).value : value;
  }
  if (r.remaining > 0) g.transactionLength = r.packed();
  if (r.remaining >= 4) {
    const v = r.u32();
    g.immediateServerVersion = v & 0x7fffffff;
    g.originalServerVersion = v & 0x80000000 ? r.u32() & 0x7fffffff : g.immediateServerVersion;
  }
  return g;
}

function commitTimestamp(r: ByteReader): { value: number; more: boolean } {
  const low = r.u32();
  const high = r.u24();
  return { value: (high & 0x7fffff) * 0x100000000 + low, more: (high & 0x800000) !== 0 };
}

const MariadbGtidFlag = {
  STANDALONE: 1,
  GROUP_COMMIT_ID: 2,
  TRANSACTIONAL: 4,
  ALLOW_PARALLEL: 8,
  WAITED: 16,
  DDL: 32,
  PREPARED_XA: 64,
  COMPLETED_XA: 128,
} as const;

const MariadbGtidExtraFlag = { MULTI_ENGINE: 1, START_ALTER: 2, COMMIT_ALTER: 4, ROLLBACK_ALTER: 8 } as const;

export interface XaXid {
  formatId: number;
  gtrid: Uint8Array;
  bqual: Uint8Array;
}

export interface MariadbGtid {
  flavour: "mariadb";
  domainId: number;
  serverId: number;
  seqNo: bigint;
  /** "domain-server-seq". */
  text: string;
  flags: number;
  /** No BEGIN/COMMIT around it: a DDL or a non-transactional statement. */
  standalone: boolean;
  commitId?: bigint;
  xid?: XaXid;
  flagsExtra: number;
  extraEngines?: number;
  /** START ALTER sequence number this COMMIT/ROLLBACK ALTER refers to. */
  startAlterSeqNo?: bigint;
}

export function decodeMariadbGtid(r: ByteReader, serverId: number): MariadbGtid {
  const seqNo = r.u64();
  const domainId = r.u32();
  const flags = r.u8();
  const g: MariadbGtid = {
    flavour: "mariadb",
    domainId,
    serverId,
    seqNo,
    text: `${domainId}-${serverId}-${seqNo}`,
    flags,
    standalone: (flags & MariadbGtidFlag.STANDALONE) !== 0,
    flagsExtra: 0,
  };
  if (flags & MariadbGtidFlag.GROUP_COMMIT_ID) g.commitId = r.u64();
  if (flags & (MariadbGtidFlag.PREPARED_XA | MariadbGtidFlag.COMPLETED_XA)) {
    const formatId = r.u32();
    const gl = r.u8();
    const bl = r.u8();
    g.xid = { formatId, gtrid: r.bytes(gl), bqual: r.bytes(bl) };
  }
  if (r.remaining > 0) {
    g.flagsExtra = r.u8();
    if (g.flagsExtra & MariadbGtidExtraFlag.MULTI_ENGINE) g.extraEngines = r.u8();
    if (g.flagsExtra & (MariadbGtidExtraFlag.COMMIT_ALTER | MariadbGtidExtraFlag.ROLLBACK_ALTER)) {
      g.startAlterSeqNo = r.u64();
    }
  }
  return g;
}

export interface Xid {
  xid: bigint;
}

export function decodeXid(r: ByteReader): Xid {
  return { xid: r.u64() };
}

export interface XaPrepare {
  onePhase: boolean;
  xid: XaXid;
}

export function decodeXaPrepare(r: ByteReader): XaPrepare {
  const onePhase = r.u8() !== 0;
  const formatId = r.i32();
  const gl = r.u32();
  const bl = r.u32();
  return { onePhase, xid: { formatId, gtrid: r.bytes(gl), bqual: r.bytes(bl) } };
}

export interface RowsQuery {
  query: string;
}

export function decodeRowsQuery(r: ByteReader): RowsQuery {
  r.skip(1);
  return { query: r.utf8(r.remaining) };
}

export function decodeAnnotateRows(r: ByteReader): RowsQuery {
  return { query: r.utf8(r.remaining) };
}
