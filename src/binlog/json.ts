// MySQL binary JSON (the JSON column's storage and binlog form) → JSON text.
//
// Layout: MySQL sql-common/json_binary.h, "JSON binary format" (WL#8132):
//   doc      ::= type value
//   type     ::= 0x00 small object | 0x01 large object | 0x02 small array | 0x03 large array
//              | 0x04 literal | 0x05 int16 | 0x06 uint16 | 0x07 int32 | 0x08 uint32
//              | 0x09 int64 | 0x0a uint64 | 0x0b double | 0x0c utf8mb4 string | 0x0f opaque
//   object   ::= count size key-entry* value-entry* key* value*
//   array    ::= count size value-entry* value*
//     count, size, key-offset, value offset: uint16 in the small form, uint32 in the large
//     key-entry   ::= key-offset key-length(uint16)
//     value-entry ::= type offset-or-inlined-value
//     Offsets count from the first byte of `count`. Literals and int16/uint16 are inlined in
//     the entry (small and large form), int32/uint32 too in the large form.
//   literal  ::= 0x00 null | 0x01 true | 0x02 false
//   numbers  little-endian; double is 8-byte IEEE little-endian (float8store)
//   string   ::= data-length utf8mb4-bytes
//   opaque   ::= field-type(uint8) data-length bytes
//   data-length: 7 bits per byte, least significant group first, high bit = more follows.
//
// Output style is MySQL's own JSON text form (Json_wrapper::to_string, what JSON_EXTRACT and
// mysqlbinlog show): ", " between members, ": " after keys, keys in stored order (MySQL
// stores them sorted by length, then bytes), strings escaped like MySQL (", \, \b \f \n \r
// \t, other controls as \u00xx; JSON.stringify escapes exactly that set for valid UTF-8).
// Doubles print as the shortest round-trip digits, exponent without "+" (1.5e300) and
// integral values with ".0" as MySQL 8 does; MySQL switches to exponent form at different
// magnitudes than JS (1e20 vs 100000000000000000000.0): same number, different digits.

import { ReplicateError } from "../errors.ts";
import { decodeDecimal } from "./decimal.ts";
import type { ByteReader } from "./reader.ts";
import { formatDatetime, formatPackedTime } from "./temporal.ts";
import { ColumnType } from "./types.ts";

const SMALL_OBJECT = 0x00;
const LARGE_OBJECT = 0x01;
const SMALL_ARRAY = 0x02;
const LARGE_ARRAY = 0x03;
const LITERAL = 0x04;
const INT16 = 0x05;
const UINT16 = 0x06;
const INT32 = 0x07;
const UINT32 = 0x08;
const INT64 = 0x09;
const UINT64 = 0x0a;
const DOUBLE = 0x0b;
const STRING = 0x0c;
const OPAQUE = 0x0f;

// MySQL caps documents at depth 100; the cap here only guards the stack against corrupt data.
const MAX_DEPTH = 1000;

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Converts the next n bytes of r (one binary JSON document) to JSON text. An empty document
 * is JSON null, as MySQL reads it. Malformed documents throw BINLOG_BAD_VALUE.
 */
export function jsonBinaryToText(r: ByteReader, n: number): string {
  const doc = r.sub(n);
  if (n === 0) return "null";
  const w = new JsonWriter(doc);
  try {
    const type = doc.u8();
    w.value(type, doc.pos, doc.end, 0);
  } catch (e) {
    if (e instanceof ReplicateError && e.code === "BINLOG_BAD_VALUE") throw e;
    // Inside the document every over-read is a bad offset or length, not a short event.
    throw new ReplicateError("BINLOG_BAD_VALUE", `malformed binary JSON: ${(e as Error).message}`, {
      where: r.where,
      cause: e,
    });
  }
  return w.out;
}

class JsonWriter {
  out = "";
  constructor(private readonly r: ByteReader) {}

  private bad(msg: string): ReplicateError {
    return new ReplicateError("BINLOG_BAD_VALUE", `malformed binary JSON: ${msg}`, { where: this.r.where });
  }

  /** Writes the value of `type` stored at [pos, end). */
  value(type: number, pos: number, end: number, depth: number): void {
    const r = this.r;
    r.pos = pos;
    r.end = end;
    switch (type) {
      case SMALL_OBJECT:
      case LARGE_OBJECT:
      case SMALL_ARRAY:
      case LARGE_ARRAY:
        this.container(type, pos, end, depth + 1);
        return;
      case LITERAL:
        this.literal(r.u8());
        return;
      case INT16:
        this.out += r.i16();
        return;
      case UINT16:
        this.out += r.u16();
        return;
      case INT32:
        this.out += r.i32();
        return;
      case UINT32:
        this.out += r.u32();
        return;
      case INT64:
        this.out += r.i64().toString();
        return;
      case UINT64:
        this.out += r.u64().toString();
        return;
      case DOUBLE:
        this.out += this.double(r.f64());
        return;
      case STRING: {
        const len = this.varLength();
        this.out += JSON.stringify(utf8.decode(r.bytes(len)));
        return;
      }
      case OPAQUE: {
        const fieldType = r.u8();
        const len = this.varLength();
        this.opaque(fieldType, len);
        return;
      }
      default:
        throw this.bad(`unknown value type 0x${type.toString(16)}`);
    }
  }

