// One non-NULL cell of a ROWS event → the JS value documented at the top of types.ts.
//
// Cell layouts follow MySQL's Field::pack / Field::unpack (sql/field.cc), printed the same
// way by sql/log_event.cc log_event_print_value (mysqlbinlog -vv), and MySQL internals
// "Binlog Row Image". The temporal *2 types follow mysys/my_time.cc (my_time_packed_to_binary,
// my_datetime_packed_to_binary, my_timestamp_to_binary) and their *_from_binary inverses.
// Integers are little-endian; the *2 temporal types, NEWDECIMAL and BIT are big-endian so that
// their bytes sort like their values.

import { inflateRawSync, inflateSync } from "node:zlib";
import { ReplicateError } from "../errors.ts";
import { BINARY, type Charset, charsetOf, UTF8MB4 } from "./charsets.ts";
import { columnTypeName, MARIADB_BLOB_COMPRESSED, MARIADB_VARCHAR_COMPRESSED } from "./columns.ts";
import { decodeDecimal } from "./decimal.ts";
import { jsonBinaryToText } from "./json.ts";
import type { ByteReader } from "./reader.ts";
import { D2, formatDatetime, formatPackedTime, formatTimestamp, pad4 } from "./temporal.ts";
import { type BinlogValue, type ColumnInfo, ColumnType as T } from "./types.ts";

export function decodeValue(r: ByteReader, col: ColumnInfo): BinlogValue {
  switch (col.type) {
    case T.TINY:
      return col.unsigned ? r.u8() : r.i8();
    case T.SHORT:
      return col.unsigned ? r.u16() : r.i16();
    case T.INT24:
      return col.unsigned ? r.u24() : r.i24();
    case T.LONG:
      return col.unsigned ? r.u32() : r.i32();
    case T.LONGLONG:
      return col.unsigned ? r.u64() : r.i64();
    case T.FLOAT:
      return r.f32();
    case T.DOUBLE:
      return r.f64();
    case T.NEWDECIMAL:
      return decodeDecimal(r, col.meta >> 8, col.meta & 0xff, col.name);
    case T.BIT:
      // BIT(n): ceil(n/8) bytes, big-endian (Field_bit::pack with bit_len folded into bytes).
      return copyBytes(r.bytes((col.meta + 7) >> 3), 0);
    case T.YEAR: {
      // 1 byte: 0 is the zero year, else year - 1900 (1901..2155).
      const y = r.u8();
      return y === 0 ? 0 : y + 1900;
    }
    case T.DATE:
    case T.NEWDATE: {
      // 3 bytes little-endian: bits 0-4 day, 5-8 month, 9-23 year (Field_newdate).
      const v = r.u24();
      return `${pad4(v >> 9)}-${D2[(v >> 5) & 15]}-${D2[v & 31]}`;
    }
    case T.TIME:
      return decodeTimeOld(r, col);
    case T.TIME2:
      return decodeTime2(r, col);
    case T.DATETIME:
      return decodeDatetimeOld(r, col);
    case T.DATETIME2: {
      // 5 bytes big-endian, value + 0x8000000000 (bit 39 is the sign, always set):
      //   17 bits year*13+month | 5 bits day | 5 bits hour | 6 bits minute | 6 bits second
      // then fsp bytes (readFraction).
      const packed = r.uintBE(5) - 0x8000000000;
      const us = readFraction(r, col);
      if (packed < 0) throw bad(r, col, "negative DATETIME2 value");
      return formatDatetime(packed, us, col.meta);
    }
    case T.TIMESTAMP:
      // 4 bytes little-endian seconds since the epoch; 0 is the zero timestamp.
      return formatTimestamp(r.u32(), 0, 0);
    case T.TIMESTAMP2: {
      // 4 bytes big-endian seconds since the epoch, then fsp bytes (readFraction).
      const sec = r.uintBE(4);
      return formatTimestamp(sec, readFraction(r, col), col.meta);
    }
    case T.VARCHAR:
    case T.VAR_STRING:
      // 1-byte length when the max byte length is < 256, else 2 bytes little-endian.
      return decodeText(r, col, r.uintN(col.meta < 256 ? 1 : 2), false, 0);
    case T.STRING:
      // CHAR/BINARY: same length rule on the max byte length. Field_string::pack strips
      // trailing pad characters, and BINARY's pad is 0x00: zero-fill back to the declared
      // length so BINARY(n) values come back exactly as stored.
      return decodeText(r, col, r.uintN(col.meta < 256 ? 1 : 2), false, col.meta);
    case T.ENUM:
      return decodeEnum(r, col);
    case T.SET:
      return decodeSet(r, col);
    case T.TINY_BLOB:
    case T.MEDIUM_BLOB:
    case T.LONG_BLOB:
    case T.BLOB:
      // Length prefix of meta bytes (1 TINY, 2 BLOB, 3 MEDIUM, 4 LONG), little-endian.
      return decodeText(r, col, r.uintN(blobPrefix(r, col)), true, 0);
    case T.GEOMETRY:
      // Length-prefixed: 4-byte little-endian SRID + WKB, kept as bytes.
      return copyBytes(r.bytes(r.uintN(blobPrefix(r, col))), 0);
    case T.JSON: {
      const n = r.uintN(blobPrefix(r, col));
      const cs = col.collation === undefined ? undefined : charsetOf(col.collation);
      // MySQL's JSON type is binary JSON and carries no collation; a text collation means a
      // flavour that logs JSON as text.
      if (cs !== undefined && !cs.binary) return decodeWith(r, col, cs, r.bytes(n));
      return jsonBinaryToText(r, n);
    }
    case MARIADB_VARCHAR_COMPRESSED:
      return decodeCompressed(r, col, r.uintN(col.meta < 256 ? 1 : 2), false);
    case MARIADB_BLOB_COMPRESSED:
      return decodeCompressed(r, col, r.uintN(blobPrefix(r, col)), true);
    case T.NULL:
      return null;
    case T.DECIMAL:
      // Pre-5.0 DECIMAL is an unpacked digit string whose width TABLE_MAP does not carry.
      throw unsupported(r, col, "pre-MySQL-5.0 DECIMAL columns cannot be decoded from the binlog; ALTER the column to DECIMAL");
    default:
      throw unsupported(r, col, "this column type has no row decoder");
  }
}

