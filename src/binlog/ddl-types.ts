// What a MySQL column type means at the byte level: the server's character sets and
// collations (read from information_schema by the schema snapshot), storage sizes that the
// server derives from a declared type, and which TABLE_MAP type code + metadata a declared
// type is written as. The schema history uses the last to refuse decoding rows with a
// definition that does not match what the binlog says (a stale history), instead of
// producing wrong values.

import { MARIADB_BLOB_COMPRESSED, MARIADB_VARCHAR_COMPRESSED, columnTypeName } from "./columns.ts";
import type { ColumnType } from "./ddl-model.ts";
import { type ColumnInfo, ColumnType as T } from "./types.ts";

export interface CharsetInfo {
  name: string;
  defaultCollation: string;
  /** Bytes per character at most (MAXLEN). */
  maxlen: number;
}
export interface CollationInfo {
  name: string;
  id: number;
  charset: string;
}

/** The server's character sets and collations, with the utf8/utf8mb3 alias resolved its way. */
export class Catalog {
  readonly charsets = new Map<string, CharsetInfo>();
  readonly collations = new Map<string, CollationInfo>();

  constructor(charsets: CharsetInfo[], collations: CollationInfo[]) {
    for (const c of charsets) this.charsets.set(c.name.toLowerCase(), c);
    for (const c of collations) this.collations.set(c.name.toLowerCase(), c);
  }

  /** The server's own spelling of a charset name ("utf8" and "utf8mb3" are one charset). */
  charset(name: string): CharsetInfo | undefined {
    const n = name.toLowerCase();
    return this.charsets.get(n) ?? (n === "utf8" ? this.charsets.get("utf8mb3") : n === "utf8mb3" ? this.charsets.get("utf8") : undefined);
  }

  collation(name: string): CollationInfo | undefined {
    const n = name.toLowerCase();
    const direct = this.collations.get(n);
    if (direct) return direct;
    if (n.startsWith("utf8_")) return this.collations.get(`utf8mb3_${n.slice(5)}`);
    if (n.startsWith("utf8mb3_")) return this.collations.get(`utf8_${n.slice(8)}`);
    return undefined;
  }

  /** The `_bin` collation of a charset (CHAR(n) BINARY). */
  binCollation(charset: string): CollationInfo | undefined {
    return this.collation(`${this.charset(charset)?.name ?? charset}_bin`);
  }
}

const BLOB_LIMITS: Array<[number, string, string]> = [
  [255, "tinyblob", "tinytext"],
  [65535, "blob", "text"],
  [16777215, "mediumblob", "mediumtext"],
  [4294967295, "longblob", "longtext"],
];

/** The BLOB/TEXT type the server picks for a declared maximum in bytes (BLOB(M), TEXT(M)). */
export function blobTypeFor(bytes: number, text: boolean): string {
  for (const [limit, blob, txt] of BLOB_LIMITS) if (bytes <= limit) return text ? txt : blob;
  return text ? "longtext" : "longblob";
}

/** Maximum bytes of a BLOB/TEXT type; undefined for other types. */
export function blobMaxBytes(name: string): number | undefined {
  for (const [limit, blob, txt] of BLOB_LIMITS) if (name === blob || name === txt) return limit;
  return undefined;
}

const BLOB_PREFIX: Record<string, number> = {
  tinyblob: 1,
  tinytext: 1,
  blob: 2,
  text: 2,
  mediumblob: 3,
  mediumtext: 3,
  longblob: 4,
  longtext: 4,
};
const INTEGER_CODE: Record<string, number> = { tinyint: T.TINY, smallint: T.SHORT, mediumint: T.INT24, int: T.LONG, bigint: T.LONGLONG };
const GEOMETRY = new Set(["geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon", "geometrycollection"]);
const BLOB_CODES = new Set<number>([T.TINY_BLOB, T.BLOB, T.MEDIUM_BLOB, T.LONG_BLOB]);

/** Bytes of a SET value with n members (Field_set pack length: 1, 2, 3, 4 or 8). */
function setPackLength(n: number): number {
  const len = Math.ceil(n / 8);
  return len > 4 ? 8 : len;
}

