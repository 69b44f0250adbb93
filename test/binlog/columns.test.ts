// TABLE_MAP per-column metadata. Fixtures follow MySQL sql/log_event.cc
// Table_map_log_event::save_field_metadata and the Field::do_save_field_metadata of each
// type (MySQL internals "TABLE_MAP_EVENT", column metadata table).

import { describe, expect, test } from "bun:test";
import { columnTypeName, readColumnMeta } from "../../src/binlog/columns.ts";
import { ByteReader } from "../../src/binlog/reader.ts";
import { ColumnType as T } from "../../src/binlog/types.ts";
import { ReplicateError } from "../../src/errors.ts";

/** Reads one entry and checks it consumed exactly the fixture. */
function meta(type: number, bytes: number[]): { type: number; meta: number } {
  const r = new ByteReader(Uint8Array.from(bytes), "test.000001:120");
  const m = readColumnMeta(r, type);
  expect(r.remaining).toBe(0);
  return m;
}

function codeOf(type: number, bytes: number[]): string {
  try {
    readColumnMeta(new ByteReader(Uint8Array.from(bytes), "test.000001:120"), type);
  } catch (e) {
    expect(e).toBeInstanceOf(ReplicateError);
    expect((e as ReplicateError).where).toBe("test.000001:120");
    return (e as ReplicateError).code;
  }
  throw new Error("expected a ReplicateError");
}

