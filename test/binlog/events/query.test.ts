import { describe, expect, test } from "bun:test";
import { EventDecoder, type QueryEvent } from "../../../src/binlog/decode.ts";
import { EventType as E } from "../../../src/binlog/header.ts";
import { ascii, caught, cat, event, find, mysqlFormat, real, u16, u24, u32, u64, u8 } from "./helpers.ts";
import { FILE1, FILE2, FILE6 } from "./mariadb-fixtures.ts";

function mysql(): EventDecoder {
  const d = new EventDecoder({ file: "mysql-bin.000001" });
  d.decode(mysqlFormat(), 4);
  return d;
}

function mariadb(file = FILE1): EventDecoder {
  const d = new EventDecoder({ file: "binlog" });
  d.decode(real(file[0]!), 4);
  return d;
}

function query(ev: ReturnType<EventDecoder["decode"]>): QueryEvent {
  if (ev.kind !== "query") throw new Error(`not a query: ${ev.kind}`);
  return ev;
}

/** libbinlogevents statement_events.h Query_event post-header (QUERY_HEADER_LEN 13). */
function postHeader(dbLen: number, statusLen: number): Uint8Array {
  return cat(
    u32(88), // thread_id
    u32(2), // exec_time
    u8(dbLen), // db_len
    u16(0), // error_code
    u16(statusLen), // status_vars_len
  );
}

