// TABLE_MAP (19): binds a table_id to db.table and the column types the following rows
// events use.
//
// Layout (MySQL Internals "TABLE_MAP_EVENT", libbinlogevents rows_event.h Table_map_event,
// MySQL sql/log_event.cc Table_map_log_event::init_metadata_fields; MariaDB KB
// "TABLE_MAP_EVENT"):
//   post-header: table_id u48 (u32 when the FD says the post-header is 6 bytes) | flags u16
//   db_len u8 | db name | NUL | table_len u8 | table name | NUL
//   column_count packed | column types u8[column_count]
//   metadata_len packed | metadata block (per column, width depends on type: readColumnMeta)
//   null bitmap ceil(column_count / 8) bytes, bit i (LSB first) = column i is nullable
//   optional metadata to the end (binlog_row_metadata, MySQL 8.0.1+, MariaDB 10.5+), TLV:
//   type u8 | length packed | value
//     1 SIGNEDNESS       bitmap MSB first, one bit per NUMERIC column (1 = unsigned; MariaDB
//                        counts YEAR columns too, MySQL does not)
//     2 DEFAULT_CHARSET  default collation packed, then (character-column index, collation)
//                        packed pairs for the columns that differ
//     3 COLUMN_CHARSET   collation packed per character column
//     4 COLUMN_NAME      (length packed, name) per column
//     5 SET_STR_VALUE    per SET column: count packed, (length packed, value) each
//     6 ENUM_STR_VALUE   per ENUM column: same
//     7 GEOMETRY_TYPE    packed per geometry column
//     8 SIMPLE_PRIMARY_KEY       packed column indexes
//     9 PRIMARY_KEY_WITH_PREFIX  (index packed, prefix length packed; 0 = whole column)
//    10 ENUM_AND_SET_DEFAULT_CHARSET, 11 ENUM_AND_SET_COLUMN_CHARSET: as 2/3 over ENUM/SET
//    12 COLUMN_VISIBILITY bitmap MSB first over all columns (1 = visible)
//   Unknown types are skipped by their length.
// "Numeric" and "character" follow the server's is_numeric_type / is_character_type on
// the REAL type (ENUM/SET unpacked from STRING): numeric = TINY SHORT INT24 LONG LONGLONG
// NEWDECIMAL FLOAT DOUBLE; character = STRING VAR_STRING VARCHAR BLOB, plus GEOMETRY on
// MariaDB (its GEOMETRY field derives from BLOB and is listed, as binary) and VECTOR on MySQL 9.

import { ReplicateError } from "../../errors.ts";
import { charsetOf } from "../charsets.ts";
import type { ByteReader } from "../reader.ts";
import { type ColumnInfo, ColumnType as T, type TableInfo } from "../types.ts";
import { MARIADB_BLOB_COMPRESSED, MARIADB_VARCHAR_COMPRESSED, readColumnMeta } from "../columns.ts";
import type { Flavour } from "./control.ts";

export interface TableMapMetadata {
  /** Which parts the event did not carry; a schema tracker should supply them. */
  missing: { names: boolean; signedness: boolean; charsets: boolean; enumSetValues: boolean; primaryKey: boolean };
  /** Per column; undefined when the event has no COLUMN_VISIBILITY field. */
  visible?: boolean[];
  /** Prefix length per primaryKey entry (0 = whole column), from PRIMARY_KEY_WITH_PREFIX. */
  primaryKeyPrefixes?: number[];
}

export interface TableMap {
  table: TableInfo;
  flags: number;
  /** True when column names came from the event (binlog_row_metadata=FULL), not "@1"… */
  namesFromMetadata: boolean;
  metadata: TableMapMetadata;
}