describe("readColumnMeta", () => {
  test.each<[string, number, number[], number, number]>([
    // 1 byte: pack length
    ["FLOAT", T.FLOAT, [4], T.FLOAT, 4],
    ["DOUBLE", T.DOUBLE, [8], T.DOUBLE, 8],
    // 1 byte: length-prefix bytes
    ["BLOB (TEXT)", T.BLOB, [2], T.BLOB, 2],
    ["BLOB (LONGTEXT, MariaDB JSON)", T.BLOB, [4], T.BLOB, 4],
    ["JSON", T.JSON, [4], T.JSON, 4],
    ["GEOMETRY", T.GEOMETRY, [4], T.GEOMETRY, 4],
    // 1 byte: fsp
    ["TIME2", T.TIME2, [3], T.TIME2, 3],
    ["DATETIME2", T.DATETIME2, [6], T.DATETIME2, 6],
    ["TIMESTAMP2", T.TIMESTAMP2, [0], T.TIMESTAMP2, 0],
    // 2 bytes LE: max length in bytes; VARCHAR(75) utf8mb4 = 300 = 0x012C
    ["VARCHAR", T.VARCHAR, [0x2c, 0x01], T.VARCHAR, 300],
    ["VAR_STRING", T.VAR_STRING, [0x0a, 0x00], T.VAR_STRING, 10],
    // 2 bytes: precision, scale → precision * 256 + scale
    ["NEWDECIMAL(10,2)", T.NEWDECIMAL, [10, 2], T.NEWDECIMAL, 10 * 256 + 2],
    ["NEWDECIMAL(65,30)", T.NEWDECIMAL, [65, 30], T.NEWDECIMAL, 65 * 256 + 30],
    // 2 bytes: bits % 8, whole bytes → total bits
    ["BIT(1)", T.BIT, [1, 0], T.BIT, 1],
    ["BIT(10)", T.BIT, [2, 1], T.BIT, 10],
    ["BIT(64)", T.BIT, [0, 8], T.BIT, 64],
    // STRING: byte0 real type, byte1 length / pack length
    ["CHAR(10) latin1", T.STRING, [0xfe, 10], T.STRING, 10],
    ["ENUM (1-byte index)", T.STRING, [0xf7, 1], T.ENUM, 1],
    ["ENUM (2-byte index)", T.STRING, [0xf7, 2], T.ENUM, 2],
    ["SET (8 bytes)", T.STRING, [0xf8, 8], T.SET, 8],
    // CHAR(100) utf8mb4 = 400 = 0x190: byte0 = 0xfe ^ ((0x190 & 0x300) >> 4) = 0xee, byte1 0x90
    ["CHAR(100) utf8mb4, length folded into byte0", T.STRING, [0xee, 0x90], T.STRING, 400],
    // CHAR(255) utf8mb4 = 1020 = 0x3FC: byte0 = 0xfe ^ 0x30 = 0xce, byte1 0xfc
    ["CHAR(255) utf8mb4", T.STRING, [0xce, 0xfc], T.STRING, 1020],
    // CHAR(64) utf8mb4 = 256 = 0x100: byte0 0xee, byte1 0x00
    ["CHAR length exactly 256", T.STRING, [0xee, 0x00], T.STRING, 256],
    // MariaDB column compression types: like VARCHAR (2 bytes) and BLOB (1 byte)
    ["MariaDB VARCHAR_COMPRESSED", 141, [0xd1, 0x07], 141, 2001],
    ["MariaDB BLOB_COMPRESSED", 140, [2], 140, 2],
  ])("%s", (_name, type, bytes, wantType, wantMeta) => {
    expect(meta(type, bytes)).toEqual({ type: wantType, meta: wantMeta });
  });

  test.each([T.TINY, T.SHORT, T.INT24, T.LONG, T.LONGLONG, T.YEAR, T.DATE, T.TIME, T.DATETIME, T.TIMESTAMP, T.NULL, T.NEWDATE, T.DECIMAL])(
    "type %d has no metadata bytes",
    (type) => {
      expect(meta(type, [])).toEqual({ type, meta: 0 });
    },
  );

  test("a whole metadata block: INT, VARCHAR(255), DECIMAL(12,4), TEXT, DATETIME(3), ENUM, BIT(3), DOUBLE", () => {
    const types = [T.LONG, T.VARCHAR, T.NEWDECIMAL, T.BLOB, T.DATETIME2, T.STRING, T.BIT, T.DOUBLE];
    const block = [
      /* LONG: none */
      0xff,
      0x00, // VARCHAR max length 255
      12,
      4, // NEWDECIMAL precision 12, scale 4
      2, // BLOB 2-byte length
      3, // DATETIME2 fsp 3
      0xf7,
      0x01, // STRING real type ENUM, pack length 1
      3,
      0, // BIT 3 bits, 0 whole bytes
      8, // DOUBLE size 8
    ];
    const r = new ByteReader(Uint8Array.from(block), "test");
    const got = types.map((t) => readColumnMeta(r, t));
    expect(r.remaining).toBe(0);
    expect(got).toEqual([
      { type: T.LONG, meta: 0 },
      { type: T.VARCHAR, meta: 255 },
      { type: T.NEWDECIMAL, meta: 12 * 256 + 4 },
      { type: T.BLOB, meta: 2 },
      { type: T.DATETIME2, meta: 3 },
      { type: T.ENUM, meta: 1 },
      { type: T.BIT, meta: 3 },
      { type: T.DOUBLE, meta: 8 },
    ]);
  });

  test("unknown types are unsupported rather than guessed", () => {
    expect(codeOf(T.VECTOR, [4])).toBe("BINLOG_UNSUPPORTED");
    expect(codeOf(100, [])).toBe("BINLOG_UNSUPPORTED");
  });
  test("STRING metadata naming a real type other than STRING/ENUM/SET is corrupt", () => {
    // 0xfd (VAR_STRING) has bits 0x30 set, so it is not a folded length.
    expect(codeOf(T.STRING, [0xfd, 10])).toBe("BINLOG_BAD_VALUE");
    // A folded length must unfold to STRING: 0xc7 | 0x30 = 0xf7 (ENUM) is not valid.
    expect(codeOf(T.STRING, [0xc7, 1])).toBe("BINLOG_BAD_VALUE");
  });
  test("truncated metadata throws BINLOG_TRUNCATED", () => {
    expect(codeOf(T.VARCHAR, [0x2c])).toBe("BINLOG_TRUNCATED");
    expect(codeOf(T.NEWDECIMAL, [10])).toBe("BINLOG_TRUNCATED");
    expect(codeOf(T.STRING, [0xfe])).toBe("BINLOG_TRUNCATED");
    expect(codeOf(T.BIT, [])).toBe("BINLOG_TRUNCATED");
    expect(codeOf(T.BLOB, [])).toBe("BINLOG_TRUNCATED");
    expect(codeOf(T.DATETIME2, [])).toBe("BINLOG_TRUNCATED");
  });
});

describe("columnTypeName", () => {
  test("known and unknown codes", () => {
    expect(columnTypeName(T.NEWDECIMAL)).toBe("NEWDECIMAL");
    expect(columnTypeName(T.DATETIME2)).toBe("DATETIME2");
    expect(columnTypeName(140)).toBe("BLOB_COMPRESSED");
    expect(columnTypeName(141)).toBe("VARCHAR_COMPRESSED");
    expect(columnTypeName(99)).toBe("type 99");
  });
});
