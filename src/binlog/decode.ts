// The event dispatcher: one raw binlog event in, one typed BinlogEvent out.
//
// Input: exactly one event, common header first (a binlog file slice, or a replication
// packet without its leading OK byte). Steps:
//   1. frame: 19-byte header, event_size must equal the bytes given
//   2. checksum: FORMAT_DESCRIPTION carries its own algorithm byte; every other event uses
//      the one the last FORMAT_DESCRIPTION announced. CRC32 is verified, then the 4 footer
//      bytes are cut off so no body decoder can read into them.
//   3. dispatch on the type code to the family decoders in ./events/.
// The decoder keeps the reader's context: current file name (ROTATE), checksum algorithm,
// flavour and post-header lengths (FORMAT_DESCRIPTION), and TABLE_MAPs by table_id. TABLE_MAPs
// are dropped when a new statement starts mapping tables after a STMT_END_F rows event —
// the server re-sends them for every statement, so the cache stays small.

import { ReplicateError } from "../errors.ts";
import {
  CHECKSUM_LEN,
  ChecksumAlg,
  type EventHeader,
  EventType as E,
  eventStart,
  eventTypeName,
  HEADER_LEN,
  hasValidCrc32,
  LOG_EVENT_IGNORABLE_F,
  readHeader,
  verifyCrc32,
} from "./header.ts";
import { ByteReader } from "./reader.ts";
import type { TableInfo } from "./types.ts";
import * as C from "./events/control.ts";
import { decodePayload, type Payload } from "./events/payload.ts";
import { decodeQuery, type Query } from "./events/query.ts";
import { decodeRows, partialUpdateUnsupported, type Rows, type RowsKind } from "./events/rows.ts";
import { decodeTableMap, type TableMap } from "./events/tablemap.ts";
import * as X from "./events/transaction.ts";

interface Base {
  header: EventHeader;
  /** "file:pos" of the event start, for messages and checkpoints. */
  where: string;
}

export interface FormatEvent extends Base, C.FormatDescription {
  kind: "format";
}
export interface RotateEvent extends Base, C.Rotate {
  kind: "rotate";
}
export interface GtidEvent extends Base {
  kind: "gtid";
  gtid: X.MysqlGtid | X.MariadbGtid;
}
export interface QueryEvent extends Base, Query {
  kind: "query";
}
export interface XidEvent extends Base, X.Xid {
  kind: "xid";
}
export interface XaPrepareEvent extends Base, X.XaPrepare {
  kind: "xaPrepare";
}
export interface TableMapEvent extends Base, TableMap {
  kind: "tableMap";
}
export interface RowsEvent extends Base, Rows {
  kind: "rows";
}
export interface PayloadEvent extends Base, Payload {
  kind: "payload";
}
export interface HeartbeatEvent extends Base, C.Heartbeat {
  kind: "heartbeat";
}
export interface PreviousGtidsEvent extends Base, C.PreviousGtids {
  kind: "previousGtids";
}
export interface GtidListEvent extends Base, C.GtidList {
  kind: "gtidList";
}
export interface CheckpointEvent extends Base, C.Checkpoint {
  kind: "checkpoint";
}
export interface RowsQueryEvent extends Base, X.RowsQuery {
  kind: "rowsQuery";
}
export interface StopEvent extends Base {
  kind: "stop";
}
export interface IncidentEvent extends Base, C.Incident {
  kind: "incident";
}
export interface IgnoredEvent extends Base {
  kind: "ignored";
  reason: string;
}

export type BinlogEvent =
  | FormatEvent
  | RotateEvent
  | GtidEvent
  | QueryEvent
  | XidEvent
  | XaPrepareEvent
  | TableMapEvent
  | RowsEvent
  | PayloadEvent
  | HeartbeatEvent
  | PreviousGtidsEvent
  | GtidListEvent
  | CheckpointEvent
  | RowsQueryEvent
  | StopEvent
  | IncidentEvent
  | IgnoredEvent;

interface DecoderOptions {
  /** Binlog file the first events belong to; ROTATE events update it. */
  file?: string;
  /** Checksum algorithm before the first FORMAT_DESCRIPTION (e.g. @@binlog_checksum); by default
   *  a footer is stripped only when it is a valid CRC32 (the dump thread's first, artificial ROTATE). */
  checksum?: "off" | "crc32";
  /** Flavour until a FORMAT_DESCRIPTION names the server. Default "mysql". */
  flavour?: C.Flavour;
  /** Lets a schema tracker complete a table (names, signedness, …) before rows use it. */
  onTableMap?: (map: TableMap) => TableInfo | undefined;
  /** Databases whose rows are wanted; rows of the others are skipped undecoded (and their
   *  TABLE_MAPs not completed), which is both faster and independent of their schema. */
  keepDatabase?: (database: string) => boolean;
}