// ---------------------------------------------------------------------------------------
// Temporal cells (their text forms: temporal.ts).

/**
 * Fractional seconds after a DATETIME2/TIMESTAMP2 value, big-endian, (fsp+1)/2 bytes:
 *   fsp 1-2: 1 byte of 1/100 s; fsp 3-4: 2 bytes of 1/10000 s; fsp 5-6: 3 bytes of µs.
 * Returns microseconds.
 */
function readFraction(r: ByteReader, col: ColumnInfo): number {
  let us: number;
  switch (col.meta) {
    case 0:
      return 0;
    case 1:
    case 2:
      us = r.u8() * 10000;
      break;
    case 3:
    case 4:
      us = r.uintBE(2) * 100;
      break;
    case 5:
    case 6:
      us = r.uintBE(3);
      break;
    default:
      throw bad(r, col, `fractional second precision ${col.meta} is outside 0..6`);
  }
  if (us > 999999) throw bad(r, col, `fractional seconds ${us} exceed 999999`);
  return us;
}

/*
 * TIME2: 3 bytes big-endian holding 0x800000 + (sign-extended) integer part of the packed
 * time, then the fraction:
 *   fsp 1-2: 1 byte, fsp 3-4: 2 bytes big-endian, fsp 5-6: the 6 bytes together are
 *   0x800000000000 + packed.
 * For 1-4 the integer part is floor(packed / 2^24) and the fraction byte(s) hold the
 * remainder in two's complement, so a negative value with a fraction has its integer part
 * one lower and the fraction counted back from 0x100/0x10000 (my_time_packed_from_binary):
 * -00:00:00.01 is 7FFFFF.FF. Undo that before building the packed value.
 */
