// Bounded little-endian (and, where MySQL's on-disk formats demand it, big-endian) reader
// over one binlog event body. Every read checks the bound: reading past `end` throws
// BINLOG_TRUNCATED naming the event position, never returns garbage or undefined.

import { ReplicateError } from "../errors.ts";

export class ByteReader {
  readonly buf: Uint8Array;
  /** Created on first use: most events never read a 64-bit or floating-point field. */
  private dv: DataView | undefined;
  pos: number;
  end: number;
  /** Where this buffer came from, for error messages: "binlog.000003:4567". */
  readonly where: string;

  constructor(buf: Uint8Array, where = "?", start = 0, end = buf.length) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    this.where = where;
  }

  private get view(): DataView {
    return (this.dv ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength));
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** Throws unless n more bytes are available. */
  need(n: number, what = "field"): void {
    if (n < 0 || this.pos + n > this.end) {
      throw new ReplicateError(
        "BINLOG_TRUNCATED",
        `binlog event is shorter than its layout: reading ${what} needs ${n} byte(s) at offset ${this.pos}, only ${Math.max(0, this.end - this.pos)} left`,
        { where: this.where },
      );
    }
  }

  skip(n: number): void {
    this.need(n, "skipped bytes");
    this.pos += n;
  }

  u8(): number {
    this.need(1, "u8");
    return this.buf[this.pos++]!;
  }
  i8(): number {
    this.need(1, "i8");
    const v = this.buf[this.pos++]!;
    return v & 0x80 ? v - 0x100 : v;
  }
  u16(): number {
    this.need(2, "u16");
    const b = this.buf;
    const p = this.pos;
    this.pos += 2;
    return b[p]! | (b[p + 1]! << 8);
  }
  i16(): number {
    const v = this.u16();
    return v & 0x8000 ? v - 0x10000 : v;
  }
  u24(): number {
    this.need(3, "u24");
    const b = this.buf;
    const p = this.pos;
    this.pos += 3;
    return b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16);
  }
  i24(): number {
    const v = this.u24();
    return v & 0x800000 ? v - 0x1000000 : v;
  }
  u32(): number {
    this.need(4, "u32");
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16)) + b[p + 3]! * 0x1000000;
  }
  i32(): number {
    this.need(4, "i32");
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24);
  }
  /** Unsigned little-endian integer of 1..6 bytes, as a number (exact up to 2^48). */
  uintN(n: number): number {
    this.need(n, `u${n * 8}`);
    let v = 0;
    for (let i = n - 1; i >= 0; i--) v = v * 256 + this.buf[this.pos + i]!;
    this.pos += n;
    return v;
  }
  u64(): bigint {
    this.need(8, "u64");
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }
  i64(): bigint {
    this.need(8, "i64");
    const v = this.view.getBigInt64(this.pos, true);
    this.pos += 8;
    return v;
  }
  /** u64 that must fit in a JS number (positions, lengths, sequence numbers). */
  u64n(): number {
    const v = this.u64();
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new ReplicateError("BINLOG_BAD_VALUE", `64-bit counter ${v} exceeds 2^53`, { where: this.where });
    }
    return Number(v);
  }
  f32(): number {
    this.need(4, "float");
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }
  f64(): number {
    this.need(8, "double");
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }
  /** Big-endian unsigned of 1..6 bytes (DATETIME2, TIME2, TIMESTAMP2, BIT use big-endian). */
  uintBE(n: number): number {
    this.need(n, `be${n * 8}`);
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + this.buf[this.pos + i]!;
    this.pos += n;
    return v;
  }

  /** MySQL length-encoded ("packed") integer. 0xfb (NULL) is not valid inside binlog events. */
  packed(): number {
    const first = this.u8();
    if (first < 0xfb) return first;
    if (first === 0xfc) return this.u16();
    if (first === 0xfd) return this.u24();
    if (first === 0xfe) return this.u64n();
    throw new ReplicateError("BINLOG_BAD_VALUE", `invalid length-encoded integer prefix 0x${first.toString(16)}`, {
      where: this.where,
    });
  }

  /** A view (no copy) of the next n bytes. */
  bytes(n: number): Uint8Array {
    this.need(n, "bytes");
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  rest(): Uint8Array {
    return this.bytes(this.end - this.pos);
  }
  /** A sub-reader over the next n bytes that cannot read past them. */
  sub(n: number): ByteReader {
    this.need(n, "nested block");
    const r = new ByteReader(this.buf, this.where, this.pos, this.pos + n);
    this.pos += n;
    return r;
  }
  /** Latin-1/ASCII string of n bytes (identifiers and statements are decoded by callers that know the charset). */
  ascii(n: number): string {
    return latin1.decode(this.bytes(n));
  }
  utf8(n: number): string {
    return utf8.decode(this.bytes(n));
  }
  /** NUL-terminated string; the NUL must lie inside the bound. */
  cstring(): string {
    const start = this.pos;
    let i = start;
    while (i < this.end && this.buf[i] !== 0) i++;
    if (i >= this.end) this.need(i - start + 1, "NUL-terminated string");
    this.pos = i + 1;
    return utf8.decode(this.buf.subarray(start, i));
  }
}

const latin1 = new TextDecoder("latin1");
const utf8 = new TextDecoder("utf-8");
