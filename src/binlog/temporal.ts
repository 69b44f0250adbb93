// Temporal values as MySQL prints them, from the parts a ROWS cell or a binary JSON value
// holds; both values.ts and json.ts use these, so they live apart from either.

import { padN, POW10 } from "./decimal.ts";

export const D2: readonly string[] = Array.from({ length: 100 }, (_, i) => (i < 10 ? `0${i}` : String(i)));

export function pad4(n: number): string {
  return n >= 1000 ? String(n) : n >= 100 ? `0${n}` : n >= 10 ? `00${n}` : `000${n}`;
}

/** ".fff" with exactly fsp digits of a microsecond count (truncated, never rounded). */
function fractionText(us: number, fsp: number): string {
  if (fsp <= 0) return "";
  return `.${padN(Math.floor(us / POW10[6 - fsp]!), fsp)}`;
}

/** Formats the 39-bit DATETIME2 integer part (year*13+month, day, hour, minute, second). */
export function formatDatetime(ymdhms: number, us: number, fsp: number): string {
  const ymd = Math.floor(ymdhms / 0x20000);
  const hms = ymdhms % 0x20000;
  const ym = ymd >> 5;
  const year = Math.floor(ym / 13);
  return `${pad4(year)}-${D2[ym % 13]}-${D2[ymd & 31]} ` + `${D2[(hms >> 12) & 31]}:${D2[(hms >> 6) & 63]}:${D2[hms & 63]}${fractionText(us, fsp)}`;
}

/**
 * Formats MySQL's in-memory packed TIME (my_time_packed): a signed number whose magnitude is
 * (hour << 12 | minute << 6 | second) * 2^24 + microseconds; 10 bits of hour, so up to 838.
 */
export function formatPackedTime(packed: number, fsp: number): string | undefined {
  const neg = packed < 0;
  const abs = neg ? -packed : packed;
  const hms = Math.floor(abs / 0x1000000);
  const us = abs - hms * 0x1000000;
  if (us > 999999) return undefined;
  const hour = (hms >> 12) & 1023;
  return `${neg ? "-" : ""}${hour < 100 ? D2[hour] : String(hour)}:${D2[(hms >> 6) & 63]}:${D2[hms & 63]}${fractionText(us, fsp)}`;
}

// Rows of one transaction usually share a day: remember the last day's date text.
let cachedDay = -1;
let cachedDate = "";

/** TIMESTAMP seconds since the epoch → UTC text; 0 s and 0 µs is MySQL's zero timestamp. */
export function formatTimestamp(sec: number, us: number, fsp: number): string {
  if (sec === 0 && us === 0) return `0000-00-00 00:00:00${fractionText(0, fsp)}`;
  const day = Math.floor(sec / 86400);
  if (day !== cachedDay) {
    const d = new Date(day * 86400000);
    cachedDate = `${pad4(d.getUTCFullYear())}-${D2[d.getUTCMonth() + 1]}-${D2[d.getUTCDate()]}`;
    cachedDay = day;
  }
  const s = sec - day * 86400;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s - h * 3600) / 60);
  return `${cachedDate} ${D2[h]}:${D2[m]}:${D2[s % 60]}${fractionText(us, fsp)}`;
}