const ROWS: Record<number, RowsKind> = {
  [E.WRITE_ROWS_V1]: { op: "insert", version: 1, compressed: false },
  [E.UPDATE_ROWS_V1]: { op: "update", version: 1, compressed: false },
  [E.DELETE_ROWS_V1]: { op: "delete", version: 1, compressed: false },
  [E.WRITE_ROWS]: { op: "insert", version: 2, compressed: false },
  [E.UPDATE_ROWS]: { op: "update", version: 2, compressed: false },
  [E.DELETE_ROWS]: { op: "delete", version: 2, compressed: false },
  [E.WRITE_ROWS_COMPRESSED_V1]: { op: "insert", version: 1, compressed: true },
  [E.UPDATE_ROWS_COMPRESSED_V1]: { op: "update", version: 1, compressed: true },
  [E.DELETE_ROWS_COMPRESSED_V1]: { op: "delete", version: 1, compressed: true },
  [E.WRITE_ROWS_COMPRESSED]: { op: "insert", version: 2, compressed: true },
  [E.UPDATE_ROWS_COMPRESSED]: { op: "update", version: 2, compressed: true },
  [E.DELETE_ROWS_COMPRESSED]: { op: "delete", version: 2, compressed: true },
};

/** Known events that carry nothing a row-based change stream needs. */
const NO_DATA: Record<number, string> = {
  [E.INTVAR]: "statement-based context (INSERT_ID / LAST_INSERT_ID)",
  [E.RAND]: "statement-based context (RAND seeds)",
  [E.USER_VAR]: "statement-based context (user variable)",
  [E.LOAD]: "statement-based LOAD DATA",
  [E.CREATE_FILE]: "statement-based LOAD DATA",
  [E.APPEND_BLOCK]: "statement-based LOAD DATA",
  [E.EXEC_LOAD]: "statement-based LOAD DATA",
  [E.DELETE_FILE]: "statement-based LOAD DATA",
  [E.NEW_LOAD]: "statement-based LOAD DATA",
  [E.BEGIN_LOAD_QUERY]: "statement-based LOAD DATA",
  [E.EXECUTE_LOAD_QUERY]: "statement-based LOAD DATA",
  [E.SLAVE]: "never written",
  [E.IGNORABLE]: "ignorable by definition",
  [E.TRANSACTION_CONTEXT]: "group replication certification data",
  [E.VIEW_CHANGE]: "group replication membership change",
  [E.START_ENCRYPTION]: "binlog encryption starts (the server decrypts events it streams)",
};

/** Post-header lengths of a v4 binlog, for events decoded before any FORMAT_DESCRIPTION. */
const DEFAULT_POST_HEADER: Record<number, number> = { [E.QUERY]: 13, [E.QUERY_COMPRESSED]: 13, [E.TABLE_MAP]: 8 };

export class EventDecoder {
  file: string;
  /** ChecksumAlg value, or undefined while unknown. */
  checksumAlg: number | undefined;
  flavour: C.Flavour;
  format: C.FormatDescription | undefined;
  private readonly tables = new Map<bigint, TableInfo>();
  private statementEnded = false;
  private readonly onTableMap: DecoderOptions["onTableMap"];
  private readonly keepDatabase: DecoderOptions["keepDatabase"];
  private readonly skipped = new Set<bigint>();
  /** The last TABLE_MAP body seen per table id and what it decoded to: the server repeats the
   *  same TABLE_MAP before every statement, and its metadata costs more to decode than a row. */
  private readonly mapCache = new Map<bigint, { body: Uint8Array; event: Omit<TableMapEvent, "header" | "where"> }>();

  constructor(options: DecoderOptions = {}) {
    this.file = options.file ?? "?";
    this.checksumAlg = options.checksum === undefined ? undefined : options.checksum === "crc32" ? ChecksumAlg.CRC32 : ChecksumAlg.OFF;
    this.flavour = options.flavour ?? "mysql";
    this.onTableMap = options.onTableMap;
    this.keepDatabase = options.keepDatabase;
  }

  /** The mapped table for a table_id, if a TABLE_MAP for it is current. */
  table(tableId: bigint): TableInfo | undefined {
    return this.tables.get(tableId);
  }

