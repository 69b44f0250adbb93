// TABLE_MAP per-column metadata, and type names for messages.
//
// TABLE_MAP_EVENT body carries, after the column type array, a length-encoded block of
// per-column metadata whose size per column depends on the type (MySQL sql/log_event.cc
// Table_map_log_event::save_field_metadata and each Field::do_save_field_metadata; MySQL
// internals "TABLE_MAP_EVENT"). Getting one column's width wrong misaligns every later
// column, so each type's width is explicit below.

import { ReplicateError } from "../errors.ts";
import type { ByteReader } from "./reader.ts";
import { ColumnType as T } from "./types.ts";

/**
 * MariaDB column compression (10.3+) logs compressed columns under their own type codes
 * (MariaDB include/mysql_com.h: MYSQL_TYPE_BLOB_COMPRESSED 140, MYSQL_TYPE_VARCHAR_COMPRESSED
 * 141; checked against a MariaDB 10.11 binlog).
 */
export const MARIADB_BLOB_COMPRESSED = 140;
export const MARIADB_VARCHAR_COMPRESSED = 141;

const NAMES: Record<number, string> = {
  [T.DECIMAL]: "DECIMAL",
  [T.TINY]: "TINY",
  [T.SHORT]: "SHORT",
  [T.LONG]: "LONG",
  [T.FLOAT]: "FLOAT",
  [T.DOUBLE]: "DOUBLE",
  [T.NULL]: "NULL",
  [T.TIMESTAMP]: "TIMESTAMP",
  [T.LONGLONG]: "LONGLONG",
  [T.INT24]: "INT24",
  [T.DATE]: "DATE",
  [T.TIME]: "TIME",
  [T.DATETIME]: "DATETIME",
  [T.YEAR]: "YEAR",
  [T.NEWDATE]: "NEWDATE",
  [T.VARCHAR]: "VARCHAR",
  [T.BIT]: "BIT",
  [T.TIMESTAMP2]: "TIMESTAMP2",
  [T.DATETIME2]: "DATETIME2",
  [T.TIME2]: "TIME2",
  [T.TYPED_ARRAY]: "TYPED_ARRAY",
  [MARIADB_VARCHAR_COMPRESSED]: "VARCHAR_COMPRESSED",
  [MARIADB_BLOB_COMPRESSED]: "BLOB_COMPRESSED",
  [T.VECTOR]: "VECTOR",
  [T.INVALID]: "INVALID",
  [T.BOOL]: "BOOL",
  [T.JSON]: "JSON",
  [T.NEWDECIMAL]: "NEWDECIMAL",
  [T.ENUM]: "ENUM",
  [T.SET]: "SET",
  [T.TINY_BLOB]: "TINY_BLOB",
  [T.MEDIUM_BLOB]: "MEDIUM_BLOB",
  [T.LONG_BLOB]: "LONG_BLOB",
  [T.BLOB]: "BLOB",
  [T.VAR_STRING]: "VAR_STRING",
  [T.STRING]: "STRING",
  [T.GEOMETRY]: "GEOMETRY",
};

/** "NEWDECIMAL", or "type 77" for codes this tool does not know. */
export function columnTypeName(type: number): string {
  return NAMES[type] ?? `type ${type}`;
}

/**
 * Reads one column's entry of the TABLE_MAP metadata block and returns the real type with
 * its metadata unpacked as documented on ColumnInfo.meta.
 *
 * Layout per type (little-endian unless stated):
 *   FLOAT, DOUBLE                       1 byte   pack length (4 | 8)
 *   BLOB family, GEOMETRY, JSON,
 *   BLOB_COMPRESSED (MariaDB)           1 byte   length-prefix bytes (1..4)
 *   VARCHAR, VAR_STRING,
 *   VARCHAR_COMPRESSED (MariaDB)        2 bytes  max length in bytes
 *   NEWDECIMAL                          2 bytes  byte0 precision, byte1 scale
 *   BIT                                 2 bytes  byte0 = bits % 8, byte1 = whole bytes
 *   STRING, ENUM, SET                   2 bytes  byte0, byte1 in stream order:
 *        byte0 = real_type XOR ((max_length & 0x300) >> 4), byte1 = max_length & 0xff
 *        (Field_string::do_save_field_metadata). Real types (ENUM 0xf7, SET 0xf8, STRING
 *        0xfe) all have bits 0x30 set, so when they are not both set the length's bits
 *        8-9 were folded in (CHAR columns longer than 255 bytes): length =
 *        (((byte0 & 0x30) ^ 0x30) << 4) | byte1 and real_type = byte0 | 0x30.
 *        For ENUM byte1 is the pack length (1|2), for SET the byte count (1..8).
 *   TIME2, DATETIME2, TIMESTAMP2        1 byte   fsp (0..6)
 *   integers, YEAR, DATE, TIME, DATETIME, TIMESTAMP, NULL, old DECIMAL   0 bytes
 *   anything else                       BINLOG_UNSUPPORTED (width unknown)
 */
export function readColumnMeta(r: ByteReader, type: number): { type: number; meta: number } {
  switch (type) {
    case T.FLOAT:
    case T.DOUBLE:
    case T.TINY_BLOB:
    case T.MEDIUM_BLOB:
    case T.LONG_BLOB:
    case T.BLOB:
    case T.GEOMETRY:
    case T.JSON:
    case MARIADB_BLOB_COMPRESSED:
    case T.TIME2:
    case T.DATETIME2:
    case T.TIMESTAMP2:
      return { type, meta: r.u8() };
    case T.VARCHAR:
    case T.VAR_STRING:
    case MARIADB_VARCHAR_COMPRESSED:
      return { type, meta: r.u16() };
    case T.NEWDECIMAL: {
      const precision = r.u8();
      const scale = r.u8();
      return { type, meta: precision * 256 + scale };
    }
    case T.BIT: {
      const bits = r.u8();
      const bytes = r.u8();
      return { type, meta: bytes * 8 + bits };
    }
    case T.STRING:
    case T.ENUM:
    case T.SET: {
      const byte0 = r.u8();
      const byte1 = r.u8();
      if ((byte0 & 0x30) !== 0x30) {
        // Only CHAR can be longer than 255 bytes, so a folded length always means STRING.
        if ((byte0 | 0x30) === T.STRING) return { type: T.STRING, meta: (((byte0 & 0x30) ^ 0x30) << 4) | byte1 };
      } else if (byte0 === T.ENUM || byte0 === T.SET || byte0 === T.STRING) {
        return { type: byte0, meta: byte1 };
      }
      throw new ReplicateError("BINLOG_BAD_VALUE", `TABLE_MAP metadata of a ${columnTypeName(type)} column names real type ${columnTypeName(byte0)}`, { where: r.where });
    }
    case T.DECIMAL:
    case T.TINY:
    case T.SHORT:
    case T.LONG:
    case T.NULL:
    case T.TIMESTAMP:
    case T.LONGLONG:
    case T.INT24:
    case T.DATE:
    case T.TIME:
    case T.DATETIME:
    case T.YEAR:
    case T.NEWDATE:
      return { type, meta: 0 };
    default:
      // Guessing a width would silently misalign every later column (e.g. MySQL 9 VECTOR,
      // whose metadata width is not documented here), so unknown types stop the reader.
      throw new ReplicateError("BINLOG_UNSUPPORTED", `TABLE_MAP column of ${columnTypeName(type)}: its metadata layout is not supported`, { where: r.where });
  }
}