const NUMERIC_BASE = [T.TINY, T.SHORT, T.INT24, T.LONG, T.LONGLONG, T.NEWDECIMAL, T.FLOAT, T.DOUBLE];
const NUMERIC: Record<Flavour, Set<number>> = {
  mysql: new Set<number>(NUMERIC_BASE),
  // MariaDB also gives YEAR a SIGNEDNESS bit (its YEAR is a TINYINT field); seen on 10.11: read
  // without it, every later numeric column took its neighbour's bit (-128 decoded as 128).
  mariadb: new Set<number>([...NUMERIC_BASE, T.YEAR]),
};
const CHARACTER_BASE = [T.STRING, T.VAR_STRING, T.VARCHAR, T.BLOB, T.TINY_BLOB, T.MEDIUM_BLOB, T.LONG_BLOB];
const CHARACTER: Record<Flavour, Set<number>> = {
  mysql: new Set<number>([...CHARACTER_BASE, T.VECTOR]),
  // MariaDB also counts its COMPRESSED column types (140 BLOB, 141 VARCHAR) as character columns.
  mariadb: new Set<number>([...CHARACTER_BASE, T.GEOMETRY, MARIADB_BLOB_COMPRESSED, MARIADB_VARCHAR_COMPRESSED]),
};

export function decodeTableMap(r: ByteReader, postHeaderLen: number, flavour: Flavour): TableMap {
  const tableId = BigInt(r.uintN(postHeaderLen === 6 ? 4 : 6));
  const flags = r.u16();
  if (postHeaderLen > 8) r.skip(postHeaderLen - 8);
  const database = r.utf8(r.u8());
  r.skip(1);
  const table = r.utf8(r.u8());
  r.skip(1);
  const n = r.packed();
  const types = r.bytes(n);
  const metaBlock = r.sub(r.packed());
  const columns: ColumnInfo[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const { type, meta } = readColumnMeta(metaBlock, types[i]!);
    columns[i] = { name: `@${i + 1}`, type, meta, nullable: false, unsigned: false };
  }
  if (metaBlock.remaining !== 0) {
    throw new ReplicateError("BINLOG_BAD_VALUE", `TABLE_MAP ${database}.${table}: ${metaBlock.remaining} metadata byte(s) left after ${n} columns`, { where: r.where });
  }
  const nulls = r.bytes((n + 7) >> 3);
  for (let i = 0; i < n; i++) columns[i]!.nullable = (nulls[i >> 3]! & (1 << (i & 7))) !== 0;

  const info: TableInfo = { tableId, database, table, columns, primaryKey: [] };
  const md = applyOptionalMetadata(r, columns, info, flavour);
  return { table: info, flags, namesFromMetadata: !md.missing.names, metadata: md };
}