  /*
   * Object or array at base (first byte of count). Entries are fixed-width so member i is
   * found by arithmetic; every offset must land after the header and inside `size`.
   */
  private container(type: number, base: number, end: number, depth: number): void {
    if (depth > MAX_DEPTH) throw this.bad(`nesting deeper than ${MAX_DEPTH}`);
    const r = this.r;
    const large = type === LARGE_OBJECT || type === LARGE_ARRAY;
    const isObject = type === SMALL_OBJECT || type === LARGE_OBJECT;
    const w = large ? 4 : 2;
    const count = large ? r.u32() : r.u16();
    const size = large ? r.u32() : r.u16();
    if (size > end - base) throw this.bad(`container size ${size} exceeds the ${end - base} bytes available`);
    const cend = base + size;
    const keyEntries = base + 2 * w;
    const valueEntries = keyEntries + (isObject ? count * (w + 2) : 0);
    const header = valueEntries + count * (1 + w) - base;
    if (header > size) throw this.bad(`${count} entries do not fit in a container of ${size} bytes`);
    this.out += isObject ? "{" : "[";
    for (let i = 0; i < count; i++) {
      if (i > 0) this.out += ", ";
      r.end = cend;
      if (isObject) {
        r.pos = keyEntries + i * (w + 2);
        const keyOffset = large ? r.u32() : r.u16();
        const keyLength = r.u16();
        if (keyOffset < header || keyOffset + keyLength > size) throw this.bad(`key offset ${keyOffset} out of bounds`);
        r.pos = base + keyOffset;
        this.out += JSON.stringify(utf8.decode(r.bytes(keyLength)));
        this.out += ": ";
      }
      r.pos = valueEntries + i * (1 + w);
      const t = r.u8();
      if (t === LITERAL) {
        // MySQL reads only the first byte of an inlined literal's field.
        this.literal(r.u8());
        r.pos += w - 1;
      } else if (t === INT16) {
        this.out += r.i16();
        r.pos += w - 2;
      } else if (t === UINT16) {
        this.out += r.u16();
        r.pos += w - 2;
      } else if (large && t === INT32) this.out += r.i32();
      else if (large && t === UINT32) this.out += r.u32();
      else {
        const offset = large ? r.u32() : r.u16();
        if (offset < header || offset >= size) throw this.bad(`value offset ${offset} out of bounds`);
        this.value(t, base + offset, cend, depth);
      }
    }
    this.out += isObject ? "}" : "]";
  }

  private literal(v: number): void {
    if (v === 0) this.out += "null";
    else if (v === 1) this.out += "true";
    else if (v === 2) this.out += "false";
    else throw this.bad(`unknown literal ${v}`);
  }

  private double(d: number): string {
    if (!Number.isFinite(d)) throw this.bad(`non-finite double ${d}`);
    const s = Object.is(d, -0) ? "-0" : String(d);
    const e = s.indexOf("e");
    if (e >= 0) return s.charCodeAt(e + 1) === 0x2b /* + */ ? s.slice(0, e + 1) + s.slice(e + 2) : s;
    return s.indexOf(".") >= 0 ? s : `${s}.0`;
  }

  /** data-length: 1..5 bytes of 7 bits, least significant first; at most 2^32-1. */
  private varLength(): number {
    let len = 0;
    let scale = 1;
    for (let i = 0; i < 5; i++, scale *= 128) {
      const b = this.r.u8();
      len += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        if (len > 0xffffffff) break;
        return len;
      }
    }
    throw this.bad("data length longer than 32 bits");
  }

  /*
   * Opaque value: a MySQL field type and its bytes.
   *   NEWDECIMAL                precision(1) scale(1) then the packed decimal (decimal2bin)
   *   DATE/DATETIME/TIMESTAMP   8 bytes little-endian packed datetime (my_datetime_packed):
   *                             ((year*13+month) << 5 | day) << 17 | hour << 12 | min << 6 | sec,
   *                             shifted left 24 bits, plus microseconds
   *   TIME                      8 bytes little-endian signed packed time (my_time_packed)
   * Decimals print as numbers, temporals as strings with 6 fraction digits (DATE without
   * time), as MySQL shows them; anything else as MySQL's "base64:type<N>:<data>".
   */
  private opaque(fieldType: number, len: number): void {
    const r = this.r;
    const stop = r.pos + len;
    r.need(len, "JSON opaque value");
    switch (fieldType) {
      case ColumnType.NEWDECIMAL:
      case ColumnType.DECIMAL: {
        const precision = r.u8();
        const scale = r.u8();
        this.out += decodeDecimal(r, precision, scale, "JSON decimal");
        if (r.pos !== stop) throw this.bad(`decimal of ${len} bytes does not match DECIMAL(${precision},${scale})`);
        return;
      }
      case ColumnType.DATE:
      case ColumnType.DATETIME:
      case ColumnType.TIMESTAMP:
      case ColumnType.TIME: {
        if (len !== 8) throw this.bad(`packed temporal of ${len} bytes, expected 8`);
        const lo = r.u32();
        const hi = r.i32();
        if (fieldType === ColumnType.TIME) {
          const text = formatPackedTime(hi * 0x100000000 + lo, 6);
          if (text === undefined) throw this.bad("packed TIME fraction exceeds 999999");
          this.out += `"${text}"`;
          return;
        }
        const us = lo & 0xffffff;
        if (hi < 0 || us > 999999) throw this.bad("packed datetime out of range");
        const text = formatDatetime(hi * 256 + (lo >>> 24), us, 6);
        this.out += `"${fieldType === ColumnType.DATE ? text.slice(0, 10) : text}"`;
        return;
      }
      default:
        this.out += `"base64:type${fieldType}:${Buffer.from(r.bytes(len)).toString("base64")}"`;
    }
  }
}
