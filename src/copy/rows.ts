// The copy's row reader: a table's rows read with SELECT on MySQL/MariaDB, turned into exactly
// the BinlogValue the binlog decoder gives for the same cell (src/binlog/types.ts), so that the
// copy and the sink convert them with the same code (src/dialect/values.ts toParam, copy-text.ts).
//
// Every column is read as text the server prints exactly, or as bytes decoded here the way the
// binlog decoder decodes them; nothing depends on mysql2's type conversions (typeCast,
// supportBigNumbers, dateStrings), which round or reinterpret:
//
// | column                      | SELECT expression                          | decoded as                                  |
// |-----------------------------|--------------------------------------------|---------------------------------------------|
// | integers, YEAR              | CAST(c + 0 AS CHAR)                        | number (BIGINT: bigint); YEAR 0 stays 0     |
// | DECIMAL(p,s)                | CAST(c AS CHAR)                            | the text: the server prints exactly s digits|
// | FLOAT                       | CAST(CAST(c AS DOUBLE) AS CHAR) (and -0.0) | number: the float32 widened, as the binlog  |
// | DOUBLE                      | CAST(c AS CHAR) (and -0.0, signedZero)     | number: the server prints the shortest text |
// |                             |                                            | that reads back as the same double          |
// | BIT(n)                      | CAST(c AS BINARY)                          | ceil(n/8) bytes, big-endian                 |
// | DATE, DATETIME, TIME        | CAST(c AS CHAR)                            | the text, zero and partial-zero dates kept  |
// | TIMESTAMP                   | CAST(c AS CHAR), session time_zone +00:00  | UTC text; the zero timestamp as the binlog's|
// | CHAR, VARCHAR, TEXT         | CAST(c AS BINARY)                          | the stored bytes decoded in the column's    |
// |                             |                                            | charset by the binlog's own decoder         |
// | ENUM, SET                   | CAST(c + 0 AS CHAR)                        | index / bitmask → labels, as the binlog     |
// | JSON (MySQL)                | CAST(CAST(c AS CHAR CHARACTER SET utf8mb4) AS BINARY) | utf8mb4 text                     |
// | JSON (MariaDB: LONGTEXT)    | as TEXT                                    |                                             |
// | BINARY, VARBINARY, BLOB     | CAST(c AS BINARY)                          | bytes (BINARY(n) zero-padded, as stored)    |
// | GEOMETRY                    | CAST(c AS BINARY)                          | SRID + WKB, the internal form               |
//
// Checked against MariaDB 10.11 (test/copy/rows.test.ts) for every type of src/dialect/types.ts:
// CHAR comes back without trailing spaces as the binlog gives it, BINARY(n) with its zero bytes,
// and a literal -0.0 is stored as 0 but an underflow stores -0.0 (signedZero). MySQL prints DOUBLE the same shortest way
// and has CAST(… AS DOUBLE) from 8.0.17; MySQL's JSON text is the server's own printing, which the
// binlog's binary-JSON converter (src/binlog/json.ts) imitates: not proven here (no MySQL server
// in the tests).

import { ReplicateError } from "../errors.ts";
import { charsetNamed, type Charset } from "../binlog/charsets.ts";
import { MARIADB_BLOB_COMPRESSED, MARIADB_VARCHAR_COMPRESSED } from "../binlog/columns.ts";
import type { TableDef } from "../binlog/ddl-apply.ts";
import type { ColumnDef } from "../binlog/ddl-model.ts";
import { type BinlogValue, type ColumnInfo, ColumnType as T } from "../binlog/types.ts";
import { describeColumn, type Descriptor } from "../events/values.ts";

/**
 * Statements to run on the reading connection before the SELECT: TIMESTAMP values are printed in
 * the session time zone, and the binlog gives them in UTC. '+00:00' needs no time zone tables.
 */
export const SESSION_SETUP: readonly string[] = ["SET time_zone = '+00:00'"];

/**
 * mysql2 options for the SELECT (query-level; none is needed on the connection). Every column
 * arrives as a string or a Buffer, so no other option (typeCast, dateStrings, supportBigNumbers)
 * changes a value; a connection-level `typeCast` must not be set.
 */
export const QUERY_OPTIONS = { rowsAsArray: true } as const;

interface RowReader {
  /** One expression per column, in table order, for `SELECT ${selectList} FROM …`. */
  selectList: string;
  descriptors: Descriptor[];
  /** A row of the SELECT (QUERY_OPTIONS) → the binlog decoder's values for it. */
  decode(row: unknown[]): BinlogValue[];
}