  /** Replaces a mapped table's description (a schema tracker filling in what the event lacked). */
  setTable(info: TableInfo): void {
    this.tables.set(info.tableId, info);
  }

  /**
   * Decodes one raw event. `position` overrides the start offset used in messages (by default
   * log_pos - event_size).
   */
  decode(raw: Uint8Array, position?: number): BinlogEvent {
    if (raw.length < HEADER_LEN) {
      throw new ReplicateError("BINLOG_TRUNCATED", `binlog event of ${raw.length} bytes is shorter than its header`, {
        where: `${this.file}:${position ?? "?"}`,
      });
    }
    const header = readHeader(raw);
    const where = `${this.file}:${position ?? eventStart(header)}`;
    return this.decodeFramed(raw, header, where, this.checksumAlg);
  }

  /** Decodes the events inside a TRANSACTION_PAYLOAD (they have no checksums). */
  expandPayload(ev: PayloadEvent): BinlogEvent[] {
    return ev.events.map((raw, i) => {
      if (raw.length < HEADER_LEN) {
        throw new ReplicateError("BINLOG_TRUNCATED", "payload inner event shorter than its header", {
          where: `${ev.where}[${i}]`,
        });
      }
      return this.decodeFramed(raw, readHeader(raw), `${ev.where}[${i}]`, ChecksumAlg.OFF);
    });
  }

  private decodeFramed(raw: Uint8Array, header: EventHeader, where: string, alg: number | undefined): BinlogEvent {
    if (header.eventSize !== raw.length) {
      throw new ReplicateError(
        header.eventSize > raw.length ? "BINLOG_TRUNCATED" : "BINLOG_BAD_VALUE",
        `${eventTypeName(header.type)} declares ${header.eventSize} bytes but ${raw.length} were given`,
        { where },
      );
    }
    if (header.type === E.FORMAT_DESCRIPTION) return this.onFormat(raw, header, where);
    let end = raw.length;
    if (alg === ChecksumAlg.CRC32) {
      verifyCrc32(raw, where);
      end -= CHECKSUM_LEN;
    } else if (alg === undefined && hasValidCrc32(raw)) {
      end -= CHECKSUM_LEN;
    }
    const r = new ByteReader(raw, where, HEADER_LEN, end);
    return this.dispatch(r, header, where);
  }

  private onFormat(raw: Uint8Array, header: EventHeader, where: string): FormatEvent {
    const fd = C.decodeFormatDescription(raw, where);
    this.format = fd;
    this.flavour = fd.flavour;
    this.checksumAlg = fd.checksumAlg === ChecksumAlg.CRC32 ? ChecksumAlg.CRC32 : ChecksumAlg.OFF;
    return { kind: "format", header, where, ...fd };
  }

  private postHeaderLen(type: number): number {
    const v = this.format?.postHeaderLengths[type - 1];
    return v ?? DEFAULT_POST_HEADER[type] ?? 0;
  }

