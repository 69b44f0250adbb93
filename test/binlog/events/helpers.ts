// Byte builders for hand-written binlog fixtures. Every fixture in these tests spells its
// fields out with these helpers, one field per line, each commented with the document it
// follows; `event()` adds the 19-byte common header (MySQL Internals "Binlog Event Header")
// and, by default, the CRC32 footer (MySQL Internals "Binlog Event Checksum").

import { ReplicateError } from "../../../src/errors.ts";
import { HEADER_LEN } from "../../../src/binlog/header.ts";
import type { RealEvent } from "./mariadb-fixtures.ts";

type Part = number[] | Uint8Array;

export const u8 = (v: number): number[] => [v & 0xff];
export const u16 = (v: number): number[] => [v & 0xff, (v >> 8) & 0xff];
export const u24 = (v: number): number[] => [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff];
export const u32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
export function uN(v: number | bigint, n: number): number[] {
  let x = BigInt(v);
  if (x < 0n) x += 1n << BigInt(8 * n);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    out.push(Number(x & 0xffn));
    x >>= 8n;
  }
  return out;
}
export const u48 = (v: number | bigint): number[] => uN(v, 6);
export const u64 = (v: number | bigint): number[] => uN(v, 8);
/** MySQL length-encoded integer (net_store_length). */
export function packed(v: number): number[] {
  if (v < 0xfb) return [v];
  if (v < 0x10000) return [0xfc, ...u16(v)];
  if (v < 0x1000000) return [0xfd, ...u24(v)];
  return [0xfe, ...u64(v)];
}
export const ascii = (s: string): number[] => Array.from(new TextEncoder().encode(s));
/** Length byte + text + NUL, the TABLE_MAP / QUERY identifier form. */
export const lenStrNul = (s: string): number[] => [...u8(ascii(s).length), ...ascii(s), 0];
/** Packed length + text (TABLE_MAP optional metadata strings). */
export const packedStr = (s: string): number[] => [...packed(ascii(s).length), ...ascii(s)];
export function fromHex(h: string): Uint8Array {
  const clean = h.replace(/[^0-9a-f]/gi, "");
  return Uint8Array.from(clean.match(/../g) ?? [], (b) => parseInt(b, 16));
}
export const uuid = (u: string): Uint8Array => fromHex(u);

export function cat(...parts: Part[]): Uint8Array {
  const n = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Optional-metadata TLV: type u8, packed length, value. */
export function tlv(type: number, ...value: Part[]): Uint8Array {
  const v = cat(...value);
  return cat([type], packed(v.length), v);
}

interface EventOptions {
  timestamp?: number;
  serverId?: number;
  /** Start offset of the event; log_pos in the header becomes start + size. 0 keeps log_pos 0. */
  start?: number;
  flags?: number;
  checksum?: boolean;
}

/** Common header (timestamp u32, type u8, server_id u32, event_size u32, log_pos u32, flags u16) + body + CRC32. */
export function event(type: number, body: Part, o: EventOptions = {}): Uint8Array {
  const withCrc = o.checksum ?? true;
  const size = HEADER_LEN + body.length + (withCrc ? 4 : 0);
  const start = o.start ?? 1000;
  const head = cat(u32(o.timestamp ?? 1_700_000_000), u8(type), u32(o.serverId ?? 1), u32(size), u32(start === 0 ? 0 : start + size), u16(o.flags ?? 0));
  const noCrc = cat(head, body);
  return withCrc ? cat(noCrc, u32(Bun.hash.crc32(noCrc))) : noCrc;
}

export function real(ev: RealEvent): Uint8Array {
  return fromHex(ev.hex);
}

export function find(events: RealEvent[], offset: number): RealEvent {
  const ev = events.find((e) => e.offset === offset);
  if (!ev) throw new Error(`no fixture event at ${offset}`);
  return ev;
}

/** Runs fn, expecting a ReplicateError; returns it for further checks. */
export function caught(fn: () => unknown): ReplicateError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ReplicateError) return err;
    throw err;
  }
  throw new Error("expected a ReplicateError, nothing was thrown");
}

/**
 * A MySQL 8.0 FORMAT_DESCRIPTION (libbinlogevents control_events.h Format_description_event):
 * binlog_version u16 = 4 | server_version char[50] | create_timestamp u32 | header_len u8 = 19
 * | post_header_len[41] | checksum_alg u8 | CRC32. Post-header lengths per binlog_event.h:
 * QUERY_HEADER_LEN 13, ROTATE_HEADER_LEN 8, TABLE_MAP_HEADER_LEN 8, ROWS_HEADER_LEN_V1 8,
 * INCIDENT_HEADER_LEN 2, ROWS_HEADER_LEN_V2 10, GTID_HEADER_LEN 42 (other entries do not
 * matter to these tests and are given their 8.0 values where known, else 0).
 */
export function mysqlFormat(o: { alg?: number; version?: string; overrides?: Record<number, number> } = {}): Uint8Array {
  const phl = new Array<number>(41).fill(0);
  const set: Record<number, number> = {
    2: 13,
    4: 8,
    6: 18,
    8: 4,
    9: 4,
    10: 4,
    11: 4,
    12: 18,
    15: 98,
    17: 4,
    18: 26,
    19: 8,
    20: 8,
    21: 8,
    22: 8,
    23: 8,
    24: 8,
    25: 8,
    26: 2,
    30: 10,
    31: 10,
    32: 10,
    33: 42,
    34: 42,
    36: 18,
    37: 52,
    39: 10,
    40: 40,
    ...o.overrides,
  };
  for (const [t, v] of Object.entries(set)) phl[Number(t) - 1] = v;
  const version = new Uint8Array(50);
  version.set(ascii(o.version ?? "8.0.36"));
  const alg = o.alg ?? 1;
  const body = cat(u16(4), version, u32(1_700_000_000), u8(19), phl, u8(alg));
  // A checksum-aware server always writes the 4 footer bytes here; with alg 0 they are not a CRC.
  return alg === 1 ? event(15, body, { start: 4 }) : event(15, cat(body, u32(0)), { start: 4, checksum: false });
}

/** A copy of raw with one bit of byte i inverted. */
export function flip(raw: Uint8Array, i: number, mask = 1): Uint8Array {
  const out = raw.slice();
  out[i] = out[i]! ^ mask;
  return out;
}