const INTEGER_CODE: Record<string, number> = { tinyint: T.TINY, smallint: T.SHORT, mediumint: T.INT24, int: T.LONG, bigint: T.LONGLONG };
const GEOMETRY = new Set(["geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon", "geometrycollection"]);
const TEXT_BLOBS: Record<string, number> = {
  tinytext: T.TINY_BLOB,
  tinyblob: T.TINY_BLOB,
  text: T.BLOB,
  blob: T.BLOB,
  mediumtext: T.MEDIUM_BLOB,
  mediumblob: T.MEDIUM_BLOB,
  longtext: T.LONG_BLOB,
  longblob: T.LONG_BLOB,
};

/**
 * The binlog's view of a column (the type code and metadata TABLE_MAP writes for it), built
 * from its effective definition so that describeColumn, the one mapping the log uses, gives the
 * descriptor. Only what describeColumn reads is filled in: for character columns only whether
 * the charset is binary matters, so a text column gets utf8mb4_general_ci (45) as a stand-in.
 */
function binlogColumn(col: ColumnDef): ColumnInfo {
  const t = col.type;
  const info = (type: number, meta = 0): ColumnInfo => ({
    name: col.name,
    type,
    meta,
    nullable: col.nullable ?? true,
    unsigned: t.unsigned,
    collation: t.charset === undefined ? undefined : t.charset === "binary" ? 63 : 45,
  });
  const int = INTEGER_CODE[t.name];
  if (int !== undefined) return info(int);
  const blob = TEXT_BLOBS[t.name];
  if (blob !== undefined) return info(col.compressed ? MARIADB_BLOB_COMPRESSED : blob);
  if (GEOMETRY.has(t.name)) return info(T.GEOMETRY);
  switch (t.name) {
    case "decimal":
      return info(T.NEWDECIMAL, (t.precision ?? 10) * 256 + (t.scale ?? 0));
    case "float":
      return info(T.FLOAT, 4);
    case "double":
      return info(T.DOUBLE, 8);
    case "bit":
      return info(T.BIT, t.length ?? 1);
    case "year":
      return info(T.YEAR);
    case "date":
      return info(T.DATE);
    case "time":
      return info(T.TIME2, t.fsp ?? 0);
    case "datetime":
      return info(T.DATETIME2, t.fsp ?? 0);
    case "timestamp":
      return info(T.TIMESTAMP2, t.fsp ?? 0);
    case "char":
    case "binary":
    case "uuid":
    case "inet4":
    case "inet6":
      return info(T.STRING);
    case "varchar":
    case "varbinary":
      return info(col.compressed ? MARIADB_VARCHAR_COMPRESSED : T.VARCHAR);
    case "enum":
      return { ...info(T.ENUM), enumValues: t.values ?? [] };
    case "set":
      return { ...info(T.SET), setValues: t.values ?? [] };
    case "json":
      // MariaDB's JSON is LONGTEXT (the history gives it utf8mb4): logged as a 4-byte BLOB.
      return t.charset === undefined ? info(T.JSON) : info(T.LONG_BLOB, 4);
    case "vector":
      return info(T.VECTOR);
  }
  throw new ReplicateError("BINLOG_UNSUPPORTED", `column ${col.name} has type ${t.name}, which the copy cannot read`, { where: col.name });
}

/** The descriptor the log's schema has for this column (src/events/values.ts describeColumn). */
export function descriptorOf(col: ColumnDef): Descriptor {
  return describeColumn(binlogColumn(col), col.name);
}

const quote = (name: string) => `\`${name.replaceAll("`", "``")}\``;

type Decode = (v: unknown) => BinlogValue;

interface ColumnReader {
  expr: string;
  decode: Decode;
}

export function rowReader(def: TableDef, flavour: "mysql" | "mariadb"): RowReader {
  const where = (c: ColumnDef) => `${def.database}.${def.table}.${c.name}`;
  const readers = def.columns.map((c) => columnReader(c, descriptorOf(c), flavour, where(c)));
  const descriptors = def.columns.map(descriptorOf);
  return {
    selectList: readers.map((r) => r.expr).join(", "),
    descriptors,
    decode(row: unknown[]): BinlogValue[] {
      if (row.length !== readers.length) {
        throw new ReplicateError("INTERNAL", `a row of ${def.database}.${def.table} has ${row.length} values for ${readers.length} columns`);
      }
      const out: BinlogValue[] = new Array(row.length);
      for (let i = 0; i < row.length; i++) out[i] = row[i] === null ? null : readers[i]!.decode(row[i]);
      return out;
    },
  };
}