describe("QUERY", () => {
  test("real MariaDB CREATE DATABASE with its status block", () => {
    // status (26 bytes): 00 Q_FLAGS2 u32 | 01 Q_SQL_MODE u64 | 06 Q_CATALOG_NZ "std"
    // | 04 Q_CHARSET 33,33,8; then "shop" NUL, then the statement
    const q = query(mariadb().decode(real(find(FILE1, 367)), 367));
    expect(q).toMatchObject({ threadId: 5, execTime: 0, errorCode: 0, database: "shop" });
    expect(q.statement).toBe("create database shop");
    expect(q.status).toEqual({
      flags2: 0x01000000,
      sqlMode: 0x54200000n,
      catalog: "std",
      charset: { client: 33, connection: 33, server: 8 },
    });
  });

  test("hand-built MySQL 8.0 status block with every fixed-layout variable", () => {
    const status = cat(
      u8(0),
      u32(0x4000), // Q_FLAGS2_CODE
      u8(1),
      u64(0x00200000n), // Q_SQL_MODE_CODE
      u8(3),
      u16(2),
      u16(1), // Q_AUTO_INCREMENT increment, offset
      u8(4),
      u16(255),
      u16(255),
      u16(255), // Q_CHARSET_CODE client, connection, server
      u8(5),
      u8(6),
      ascii("SYSTEM"), // Q_TIME_ZONE_CODE
      u8(6),
      u8(3),
      ascii("std"), // Q_CATALOG_NZ_CODE
      u8(7),
      u16(1), // Q_LC_TIME_NAMES_CODE
      u8(8),
      u16(45), // Q_CHARSET_DATABASE_CODE
      u8(9),
      u64(3n), // Q_TABLE_MAP_FOR_UPDATE_CODE
      u8(10),
      u32(500), // Q_MASTER_DATA_WRITTEN_CODE
      u8(11),
      u8(4),
      ascii("root"),
      u8(9),
      ascii("localhost"), // Q_INVOKER user, host
      u8(12),
      u8(2),
      ascii("shop"),
      [0],
      ascii("crm"),
      [0], // Q_UPDATED_DB_NAMES
      u8(13),
      u24(123456), // Q_MICROSECONDS
      u8(16),
      u8(1), // Q_EXPLICIT_DEFAULTS_FOR_TIMESTAMP
      u8(17),
      u64(991n), // Q_DDL_LOGGED_WITH_XID
      u8(18),
      u16(255), // Q_DEFAULT_COLLATION_FOR_UTF8MB4
      u8(19),
      u8(1), // Q_SQL_REQUIRE_PRIMARY_KEY
      u8(20),
      u8(0), // Q_DEFAULT_TABLE_ENCRYPTION
    );
    const body = cat(postHeader(4, status.length), status, ascii("shop"), [0], ascii("CREATE TABLE t (id INT)"));
    const q = query(mysql().decode(event(E.QUERY, body)));
    expect(q.threadId).toBe(88);
    expect(q.execTime).toBe(2);
    expect(q.database).toBe("shop");
    expect(q.statement).toBe("CREATE TABLE t (id INT)");
    expect(q.status).toEqual({
      flags2: 0x4000,
      sqlMode: 0x00200000n,
      autoIncrement: { increment: 2, offset: 1 },
      charset: { client: 255, connection: 255, server: 255 },
      timeZone: "SYSTEM",
      catalog: "std",
      lcTimeNames: 1,
      charsetDatabase: 45,
      tableMapForUpdate: 3n,
      masterDataWritten: 500,
      invoker: { user: "root", host: "localhost" },
      updatedDbNames: ["shop", "crm"],
      microseconds: 123456,
      explicitDefaultsForTimestamp: true,
      ddlXid: 991n,
      defaultCollationForUtf8mb4: 255,
      sqlRequirePrimaryKey: true,
      defaultTableEncryption: false,
    });
  });

  test("old Q_CATALOG_CODE (len + text + NUL) and 'too many databases' (254)", () => {
    const status = cat(u8(2), u8(3), ascii("std"), [0], u8(12), u8(254));
    const body = cat(postHeader(0, status.length), status, [0], ascii("DROP DATABASE a"));
    const q = query(mysql().decode(event(E.QUERY, body)));
    expect(q.status).toEqual({ catalog: "std" });
    expect(q.statement).toBe("DROP DATABASE a");
  });

  test("an unknown status code stops the status parse; db and statement are still read", () => {
    const status = cat(u8(0), u32(0), u8(99), [1, 2, 3, 4, 5], u8(1), u64(1n));
    const body = cat(postHeader(2, status.length), status, ascii("db"), [0], ascii("BEGIN"));
    const q = query(mysql().decode(event(E.QUERY, body)));
    expect(q.status).toEqual({ flags2: 0, stoppedAt: 99 });
    expect(q.database).toBe("db");
    expect(q.statement).toBe("BEGIN");
  });

  test("MariaDB HRNOW, XID and CHARACTER_SET_COLLATIONS", () => {
    const status = cat(
      u8(128),
      u24(654321), // Q_HRNOW
      u8(129),
      u64(77n), // Q_XID
      u8(131),
      u8(1),
      u16(33),
      u16(192), // Q_CHARACTER_SET_COLLATIONS: 1 pair
    );
    const body = cat(postHeader(0, status.length), status, [0], ascii("COMMIT"));
    const q = query(mariadb().decode(event(E.QUERY, body)));
    expect(q.status).toEqual({ hrnow: 654321, xid: 77n, characterSetCollations: [[33, 192]] });
  });

  test("real MariaDB COMMIT ALTER: Q_GTID_FLAGS3 with the START ALTER sequence number", () => {
    const d = mariadb(FILE6);
    const start = query(d.decode(real(find(FILE6, 421)), 421));
    expect(start.status.gtidFlags3).toBe(2);
    const commit = query(d.decode(real(find(FILE6, 571)), 571));
    expect(commit.status).toMatchObject({ xid: 41n, gtidFlags3: 4, startAlterSeqNo: 20n });
    expect(commit.statement).toBe("alter table shop.t1 add column extra int");
  });

  test("a value overrunning the status block ends parsing there, not the event", () => {
    const status = cat(u8(0), u32(1), u8(1), [1, 2, 3]); // SQL_MODE needs 8 bytes, 3 are left
    const body = cat(postHeader(0, status.length), status, [0], ascii("SELECT 1"));
    const q = query(mysql().decode(event(E.QUERY, body)));
    expect(q.status).toEqual({ flags2: 1, stoppedAt: 1 });
    expect(q.statement).toBe("SELECT 1");
  });

  test("a missing NUL after the database name is BINLOG_BAD_VALUE", () => {
    const body = cat(postHeader(2, 0), ascii("db"), ascii("XSELECT 1"));
    expect(caught(() => mysql().decode(event(E.QUERY, body))).code).toBe("BINLOG_BAD_VALUE");
  });

  test("a status length beyond the event is BINLOG_TRUNCATED", () => {
    const body = cat(postHeader(0, 200), u8(0), u32(0));
    expect(caught(() => mysql().decode(event(E.QUERY, body))).code).toBe("BINLOG_TRUNCATED");
  });
});

describe("QUERY_COMPRESSED (MariaDB log_bin_compress)", () => {
  test("real event: statement inflated from MariaDB's compressed form", () => {
    // statement part: 0x81 (1 length byte follows) | 0x67 (103 bytes) | zlib stream
    const q = query(mariadb(FILE2).decode(real(find(FILE2, 1279)), 1279));
    expect(q.statement).toBe("create table shop.after_compress_with_a_long_name (id int primary key, a_long_column_name varchar(100))");
    expect(q.status.xid).toBe(25n);
    expect(q.statementBytes).toBeInstanceOf(Uint8Array);
  });

  test("damaged compressed data is BINLOG_BAD_VALUE", () => {
    const body = cat(postHeader(0, 0), [0], [0x81, 10, 0x78, 0x9c, 1, 2, 3]);
    const err = caught(() => mariadb().decode(event(E.QUERY_COMPRESSED, body)));
    expect(err.code).toBe("BINLOG_BAD_VALUE");
  });
});
