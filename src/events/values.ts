// Column value ↔ AVRO, per column kind. The same descriptor is written into each field of the
// table's schema (attribute "gs"), so a consumer rebuilds the exact binlog value from the
// schema alone: decode(encode(v)) === v for every value the binlog layer produces.
//
// | kind      | AVRO                                              | value (binlog layer form)               |
// |-----------|---------------------------------------------------|-----------------------------------------|
// | int       | int                                               | number (TINY, SHORT, INT24, signed LONG)|
// | uint32    | long                                              | number (LONG UNSIGNED)                  |
// | int64     | long                                              | bigint (BIGINT)                         |
// | uint64    | bytes, logicalType decimal(20,0)                  | bigint (BIGINT UNSIGNED)                |
// | decimal   | bytes, logicalType decimal(p,s)                   | exact string with s fraction digits     |
// | float     | float / double                                    | number                                  |
// | bit       | bytes (big-endian, ceil(n/8))                     | Uint8Array                              |
// | year      | int                                               | number                                  |
// | date      | [int date, string]                                | "YYYY-MM-DD"; zero/invalid dates travel as the string branch |
// | datetime  | [long local-timestamp-micros, string]             | "YYYY-MM-DD HH:MM:SS[.f]"               |
// | timestamp | [long timestamp-micros (UTC), string]             | same form, UTC                           |
// | time      | long, micros of a signed duration ("gs.time-micros") | "[-]HH:MM:SS[.f]", up to ±838 h      |
// | string    | string                                            | text columns, ENUM, SET, JSON           |
// | bytes     | bytes                                             | binary strings, BLOBs, GEOMETRY (SRID + WKB) |
// Nullable columns are a union with "null" first.

import { ReplicateError } from "../errors.ts";
import { charsetOf } from "../binlog/charsets.ts";
import { ColumnType as T, type BinlogValue, type ColumnInfo } from "../binlog/types.ts";

export type Kind = "int" | "uint32" | "int64" | "uint64" | "decimal" | "float" | "double" | "bit" | "year" | "date" | "datetime" | "timestamp" | "time" | "string" | "bytes";

/** Stored in the schema as field attribute "gs". `m` names the MySQL type family for readers. */
export interface Descriptor {
  k: Kind;
  m: string;
  p?: number;
  s?: number;
  fsp?: number;
  bits?: number;
  /** ENUM / SET value lists, kept for the target's type mapping. */
  values?: string[];
  nullable: boolean;
}

export type AvroSchema = string | Record<string, unknown> | AvroSchema[];

export function describeColumn(col: ColumnInfo, where: string): Descriptor {
  const nullable = col.nullable;
  const base = (k: Kind, m: string, extra: Partial<Descriptor> = {}): Descriptor => ({ k, m, nullable, ...extra });
  switch (col.type) {
    case T.TINY:
      return base("int", col.unsigned ? "tinyint unsigned" : "tinyint");
    case T.SHORT:
      return base("int", col.unsigned ? "smallint unsigned" : "smallint");
    case T.INT24:
      return base("int", col.unsigned ? "mediumint unsigned" : "mediumint");
    case T.LONG:
      return col.unsigned ? base("uint32", "int unsigned") : base("int", "int");
    case T.LONGLONG:
      return col.unsigned ? base("uint64", "bigint unsigned") : base("int64", "bigint");
    case T.NEWDECIMAL:
      return base("decimal", "decimal", { p: col.meta >> 8, s: col.meta & 0xff });
    case T.FLOAT:
      return base("float", "float");
    case T.DOUBLE:
      return base("double", "double");
    case T.BIT:
      return base("bit", "bit", { bits: col.meta });
    case T.YEAR:
      return base("year", "year");
    case T.DATE:
    case T.NEWDATE:
      return base("date", "date");
    case T.DATETIME:
    case T.DATETIME2:
      return base("datetime", "datetime", { fsp: col.type === T.DATETIME ? 0 : col.meta });
    case T.TIMESTAMP:
    case T.TIMESTAMP2:
      return base("timestamp", "timestamp", { fsp: col.type === T.TIMESTAMP ? 0 : col.meta });
    case T.TIME:
    case T.TIME2:
      return base("time", "time", { fsp: col.type === T.TIME ? 0 : col.meta });
    case T.ENUM:
      return base("string", "enum", col.enumValues ? { values: col.enumValues } : {});
    case T.SET:
      return base("string", "set", col.setValues ? { values: col.setValues } : {});
    case T.JSON:
      return base("string", "json");
    case T.GEOMETRY:
      return base("bytes", "geometry");
    case T.VARCHAR:
    case T.VAR_STRING:
    case T.STRING:
      return isBinary(col) ? base("bytes", col.type === T.STRING ? "binary" : "varbinary") : base("string", col.type === T.STRING ? "char" : "varchar");
    case T.TINY_BLOB:
    case T.MEDIUM_BLOB:
    case T.LONG_BLOB:
    case T.BLOB:
    case 140: // MariaDB BLOB COMPRESSED
    case 141: // MariaDB VARCHAR COMPRESSED
      return isBinary(col) ? base("bytes", "blob") : base("string", "text");
  }
  throw new ReplicateError("AVRO_ENCODE", `column ${col.name} has binlog type ${col.type}, which has no AVRO mapping`, { where });
}