function applyOptionalMetadata(r: ByteReader, cols: ColumnInfo[], info: TableInfo, flavour: Flavour): TableMapMetadata {
  const n = cols.length;
  const numeric: number[] = [];
  const character: number[] = [];
  const enumSet: number[] = [];
  const enums: number[] = [];
  const sets: number[] = [];
  const geometry: number[] = [];
  const isChar = CHARACTER[flavour];
  const isNumeric = NUMERIC[flavour];
  for (let i = 0; i < n; i++) {
    const t = cols[i]!.type;
    if (isNumeric.has(t)) numeric.push(i);
    else if (isChar.has(t)) character.push(i);
    else if (t === T.ENUM || t === T.SET) enumSet.push(i);
    if (t === T.ENUM) enums.push(i);
    if (t === T.SET) sets.push(i);
    if (t === T.GEOMETRY) geometry.push(i);
  }
  const md: TableMapMetadata = {
    missing: {
      names: true,
      signedness: numeric.length > 0,
      charsets: character.length + enumSet.length > 0,
      enumSetValues: enums.length + sets.length > 0,
      primaryKey: true,
    },
  };
  let charsetsSeen = character.length === 0;
  let enumCharsetsSeen = enumSet.length === 0;
  let enumRaw: ByteReader | undefined;
  let setRaw: ByteReader | undefined;
  while (r.remaining > 0) {
    const type = r.u8();
    const v = r.sub(r.packed());
    switch (type) {
      case 1: {
        const bits = v.bytes(v.remaining);
        numeric.forEach((col, k) => {
          cols[col]!.unsigned = ((bits[k >> 3] ?? 0) & (0x80 >> (k & 7))) !== 0;
        });
        md.missing.signedness = false;
        break;
      }
      case 2:
      case 10:
        applyDefaultCharset(v, cols, type === 2 ? character : enumSet);
        if (type === 2) charsetsSeen = true;
        else enumCharsetsSeen = true;
        break;
      case 3:
      case 11:
        for (const col of type === 3 ? character : enumSet) cols[col]!.collation = v.packed();
        if (type === 3) charsetsSeen = true;
        else enumCharsetsSeen = true;
        break;
      case 4:
        for (let i = 0; i < n; i++) cols[i]!.name = v.utf8(v.packed());
        md.missing.names = false;
        break;
      case 5:
        setRaw = v;
        break;
      case 6:
        enumRaw = v;
        break;
      case 7:
        for (const col of geometry) cols[col]!.geometryType = v.packed();
        break;
      case 8:
        while (v.remaining > 0) info.primaryKey.push(checkIndex(v, v.packed(), n));
        md.missing.primaryKey = false;
        break;
      case 9: {
        const prefixes: number[] = [];
        while (v.remaining > 0) {
          info.primaryKey.push(checkIndex(v, v.packed(), n));
          prefixes.push(v.packed());
        }
        md.primaryKeyPrefixes = prefixes;
        md.missing.primaryKey = false;
        break;
      }
      case 12: {
        const bits = v.bytes(v.remaining);
        md.visible = cols.map((_, i) => ((bits[i >> 3] ?? 0) & (0x80 >> (i & 7))) !== 0);
        break;
      }
      default:
        break; // a field newer than this reader; its length let us step over it
    }
  }
  // String values are in the column's charset, known only once both fields are read.
  if (setRaw) for (const col of sets) cols[col]!.setValues = readStrings(setRaw, cols[col]!.collation);
  if (enumRaw) for (const col of enums) cols[col]!.enumValues = readStrings(enumRaw, cols[col]!.collation);
  md.missing.charsets = !(charsetsSeen && enumCharsetsSeen);
  md.missing.enumSetValues = (sets.length > 0 && !setRaw) || (enums.length > 0 && !enumRaw);
  // FULL metadata always carries names; without a key field there, the table has no key.
  if (!md.missing.names) md.missing.primaryKey = false;
  return md;
}

function applyDefaultCharset(v: ByteReader, cols: ColumnInfo[], which: number[]): void {
  const dflt = v.packed();
  for (const col of which) cols[col]!.collation = dflt;
  while (v.remaining > 0) {
    const k = v.packed();
    const collation = v.packed();
    const col = which[k];
    if (col === undefined) {
      throw new ReplicateError("BINLOG_BAD_VALUE", `TABLE_MAP charset entry names column #${k} of ${which.length}`, {
        where: v.where,
      });
    }
    cols[col]!.collation = collation;
  }
}

function checkIndex(v: ByteReader, i: number, n: number): number {
  if (i >= n) {
    throw new ReplicateError("BINLOG_BAD_VALUE", `TABLE_MAP primary key names column ${i} of ${n}`, { where: v.where });
  }
  return i;
}

const lenient = new TextDecoder("utf-8");

function readStrings(v: ByteReader, collation: number | undefined): string[] {
  const cs = collation === undefined ? undefined : charsetOf(collation);
  const out: string[] = [];
  for (let i = v.packed(); i > 0; i--) {
    const b = v.bytes(v.packed());
    let s: string;
    try {
      s = cs && !cs.binary ? cs.decode(b) : lenient.decode(b);
    } catch {
      s = lenient.decode(b);
    }
    out.push(s);
  }
  return out;
}
