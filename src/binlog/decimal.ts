// MySQL's packed DECIMAL (NEWDECIMAL), read from a ROWS cell or a binary JSON value; both
// values.ts and json.ts use it, so it lives apart from either.

import { ReplicateError } from "../errors.ts";
import type { ByteReader } from "./reader.ts";

// NEWDECIMAL: MySQL strings/decimal.cc decimal2bin / bin2decimal.
//   intg = precision - scale digits before the point, `scale` after.
//   Each full group of 9 digits is 4 bytes big-endian; a partial group of k digits takes
//   DIG2BYTES[k] bytes. Order: leading partial integer group, full integer groups, full
//   fraction groups, trailing partial fraction group (holding its k digits as an integer).
//   The first byte's top bit is inverted (set = non-negative); a negative number has every
//   byte XOR 0xFF, so the bytes sort like the values.
const DIG2BYTES = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4] as const;
export const POW10 = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000] as const;

/** Binary size of a DECIMAL(precision, scale) value. */
function decimalBinSize(precision: number, scale: number): number {
  const intg = precision - scale;
  return ((intg / 9) | 0) * 4 + DIG2BYTES[intg % 9]! + ((scale / 9) | 0) * 4 + DIG2BYTES[scale % 9]!;
}

/** Reads a packed decimal; `what` names the column or JSON value for messages. */
export function decodeDecimal(r: ByteReader, precision: number, scale: number, what: string): string {
  if (precision < 1 || precision > 65 || scale > precision) {
    throw new ReplicateError("BINLOG_BAD_VALUE", `${what}: invalid DECIMAL(${precision},${scale}) metadata`, {
      where: r.where,
    });
  }
  const size = decimalBinSize(precision, scale);
  r.need(size, "DECIMAL");
  const buf = r.buf;
  const start = r.pos;
  r.pos += size;
  const mask = buf[start]! & 0x80 ? 0 : 0xff;
  let p = start;
  let nonzero = false;
  const intg = precision - scale;
  const intg0 = (intg / 9) | 0;
  const intg0x = intg % 9;
  let int = "";
  if (intg0x > 0) {
    const k = DIG2BYTES[intg0x]!;
    const v = beGroup(buf, p, k, mask, 0x80);
    p += k;
    if (v >= POW10[intg0x]!) throw corruptDecimal(r, what, v);
    if (v !== 0) {
      int = String(v);
      nonzero = true;
    }
  }
  for (let i = 0; i < intg0; i++, p += 4) {
    const v = beGroup(buf, p, 4, mask, p === start ? 0x80 : 0);
    if (v >= 1e9) throw corruptDecimal(r, what, v);
    if (int !== "") int += padN(v, 9);
    else if (v !== 0) int = String(v);
    if (v !== 0) nonzero = true;
  }
  if (scale === 0) return mask !== 0 && nonzero ? `-${int || "0"}` : int || "0";
  let frac = "";
  const frac0 = (scale / 9) | 0;
  const frac0x = scale % 9;
  for (let i = 0; i < frac0; i++, p += 4) {
    const v = beGroup(buf, p, 4, mask, p === start ? 0x80 : 0);
    if (v >= 1e9) throw corruptDecimal(r, what, v);
    if (v !== 0) nonzero = true;
    frac += padN(v, 9);
  }
  if (frac0x > 0) {
    const v = beGroup(buf, p, DIG2BYTES[frac0x]!, mask, p === start ? 0x80 : 0);
    if (v >= POW10[frac0x]!) throw corruptDecimal(r, what, v);
    if (v !== 0) nonzero = true;
    frac += padN(v, frac0x);
  }
  // Minus zero is not a distinct decimal value; print it as zero.
  return `${mask !== 0 && nonzero ? "-" : ""}${int || "0"}.${frac}`;
}

/** k bytes big-endian XOR mask; `flip` (0x80 for the value's first byte) undoes the sign bit. */
function beGroup(buf: Uint8Array, p: number, k: number, mask: number, flip: number): number {
  let v = buf[p]! ^ mask ^ flip;
  for (let i = 1; i < k; i++) v = v * 256 + (buf[p + i]! ^ mask);
  return v;
}

function corruptDecimal(r: ByteReader, what: string, v: number): ReplicateError {
  return new ReplicateError("BINLOG_BAD_VALUE", `${what}: corrupt DECIMAL digit group ${v}`, { where: r.where });
}

export function padN(v: number, n: number): string {
  const s = String(v);
  return s.length >= n ? s : "000000000".slice(0, n - s.length) + s;
}