function isBinary(col: ColumnInfo): boolean {
  if (col.collation === undefined) return col.type >= T.TINY_BLOB && col.type <= T.BLOB;
  return charsetOf(col.collation)?.binary ?? false;
}

const decimalType = (p: number, s: number) => ({ type: "bytes", logicalType: "decimal", precision: p, scale: s });

/** The AVRO type of a column (without the null branch). */
function avroTypeOf(d: Descriptor): AvroSchema {
  switch (d.k) {
    case "int":
    case "year":
      return "int";
    case "uint32":
    case "int64":
      return "long";
    case "uint64":
      return decimalType(20, 0);
    case "decimal":
      return decimalType(Math.max(1, d.p ?? 10), d.s ?? 0);
    case "float":
      return "float";
    case "double":
      return "double";
    case "bit":
    case "bytes":
      return "bytes";
    case "date":
      return [{ type: "int", logicalType: "date" }, "string"];
    case "datetime":
      return [{ type: "long", logicalType: "local-timestamp-micros" }, "string"];
    case "timestamp":
      return [{ type: "long", logicalType: "timestamp-micros" }, "string"];
    case "time":
      return { type: "long", logicalType: "gs.time-micros" };
    case "string":
      return "string";
  }
}

/** The field type: the column type, in a union with null first when nullable. */
export function fieldType(d: Descriptor): AvroSchema {
  const t = avroTypeOf(d);
  if (!d.nullable) return t;
  return Array.isArray(t) ? ["null", ...t] : ["null", t];
}

export type AvroValue = null | number | bigint | string | Buffer;

export function toAvro(d: Descriptor, v: BinlogValue | undefined, column: string): AvroValue {
  if (v === null || v === undefined) {
    if (d.nullable) return null;
    throw new ReplicateError("AVRO_ENCODE", `column ${column} is NOT NULL in the binlog but has no value`, { where: column });
  }
  switch (d.k) {
    case "int":
    case "year":
    case "float":
    case "double":
      return v as number;
    case "uint32":
      return BigInt(v as number);
    case "int64":
      return v as bigint;
    case "uint64":
      return signedBytes(v as bigint);
    case "decimal":
      return signedBytes(unscaled(v as string, d.s ?? 0, column));
    case "bit":
    case "bytes":
      return Buffer.from((v as Uint8Array).buffer, (v as Uint8Array).byteOffset, (v as Uint8Array).byteLength);
    case "string":
      if (typeof v !== "string") {
        throw new ReplicateError(
          "AVRO_ENCODE",
          `column ${column} (${d.m}) arrived without its value list; set binlog_row_metadata=FULL on the source so ENUM/SET values are named`,
          { where: column },
        );
      }
      return v;
    case "date":
      return dateToDays(v as string) ?? (v as string);
    case "datetime":
    case "timestamp":
      return datetimeToMicros(v as string) ?? (v as string);
    case "time":
      return timeToMicros(v as string);
  }
}

export function fromAvro(d: Descriptor, v: AvroValue): BinlogValue {
  if (v === null) return null;
  switch (d.k) {
    case "int":
    case "year":
    case "float":
    case "double":
      return v as number;
    case "uint32":
      return Number(v as bigint);
    case "int64":
      return v as bigint;
    case "uint64":
      return fromSignedBytes(v as Buffer);
    case "decimal":
      return formatUnscaled(fromSignedBytes(v as Buffer), d.s ?? 0);
    case "bit":
    case "bytes": {
      // avsc already copied the bytes out of the record: a view, not a second copy (a huge
      // BLOB would otherwise be held twice, issue 14 item 3).
      const b = v as Buffer;
      return new Uint8Array(b.buffer, b.byteOffset, b.length);
    }
    case "string":
      return v as string;
    case "date":
      return typeof v === "string" ? v : daysToDate(v as number);
    case "datetime":
    case "timestamp":
      return typeof v === "string" ? v : microsToDatetime(v as bigint, d.fsp ?? 0);
    case "time":
      return microsToTime(v as bigint, d.fsp ?? 0);
  }
}

// ---------------------------------------------------------------- decimals