  private dispatch(r: ByteReader, header: EventHeader, where: string): BinlogEvent {
    const type = header.type;
    const base = { header, where };
    const rows = ROWS[type];
    if (rows !== undefined) {
      if (this.skipped.size > 0) {
        const skip = this.skipRows(r, rows, type, base);
        if (skip) return skip;
      }
      const ev = decodeRows(r, rows, this.postHeaderLen(type), (id) => this.tables.get(id));
      if (ev.stmtEnd) this.statementEnded = true;
      return { kind: "rows", ...base, ...ev };
    }
    switch (type) {
      case E.TABLE_MAP:
        return this.onTableMapEvent(r, base);
      case E.QUERY:
      case E.QUERY_COMPRESSED: {
        const q = decodeQuery(r, this.postHeaderLen(type), type === E.QUERY_COMPRESSED);
        // Anything but BEGIN/COMMIT may be DDL: cached TABLE_MAPs (and the names a schema
        // history gave them) may be stale after it.
        if (q.statement !== "BEGIN" && q.statement !== "COMMIT") this.mapCache.clear();
        return { kind: "query", ...base, ...q };
      }
      case E.XID:
        return { kind: "xid", ...base, ...X.decodeXid(r) };
      case E.GTID:
      case E.ANONYMOUS_GTID:
        return { kind: "gtid", ...base, gtid: X.decodeMysqlGtid(r, type === E.ANONYMOUS_GTID) };
      case E.MARIADB_GTID:
        return { kind: "gtid", ...base, gtid: X.decodeMariadbGtid(r, header.serverId) };
      case E.XA_PREPARE:
        return { kind: "xaPrepare", ...base, ...X.decodeXaPrepare(r) };
      case E.ROTATE: {
        const ev = C.decodeRotate(r, header.flags);
        this.file = ev.nextFile;
        return { kind: "rotate", ...base, ...ev };
      }
      case E.TRANSACTION_PAYLOAD:
        return { kind: "payload", ...base, ...decodePayload(r) };
      case E.HEARTBEAT:
        return { kind: "heartbeat", ...base, ...C.decodeHeartbeat(r, header.logPos) };
      case E.HEARTBEAT_V2:
        return { kind: "heartbeat", ...base, ...C.decodeHeartbeatV2(r) };
      case E.PREVIOUS_GTIDS:
        return { kind: "previousGtids", ...base, ...C.decodePreviousGtids(r) };
      case E.GTID_LIST:
        return { kind: "gtidList", ...base, ...C.decodeGtidList(r) };
      case E.BINLOG_CHECKPOINT:
        return { kind: "checkpoint", ...base, ...C.decodeCheckpoint(r) };
      case E.ROWS_QUERY:
        return { kind: "rowsQuery", ...base, ...X.decodeRowsQuery(r) };
      case E.ANNOTATE_ROWS:
        return { kind: "rowsQuery", ...base, ...X.decodeAnnotateRows(r) };
      case E.STOP:
        return { kind: "stop", ...base };
      case E.INCIDENT:
        return { kind: "incident", ...base, ...C.decodeIncident(r) };
      case E.PARTIAL_UPDATE_ROWS:
        throw partialUpdateUnsupported(where);
      case E.GTID_TAGGED:
        throw new ReplicateError("BINLOG_UNSUPPORTED", "GTID_TAGGED event: the source uses tagged GTIDs (MySQL 8.3+ SET gtid_next='uuid:tag:n'), " + "which are not supported", {
          where,
        });
    }
    const reason = NO_DATA[type];
    if (reason !== undefined) return { kind: "ignored", ...base, reason };
    if (header.flags & LOG_EVENT_IGNORABLE_F) {
      return { kind: "ignored", ...base, reason: `unknown ${eventTypeName(type)} marked ignorable` };
    }
    throw new ReplicateError(
      "BINLOG_UNKNOWN_EVENT",
      `unknown binlog ${eventTypeName(type)} without the ignorable flag: ` + "this server writes events gs-replicate does not know",
      { where },
    );
  }

  private onTableMapEvent(r: ByteReader, base: Base): TableMapEvent {
    if (this.statementEnded) {
      this.tables.clear();
      this.statementEnded = false;
    }
    const body = r.buf.subarray(r.pos, r.end);
    const idLen = this.postHeaderLen(E.TABLE_MAP) === 6 ? 4 : 6;
    const id = BigInt(new ByteReader(r.buf, r.where, r.pos, r.end).uintN(idLen));
    const hit = this.mapCache.get(id);
    if (hit && hit.body.length === body.length && Buffer.compare(hit.body, body) === 0) {
      const info = hit.event.table;
      this.tables.set(id, info);
      return { ...hit.event, ...base };
    }
    const map = decodeTableMap(r, this.postHeaderLen(E.TABLE_MAP), this.flavour);
    const keep = this.keepDatabase?.(map.table.database) ?? true;
    const info = (keep && this.onTableMap?.(map)) || map.table;
    if (keep) this.skipped.delete(info.tableId);
    else this.skipped.add(info.tableId);
    this.tables.set(info.tableId, info);
    const event = { kind: "tableMap" as const, ...map, table: info };
    if (this.mapCache.size > 10_000) this.mapCache.clear();
    this.mapCache.set(id, { body: body.slice(), event });
    return { ...event, ...base };
  }

  /** A rows event of a table outside the wanted databases: its body is not decoded. */
  private skipRows(r: ByteReader, kind: RowsKind, type: number, base: Base): RowsEvent | undefined {
    const peek = new ByteReader(r.buf, r.where, r.pos, r.end);
    const tableId = BigInt(peek.uintN(this.postHeaderLen(type) === 6 ? 4 : 6));
    if (!this.skipped.has(tableId)) return undefined;
    const flags = peek.u16();
    const stmtEnd = (flags & 1) !== 0;
    if (stmtEnd) this.statementEnded = true;
    const table = this.tables.get(tableId)!;
    return { kind: "rows", ...base, op: kind.op, tableId, table, flags, stmtEnd, version: kind.version, columnCount: table.columns.length, extraData: new Uint8Array(0), rows: [] };
  }
}