function decodeTime2(r: ByteReader, col: ColumnInfo): string {
  let intpart = r.uintBE(3) - 0x800000;
  let frac: number;
  switch (col.meta) {
    case 0:
      frac = 0;
      break;
    case 1:
    case 2: {
      let f = r.u8();
      if (intpart < 0 && f !== 0) {
        intpart++;
        f -= 0x100;
      }
      frac = f * 10000;
      break;
    }
    case 3:
    case 4: {
      let f = r.uintBE(2);
      if (intpart < 0 && f !== 0) {
        intpart++;
        f -= 0x10000;
      }
      frac = f * 100;
      break;
    }
    case 5:
    case 6:
      frac = r.uintBE(3);
      break;
    default:
      throw bad(r, col, `fractional second precision ${col.meta} is outside 0..6`);
  }
  const text = formatPackedTime(intpart * 0x1000000 + frac, col.meta);
  if (text === undefined) throw bad(r, col, "fractional seconds exceed 999999");
  return text;
}

/* TIME (pre-5.6): 3 bytes little-endian signed, the decimal number ±HHMMSS. */
function decodeTimeOld(r: ByteReader, col: ColumnInfo): string {
  const v = r.i24();
  const abs = v < 0 ? -v : v;
  const hour = Math.floor(abs / 10000);
  const mmss = abs % 10000;
  if (mmss % 100 > 59 || mmss >= 6000) throw bad(r, col, `invalid TIME ${v}`);
  return `${v < 0 ? "-" : ""}${hour < 100 ? D2[hour] : String(hour)}:${D2[Math.floor(mmss / 100)]}:${D2[mmss % 100]}`;
}

/* DATETIME (pre-5.6): 8 bytes little-endian, the decimal number YYYYMMDDhhmmss. */
function decodeDatetimeOld(r: ByteReader, col: ColumnInfo): string {
  const lo = r.u32();
  const hi = r.u32();
  const v = hi * 0x100000000 + lo;
  if (v > 99991231235959) throw bad(r, col, `invalid DATETIME ${v}`);
  const date = Math.floor(v / 1000000);
  const time = v - date * 1000000;
  return (
    `${pad4(Math.floor(date / 10000))}-${D2[Math.floor(date / 100) % 100]}-${D2[date % 100]} ` +
    `${D2[Math.floor(time / 10000)]}:${D2[Math.floor(time / 100) % 100]}:${D2[time % 100]}`
  );
}

// ---------------------------------------------------------------------------------------
// Strings, ENUM, SET.

function blobPrefix(r: ByteReader, col: ColumnInfo): number {
  if (col.meta >= 1 && col.meta <= 4) return col.meta;
  // A TINY/MEDIUM/LONG_BLOB type code implies its prefix even without metadata.
  if (col.meta === 0) {
    if (col.type === T.TINY_BLOB) return 1;
    if (col.type === T.MEDIUM_BLOB) return 3;
    if (col.type === T.LONG_BLOB) return 4;
  }
  throw bad(r, col, `length-prefix size ${col.meta} is outside 1..4`);
}

function charsetFor(r: ByteReader, col: ColumnInfo, blobTyped: boolean): Charset {
  if (col.collation === undefined) return blobTyped ? BINARY : UTF8MB4;
  const cs = charsetOf(col.collation);
  if (cs === undefined) throw unsupported(r, col, `collation id ${col.collation} is not known`);
  return cs;
}

function decodeWith(r: ByteReader, col: ColumnInfo, cs: Charset, bytes: Uint8Array): string {
  try {
    return cs.decode(bytes);
  } catch (e) {
    throw new ReplicateError("BINLOG_BAD_VALUE", `column ${col.name}: bytes are not valid ${cs.name}`, {
      where: r.where,
      cause: e,
    });
  }
}

/** n bytes of text in the column charset; binary columns give bytes, zero-filled to padTo. */
function decodeText(r: ByteReader, col: ColumnInfo, n: number, blobTyped: boolean, padTo: number): string | Uint8Array {
  const cs = charsetFor(r, col, blobTyped);
  const bytes = r.bytes(n);
  return cs.binary ? copyBytes(bytes, padTo) : decodeWith(r, col, cs, bytes);
}

/** From this size on a value is a view of its event's bytes, not a copy (see copyBytes). */
const VIEW_FROM_BYTES = 1 << 20;

/**
 * A plain Uint8Array, zero-filled up to minLength. A small value is copied so that it does
 * not keep its whole event buffer (a socket chunk of many events) alive. A value of a MiB or
 * more is a view: its event buffer is about its own size (mysql2 allocates every packet it
 * reassembles, and nothing reuses one), and a copy would double the memory a huge BLOB needs
 * (issue 14 item 3).
 */