function unscaled(text: string, scale: number, column: string): bigint {
  const neg = text.charCodeAt(0) === 45; // "-"
  const dot = text.indexOf(".");
  const int = text.slice(neg ? 1 : 0, dot < 0 ? text.length : dot);
  const frac = dot < 0 ? "" : text.slice(dot + 1);
  const digits = (int || "0") + (frac.length < scale ? frac.padEnd(scale, "0") : frac);
  if (frac.length > scale || !isDigits(digits)) {
    throw new ReplicateError("AVRO_ENCODE", `decimal value ${text} of column ${column} does not fit scale ${scale}`, { where: column });
  }
  const n = BigInt(digits);
  return neg ? -n : n;
}

function isDigits(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return s.length > 0;
}

function formatUnscaled(n: bigint, scale: number): string {
  const neg = n < 0n;
  const digits = (neg ? -n : n).toString().padStart(scale + 1, "0");
  const text = scale > 0 ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
  return neg ? `-${text}` : text;
}

/** Minimal big-endian two's complement, as the AVRO decimal logical type stores it. */
function signedBytes(n: bigint): Buffer {
  if (n >= -0x20000000000000n && n < 0x20000000000000n) {
    // fast path within 54 bits: no string round trip
    let v = Number(n);
    const out: number[] = [];
    do {
      out.push(v & 0xff);
      v = Math.floor(v / 256);
    } while (!(v === 0 && (out[out.length - 1]! & 0x80) === 0) && !(v === -1 && (out[out.length - 1]! & 0x80) !== 0));
    return Buffer.from(out.reverse());
  }
  let len = 1;
  while (n < -(1n << BigInt(8 * len - 1)) || n >= 1n << BigInt(8 * len - 1)) len++;
  const twos = n < 0n ? (1n << BigInt(8 * len)) + n : n;
  return Buffer.from(twos.toString(16).padStart(2 * len, "0"), "hex");
}

function fromSignedBytes(b: Buffer): bigint {
  if (b.length === 0) return 0n;
  const n = BigInt(`0x${b.toString("hex")}`);
  return (b[0]! & 0x80) !== 0 ? n - (1n << BigInt(b.length * 8)) : n;
}

// ---------------------------------------------------------------- temporal

const DAY_MS = 86_400_000;

function utcMs(y: number, mo: number, d: number, h = 0, mi = 0, s = 0): number | undefined {
  if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > 31) return undefined;
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, s, 0);
  // setUTCFullYear rolls 2024-02-30 over to March: such a date is not valid, keep it textual.
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) return undefined;
  return date.getTime();
}

const num = (s: string, a: number, b: number) => Number(s.slice(a, b));

function dateToDays(v: string): number | undefined {
  const ms = utcMs(num(v, 0, 4), num(v, 5, 7), num(v, 8, 10));
  return ms === undefined ? undefined : Math.round(ms / DAY_MS);
}

function daysToDate(days: number): string {
  return new Date(days * DAY_MS).toISOString().slice(0, 10);
}

function datetimeToMicros(v: string): bigint | undefined {
  const ms = utcMs(num(v, 0, 4), num(v, 5, 7), num(v, 8, 10), num(v, 11, 13), num(v, 14, 16), num(v, 17, 19));
  if (ms === undefined) return undefined;
  const frac = v.length > 20 ? Number(v.slice(20).padEnd(6, "0")) : 0;
  return BigInt(ms) * 1000n + BigInt(frac);
}

function microsToDatetime(us: bigint, fsp: number): string {
  let sec = us / 1_000_000n;
  let frac = us % 1_000_000n;
  if (frac < 0n) {
    frac += 1_000_000n;
    sec -= 1n;
  }
  const iso = new Date(Number(sec) * 1000).toISOString();
  const text = `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
  return fsp > 0 ? `${text}.${frac.toString().padStart(6, "0").slice(0, fsp)}` : text;
}

function timeToMicros(v: string): bigint {
  const neg = v.startsWith("-");
  const body = neg ? v.slice(1) : v;
  const [h, m, rest] = body.split(":") as [string, string, string];
  const [s, f = ""] = rest.split(".");
  const us = (BigInt(h) * 3600n + BigInt(m) * 60n + BigInt(s!)) * 1_000_000n + BigInt(f.padEnd(6, "0") || "0");
  return neg ? -us : us;
}

function microsToTime(us: bigint, fsp: number): string {
  const neg = us < 0n;
  let a = us < 0n ? -us : us;
  const frac = a % 1_000_000n;
  a /= 1_000_000n;
  const s = a % 60n;
  const m = (a / 60n) % 60n;
  const h = a / 3600n;
  const two = (n: bigint) => n.toString().padStart(2, "0");
  const text = `${neg ? "-" : ""}${two(h)}:${two(m)}:${two(s)}`;
  return fsp > 0 ? `${text}.${frac.toString().padStart(6, "0").slice(0, fsp)}` : text;
}