function columnReader(col: ColumnDef, d: Descriptor, flavour: "mysql" | "mariadb", where: string): ColumnReader {
  const c = quote(col.name);
  const t = col.type;
  const text = (v: unknown) => String(v);
  switch (d.k) {
    case "int":
    case "uint32":
    case "year":
      return { expr: `CAST(${c} + 0 AS CHAR)`, decode: (v) => Number(text(v)) };
    case "int64":
    case "uint64":
      return { expr: `CAST(${c} AS CHAR)`, decode: (v) => BigInt(text(v)) };
    case "decimal":
      return { expr: `CAST(${c} AS CHAR)`, decode: text };
    case "float":
      return { expr: signedZero(c, `CAST(CAST(${c} AS DOUBLE) AS CHAR)`), decode: (v) => Number(text(v)) };
    case "double":
      return { expr: signedZero(c, `CAST(${c} AS CHAR)`), decode: (v) => Number(text(v)) };
    case "bit": {
      const n = ((d.bits ?? 1) + 7) >> 3;
      return { expr: `CAST(${c} AS BINARY)`, decode: (v) => leftPadded(bytesOf(v, where), n) };
    }
    case "date":
    case "datetime":
    case "timestamp":
    case "time":
      return { expr: `CAST(${c} AS CHAR)`, decode: text };
    case "bytes":
      if (t.name === "uuid" || t.name === "inet4" || t.name === "inet6") {
        // SELECT prints these as text; the binlog carries MariaDB's internal bytes, and the target has no mapping for them (src/dialect/types.ts).
        throw new ReplicateError("TARGET_DDL_INCOMPATIBLE", `column ${where} is ${t.name.toUpperCase()}, which the copy cannot read as the binlog gives it`, { where });
      }
      return { expr: `CAST(${c} AS BINARY)`, decode: (v) => bytesOf(v, where) };
    case "string":
      break;
  }
  if (d.m === "enum") return { expr: `CAST(${c} + 0 AS CHAR)`, decode: (v) => enumLabel(Number(text(v)), d.values ?? [], where) };
  if (d.m === "set") return { expr: `CAST(${c} + 0 AS CHAR)`, decode: (v) => setLabels(BigInt(text(v)), d.values ?? []) };
  if (d.m === "json" && flavour === "mysql") {
    return { expr: `CAST(CAST(${c} AS CHAR CHARACTER SET utf8mb4) AS BINARY)`, decode: (v) => decodeText(charsetNamed("utf8mb4")!, bufferOf(v, where), where) };
  }
  const cs = charsetNamed(t.charset ?? "utf8mb4");
  if (!cs) throw new ReplicateError("BINLOG_UNSUPPORTED", `column ${where} has character set ${t.charset}, which has no decoder here`, { where });
  return { expr: `CAST(${c} AS BINARY)`, decode: (v) => decodeText(cs, bufferOf(v, where), where) };
}

/**
 * A literal -0.0 is stored as 0, but an underflow (a FLOAT given -1e-60) stores -0.0, which
 * the binlog gives and the server prints as "0": the sign
 * of a zero is told by ATAN2(zero, -1), which is -pi for -0.0.
 */
function signedZero(c: string, printed: string): string {
  return `IF(${c} = 0, IF(ATAN2(${c}, -1) < 0, '-0', '0'), ${printed})`;
}

/** A Buffer from mysql2 as the plain Uint8Array the binlog decoder gives (a view, no copy). */
function bytesOf(v: unknown, where: string): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new ReplicateError("INTERNAL", `column ${where} was read as ${typeof v}, not bytes: is a typeCast set on the connection?`, { where });
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

/**
 * mysql2's Buffer itself, for bytes decoded into text here: the decoders read any Uint8Array,
 * and a view per value (bytesOf) cost a third of the row decoding (bench/copy-stages.ts).
 */
function bufferOf(v: unknown, where: string): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new ReplicateError("INTERNAL", `column ${where} was read as ${typeof v}, not bytes: is a typeCast set on the connection?`, { where });
  return v;
}

/** BIT values print without leading zero bytes when short; the binlog always has ceil(n/8). */
function leftPadded(b: Uint8Array, n: number): Uint8Array {
  if (b.length >= n) return b.length === n ? b : b.subarray(b.length - n);
  const out = new Uint8Array(n);
  out.set(b, n - b.length);
  return out;
}

function decodeText(cs: Charset, bytes: Uint8Array, where: string): string {
  try {
    return cs.decode(bytes);
  } catch (e) {
    throw new ReplicateError("BINLOG_BAD_VALUE", `column ${where}: bytes are not valid ${cs.name}`, { where, cause: e });
  }
}

/** As the binlog decoder (src/binlog/values.ts decodeEnum): index 0 is the '' error value. */
function enumLabel(idx: number, values: string[], where: string): string {
  if (idx === 0) return "";
  const v = values[idx - 1];
  if (v === undefined) throw new ReplicateError("BINLOG_SCHEMA_MISSING", `ENUM index ${idx} of ${where} is beyond its ${values.length} known values`, { where });
  return v;
}

/** As the binlog decoder (src/binlog/values.ts decodeSet): members in declaration order, joined by commas. */
function setLabels(mask: bigint, values: string[]): string {
  const out: string[] = [];
  for (let i = 0; i < values.length; i++) if ((mask >> BigInt(i)) & 1n) out.push(values[i]!);
  return out.join(",");
}