function copyBytes(view: Uint8Array, minLength: number): Uint8Array {
  if (view.length >= VIEW_FROM_BYTES && view.length >= minLength) return new Uint8Array(view.buffer, view.byteOffset, view.length);
  const out = new Uint8Array(view.length < minLength ? minLength : view.length);
  out.set(view);
  return out;
}

/*
 * MariaDB compressed column (sql/field_comp.cc), after the usual length prefix:
 *   empty, or header byte then data. Header 0x00: data stored as is. Header with bit 7 set:
 *   bits 0-2 = k, bytes holding the original length (big-endian, k bytes follow), bit 3 set
 *   = raw deflate (no zlib wrapper); then the zlib/deflate stream.
 */
function decodeCompressed(r: ByteReader, col: ColumnInfo, n: number, blobTyped: boolean): string | Uint8Array {
  const cs = charsetFor(r, col, blobTyped);
  const data = r.bytes(n);
  let plain: Uint8Array = data;
  if (n > 0) {
    const h = data[0]!;
    if ((h & 0x80) === 0) plain = data.subarray(1);
    else {
      const k = h & 7;
      if (k < 1 || k > 4 || n < 1 + k) throw bad(r, col, `bad compressed-column header 0x${h.toString(16)}`);
      let len = 0;
      for (let i = 1; i <= k; i++) len = len * 256 + data[i]!;
      try {
        plain = (h & 8 ? inflateRawSync : inflateSync)(data.subarray(1 + k));
      } catch (e) {
        throw new ReplicateError("BINLOG_BAD_VALUE", `column ${col.name}: compressed data does not inflate`, {
          where: r.where,
          cause: e,
        });
      }
      if (plain.length !== len) throw bad(r, col, `inflated ${plain.length} bytes, header says ${len}`);
    }
  }
  return cs.binary ? copyBytes(plain, 0) : decodeWith(r, col, cs, plain);
}

/* ENUM: 1 or 2 bytes little-endian (meta), the 1-based index; 0 is the '' error value. */
function decodeEnum(r: ByteReader, col: ColumnInfo): string | number {
  if (col.meta !== 1 && col.meta !== 2) throw bad(r, col, `ENUM pack length ${col.meta} is not 1 or 2`);
  const idx = col.meta === 1 ? r.u8() : r.u16();
  const values = col.enumValues;
  if (values === undefined) return idx;
  if (idx === 0) return "";
  const v = values[idx - 1];
  if (v === undefined) throw bad(r, col, `ENUM index ${idx} beyond the ${values.length} known values (schema out of date?)`);
  return v;
}

/* SET: meta (1..8) bytes little-endian, bit i set = member i (0-based) present. */
function decodeSet(r: ByteReader, col: ColumnInfo): string | bigint {
  const n = col.meta;
  if (n < 1 || n > 8) throw bad(r, col, `SET size ${n} is outside 1..8`);
  const lo = r.uintN(n < 4 ? n : 4);
  const hi = n > 4 ? r.uintN(n - 4) : 0;
  const values = col.setValues;
  if (values === undefined) return hi === 0 ? BigInt(lo) : (BigInt(hi) << 32n) | BigInt(lo);
  let out = "";
  let first = true;
  for (let word = 0; word < 2; word++) {
    let bits = word === 0 ? lo : hi;
    for (let i = word * 32; bits !== 0; i++, bits = Math.floor(bits / 2)) {
      if (bits % 2 === 0) continue;
      const v = values[i];
      if (v === undefined) throw bad(r, col, `SET bit ${i} beyond the ${values.length} known values (schema out of date?)`);
      out = first ? v : `${out},${v}`;
      first = false;
    }
  }
  return out;
}

function bad(r: ByteReader, col: ColumnInfo, msg: string): ReplicateError {
  return new ReplicateError("BINLOG_BAD_VALUE", `column ${col.name} (${columnTypeName(col.type)}): ${msg}`, {
    where: r.where,
  });
}

function unsupported(r: ByteReader, col: ColumnInfo, msg: string): ReplicateError {
  return new ReplicateError("BINLOG_UNSUPPORTED", `column ${col.name} (${columnTypeName(col.type)}): ${msg}`, {
    where: r.where,
  });
}
