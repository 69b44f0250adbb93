// Shared vocabulary of the binlog layer: column type codes, the per-column description a
// rows decoder needs, and the JS representation of every decoded value.
//
// Value representation (exact, never lossy; the events layer turns these into AVRO):
//   NULL                         null
//   TINY/SHORT/INT24/LONG        number (signedness from column metadata)
//   LONGLONG                     bigint (always, signed or unsigned, so 2^64-1 survives)
//   NEWDECIMAL                   string, exact, with exactly `scale` fraction digits ("-12.50")
//   FLOAT / DOUBLE               number (FLOAT is the float32 value widened)
//   BIT(n)                       Uint8Array, big-endian, ceil(n/8) bytes
//   YEAR                         number (0 for the zero year, else 1901..2155)
//   DATE                         string "YYYY-MM-DD"; zero parts kept ("0000-00-00", "2024-00-00")
//   DATETIME(fsp)                string "YYYY-MM-DD HH:MM:SS" + ".f…" with exactly fsp digits when fsp > 0
//   TIMESTAMP(fsp)               string in UTC, same shape as DATETIME; the zero timestamp is "0000-00-00 00:00:00"
//   TIME(fsp)                    string "[-]HH:MM:SS" (hours may exceed 24, up to 838) + ".f…" when fsp > 0
//   CHAR/VARCHAR/TEXT            string decoded in the column charset
//   BINARY/VARBINARY/BLOB        Uint8Array (charset 63 "binary")
//   ENUM                         string when the value list is known, else number (1-based index, 0 = '')
//   SET                          string "a,b" when the value list is known, else bigint bitmask
//   JSON                         string: JSON text (MySQL binary JSON is converted; MariaDB logs text)
//   GEOMETRY                     Uint8Array: MySQL internal form, 4-byte little-endian SRID + WKB

export type BinlogValue = null | number | bigint | string | Uint8Array;

/** MySQL field types as written in TABLE_MAP (include/field_types.h, enum_field_types). */
export const ColumnType = {
  DECIMAL: 0,
  TINY: 1,
  SHORT: 2,
  LONG: 3,
  FLOAT: 4,
  DOUBLE: 5,
  NULL: 6,
  TIMESTAMP: 7,
  LONGLONG: 8,
  INT24: 9,
  DATE: 10,
  TIME: 11,
  DATETIME: 12,
  YEAR: 13,
  NEWDATE: 14,
  VARCHAR: 15,
  BIT: 16,
  TIMESTAMP2: 17,
  DATETIME2: 18,
  TIME2: 19,
  TYPED_ARRAY: 20,
  VECTOR: 242,
  INVALID: 243,
  BOOL: 244,
  JSON: 245,
  NEWDECIMAL: 246,
  ENUM: 247,
  SET: 248,
  TINY_BLOB: 249,
  MEDIUM_BLOB: 250,
  LONG_BLOB: 251,
  BLOB: 252,
  VAR_STRING: 253,
  STRING: 254,
  GEOMETRY: 255,
} as const;

/**
 * Everything needed to decode one column's cell in a rows event. Built from TABLE_MAP
 * (type + metadata) merged with optional metadata or the tracked schema (names, signedness,
 * charset, enum/set values, primary key).
 */
export interface ColumnInfo {
  /** Column name; "@1", "@2"… when neither optional metadata nor a schema names it. */
  name: string;
  /** Type code from TABLE_MAP. For ENUM/SET/STRING this is the real type after unpacking STRING metadata. */
  type: number;
  /** Type-specific metadata from TABLE_MAP, already unpacked:
   *  - VARCHAR/VAR_STRING: max length in bytes (decides 1- or 2-byte length prefix)
   *  - STRING/ENUM/SET:    max length in bytes (STRING), or pack length 1|2 (ENUM), bytes 1..8 (SET)
   *  - BLOB/GEOMETRY/JSON: length-prefix bytes (1..4)
   *  - NEWDECIMAL:         precision * 256 + scale
   *  - FLOAT/DOUBLE:       byte size (4|8)
   *  - BIT:                bits (total number of bits n)
   *  - TIME2/DATETIME2/TIMESTAMP2: fsp (0..6)
   *  - others: 0 */
  meta: number;
  nullable: boolean;
  unsigned: boolean;
  /** Collation id (e.g. 45 utf8mb4_general_ci, 8 latin1_swedish_ci, 63 binary); undefined when unknown. */
  collation?: number;
  enumValues?: string[];
  setValues?: string[];
  /** Geometry subtype from optional metadata, informational. */
  geometryType?: number;
}

export interface TableInfo {
  tableId: bigint;
  database: string;
  table: string;
  columns: ColumnInfo[];
  /** Indexes into columns of the primary key, in key order; empty when the table has none known. */
  primaryKey: number[];
}
