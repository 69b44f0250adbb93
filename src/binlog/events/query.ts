// QUERY (2) and MariaDB QUERY_COMPRESSED (165): DDL, BEGIN/COMMIT of non-transactional
// work, XA COMMIT, statement-based DML.
//
// Layout (MySQL Internals "QUERY_EVENT", libbinlogevents statement_events.h Query_event;
// MariaDB KB "QUERY_EVENT"):
//   post-header (13 bytes in v4):
//     thread_id u32 | exec_time u32 | db_len u8 | error_code u16 | status_vars_len u16
//   status vars: status_vars_len bytes of (code u8, value) pairs, codes ascending:
//     0 FLAGS2 u32                    1 SQL_MODE u64               2 CATALOG len u8+str+NUL
//     3 AUTO_INCREMENT u16 inc, u16 offset                         4 CHARSET 3 x u16
//     5 TIME_ZONE len u8+str          6 CATALOG_NZ len u8+str      7 LC_TIME_NAMES u16
//     8 CHARSET_DATABASE u16          9 TABLE_MAP_FOR_UPDATE u64  10 MASTER_DATA_WRITTEN u32
//    11 INVOKER len u8+user, len u8+host
//    12 UPDATED_DB_NAMES count u8 (254: too many, none listed) + NUL-terminated names
//    13 MICROSECONDS u24             16 EXPLICIT_DEFAULTS_FOR_TIMESTAMP u8
//    17 DDL_LOGGED_WITH_XID u64      18 DEFAULT_COLLATION_FOR_UTF8MB4 u16
//    19 SQL_REQUIRE_PRIMARY_KEY u8   20 DEFAULT_TABLE_ENCRYPTION u8
//   128 HRNOW u24 (MariaDB)        129 XID u64 (MariaDB)
//   130 GTID_FLAGS3 u8 (+ u64 START ALTER seq_no when bit 4|8 is set, MariaDB 10.8+)
//   131 CHARACTER_SET_COLLATIONS count u8 + count x (charset u16, collation u16) (MariaDB 11.2+)
//   db name: db_len bytes + NUL | statement: to the end of the body
// 14/15 (COMMIT_TS) were never written by a GA server. An unknown code ends status parsing:
// values are not length-prefixed, so nothing after it can be found, but the block length
// is known and the database name and statement are read after it regardless.
// QUERY_COMPRESSED: identical, except the statement is in MariaDB's compressed form.

import { ReplicateError } from "../../errors.ts";
import type { ByteReader } from "../reader.ts";
import { inflateMariadb } from "./mariadb-compress.ts";

export interface QueryStatus {
  /** The session options the server logs: bit 26 FOREIGN_KEY_CHECKS=0, bit 27 UNIQUE_CHECKS=0,
   *  bit 19 autocommit off, bit 14 SQL_AUTO_IS_NULL (sql_priv.h OPTIONS_WRITTEN_TO_BIN_LOG). */
  flags2?: number;
  sqlMode?: bigint;
  catalog?: string;
  autoIncrement?: { increment: number; offset: number };
  charset?: { client: number; connection: number; server: number };
  timeZone?: string;
  lcTimeNames?: number;
  charsetDatabase?: number;
  tableMapForUpdate?: bigint;
  masterDataWritten?: number;
  invoker?: { user: string; host: string };
  /** Undefined when absent or when the server listed too many to name. */
  updatedDbNames?: string[];
  microseconds?: number;
  explicitDefaultsForTimestamp?: boolean;
  ddlXid?: bigint;
  defaultCollationForUtf8mb4?: number;
  sqlRequirePrimaryKey?: boolean;
  defaultTableEncryption?: boolean;
  hrnow?: number;
  xid?: bigint;
  gtidFlags3?: number;
  startAlterSeqNo?: bigint;
  characterSetCollations?: [number, number][];
  /** Code where parsing stopped early (unknown or not decodable here); the rest was skipped. */
  stoppedAt?: number;
}

export interface Query {
  threadId: number;
  execTime: number;
  errorCode: number;
  database: string;
  /** Statement text decoded as UTF-8; statementBytes keeps the original bytes. */
  statement: string;
  statementBytes: Uint8Array;
  status: QueryStatus;
}