/** "VARCHAR(20)"-style rendering of a declared type, for messages. */
export function typeText(t: ColumnType): string {
  let s = t.name.toUpperCase();
  if (t.values) s += `(${t.values.map((v) => `'${v.replace(/'/g, "''")}'`).join(",")})`;
  else if (t.precision !== undefined) s += t.scale !== undefined ? `(${t.precision},${t.scale})` : `(${t.precision})`;
  else if (t.fsp) s += `(${t.fsp})`;
  else if (t.length !== undefined && !INTEGER_CODE[t.name]) s += `(${t.length})`;
  if (t.unsigned) s += " UNSIGNED";
  if (t.charset && t.charset !== "binary") s += ` CHARACTER SET ${t.charset}`;
  return s;
}

/**
 * Why a declared column type cannot be what TABLE_MAP describes, or undefined when it can.
 * `col` is the TABLE_MAP column (type after ENUM/SET/STRING unpacking, unpacked metadata);
 * `maxlen` is the bytes per character of the declared charset.
 */
export function binlogMismatch(t: ColumnType, col: ColumnInfo, maxlen: number, compressed: boolean): string | undefined {
  const code = col.type;
  const meta = col.meta;
  const want = (ok: boolean, what: string) => (ok ? undefined : what);
  const fixedTime = (twoCode: number, oneCode: number) =>
    code === twoCode ? want(meta === (t.fsp ?? 0), `fsp ${t.fsp ?? 0}, binlog ${meta}`) : want(code === oneCode && !t.fsp, "type");
  if (INTEGER_CODE[t.name] !== undefined) return want(code === INTEGER_CODE[t.name], "type");
  switch (t.name) {
    case "decimal":
      if (code === T.DECIMAL) return undefined;
      return code !== T.NEWDECIMAL ? "type" : want(meta === (t.precision ?? 10) * 256 + (t.scale ?? 0), `precision/scale ${meta >> 8},${meta & 255} in the binlog`);
    case "float":
      return want(code === T.FLOAT, "type");
    case "double":
      return want(code === T.DOUBLE, "type");
    case "bit":
      return code !== T.BIT ? "type" : want(meta === (t.length ?? 1), `${meta} bits in the binlog`);
    case "date":
      return want(code === T.DATE || code === T.NEWDATE, "type");
    case "time":
      return fixedTime(T.TIME2, T.TIME);
    case "datetime":
      return fixedTime(T.DATETIME2, T.DATETIME);
    case "timestamp":
      return fixedTime(T.TIMESTAMP2, T.TIMESTAMP);
    case "year":
      return want(code === T.YEAR, "type");
    case "char":
    case "binary":
      return code !== T.STRING ? "type" : want(meta === (t.length ?? 1) * maxlen, `${meta} bytes in the binlog`);
    case "varchar":
    case "varbinary": {
      const bytes = (t.length ?? 0) * maxlen;
      if (code === MARIADB_VARCHAR_COMPRESSED) return want(compressed && meta === bytes + 1, "compressed column");
      return code !== T.VARCHAR && code !== T.VAR_STRING ? "type" : want(meta === bytes, `${meta} bytes in the binlog`);
    }
    case "enum":
      return code !== T.ENUM ? "type" : want(meta === ((t.values?.length ?? 0) < 256 ? 1 : 2), `${meta}-byte ENUM in the binlog`);
    case "set":
      return code !== T.SET ? "type" : want(meta === setPackLength(t.values?.length ?? 0), `${meta}-byte SET in the binlog`);
    case "json":
      return want(code === T.JSON || (BLOB_CODES.has(code) && meta === 4), "type");
    case "uuid":
    case "inet6":
      return want(code === T.STRING && meta === 16, "type");
    case "inet4":
      return want(code === T.STRING && meta === 4, "type");
    case "vector":
      return want(code === T.VECTOR, "type");
    default:
      break;
  }
  const prefix = BLOB_PREFIX[t.name];
  if (prefix !== undefined) {
    if (code === MARIADB_BLOB_COMPRESSED) return want(compressed && meta === prefix, "compressed column");
    return !BLOB_CODES.has(code) ? "type" : want(meta === prefix, `${meta}-byte length prefix in the binlog`);
  }
  if (GEOMETRY.has(t.name)) return want(code === T.GEOMETRY, "type");
  return `type ${t.name} is not known to this reader`;
}

export function binlogTypeText(col: ColumnInfo): string {
  return `${columnTypeName(col.type)}${col.meta ? ` (metadata ${col.meta})` : ""}`;
}

export function isByteStringType(name: string): boolean {
  return name === "binary" || name === "varbinary" || (BLOB_PREFIX[name] !== undefined && name.endsWith("blob"));
}

export function isNumericType(name: string): boolean {
  return INTEGER_CODE[name] !== undefined || name === "decimal" || name === "float" || name === "double";
}