const utf8 = new TextDecoder("utf-8");

export function decodeQuery(r: ByteReader, postHeaderLen: number, compressed: boolean): Query {
  const start = r.pos;
  const threadId = r.u32();
  const execTime = r.u32();
  const dbLen = r.u8();
  const errorCode = r.u16();
  const statusLen = postHeaderLen >= 13 ? r.u16() : 0;
  r.skip(Math.max(0, postHeaderLen - (r.pos - start)));
  const status = decodeStatusVars(r.sub(statusLen));
  const database = r.utf8(dbLen);
  if (r.u8() !== 0) {
    throw new ReplicateError("BINLOG_BAD_VALUE", "QUERY event: database name is not followed by NUL", {
      where: r.where,
    });
  }
  let statementBytes = r.rest();
  if (compressed) statementBytes = inflateMariadb(statementBytes, r.where, "QUERY_COMPRESSED statement");
  return { threadId, execTime, errorCode, database, statement: utf8.decode(statementBytes), statementBytes, status };
}

function decodeStatusVars(r: ByteReader): QueryStatus {
  const s: QueryStatus = {};
  let code = -1;
  try {
    while (r.remaining > 0) {
      code = r.u8();
      if (!readStatusVar(r, code, s)) {
        s.stoppedAt = code;
        break;
      }
    }
  } catch (err) {
    // A known code whose value overruns the block means a layout this reader has wrong
    // for this server version; the statement after the block is still intact.
    if (!(err instanceof ReplicateError) || err.code !== "BINLOG_TRUNCATED") throw err;
    s.stoppedAt = code;
  }
  return s;
}

/** Returns false for a code whose length is unknown. */
function readStatusVar(r: ByteReader, code: number, s: QueryStatus): boolean {
  switch (code) {
    case 0:
      s.flags2 = r.u32();
      return true;
    case 1:
      s.sqlMode = r.u64();
      return true;
    case 2: {
      s.catalog = r.utf8(r.u8());
      r.skip(1);
      return true;
    }
    case 3:
      s.autoIncrement = { increment: r.u16(), offset: r.u16() };
      return true;
    case 4:
      s.charset = { client: r.u16(), connection: r.u16(), server: r.u16() };
      return true;
    case 5:
      s.timeZone = r.ascii(r.u8());
      return true;
    case 6:
      s.catalog = r.utf8(r.u8());
      return true;
    case 7:
      s.lcTimeNames = r.u16();
      return true;
    case 8:
      s.charsetDatabase = r.u16();
      return true;
    case 9:
      s.tableMapForUpdate = r.u64();
      return true;
    case 10:
      s.masterDataWritten = r.u32();
      return true;
    case 11:
      s.invoker = { user: r.utf8(r.u8()), host: r.utf8(r.u8()) };
      return true;
    case 12: {
      const n = r.u8();
      if (n !== 254) {
        const names: string[] = [];
        for (let i = 0; i < n; i++) names.push(r.cstring());
        s.updatedDbNames = names;
      }
      return true;
    }
    case 13:
      s.microseconds = r.u24();
      return true;
    case 16:
      s.explicitDefaultsForTimestamp = r.u8() !== 0;
      return true;
    case 17:
      s.ddlXid = r.u64();
      return true;
    case 18:
      s.defaultCollationForUtf8mb4 = r.u16();
      return true;
    case 19:
      s.sqlRequirePrimaryKey = r.u8() !== 0;
      return true;
    case 20:
      s.defaultTableEncryption = r.u8() !== 0;
      return true;
    case 128:
      s.hrnow = r.u24();
      return true;
    case 129:
      s.xid = r.u64();
      return true;
    case 130: {
      const f = r.u8();
      s.gtidFlags3 = f;
      if (f & (4 | 8)) s.startAlterSeqNo = r.u64();
      return true;
    }
    case 131: {
      const n = r.u8();
      const pairs: [number, number][] = [];
      for (let i = 0; i < n; i++) pairs.push([r.u16(), r.u16()]);
      s.characterSetCollations = pairs;
      return true;
    }
    default:
      return false;
  }
}
