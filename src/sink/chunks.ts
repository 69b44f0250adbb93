// Values of many megabytes go to the target in chunks: the row's statement carries the first
// chunk, then one `col = col || chunk` statement per further chunk (apply.ts), each sent only
// once the one before it is answered (applyChanges). Why: a parameter travels as text (bytea
// as hex, twice its size), and postgres.js builds each message whole and keeps the serialized
// parameters with the query, so one statement holding a 100 MB BLOB needed more than ten
// times the value (bench/memory.ts). In chunks the sink holds the value (as the log record
// gave it) plus one chunk's text and message at a time.

import type { Param } from "../dialect/values.ts";
import { ReplicateError } from "../errors.ts";

/** Chunk size: characters of a text value, bytes of a byte string. */
export const VALUE_CHUNK = 8 << 20;

/** Whether a raw image value (a Uint8Array or string from the log) is large enough to chunk. */
export function hugeRaw(v: unknown): boolean {
  return (typeof v === "string" || v instanceof Uint8Array) && v.length > VALUE_CHUNK;
}

/** Whether a target parameter is large enough to chunk. */
export function hugeParam(p: Param): p is string | Buffer {
  return (typeof p === "string" || Buffer.isBuffer(p)) && p.length > VALUE_CHUNK;
}

/** The value cut into chunks of VALUE_CHUNK (views of a Buffer, never copies; a string is never cut inside a surrogate pair). */
export function chunksOf(p: string | Buffer): Array<string | Buffer> {
  const out: Array<string | Buffer> = [];
  if (typeof p !== "string") {
    for (let at = 0; at < p.length; at += VALUE_CHUNK) out.push(p.subarray(at, at + VALUE_CHUNK));
    return out;
  }
  for (let at = 0; at < p.length; ) {
    let end = Math.min(p.length, at + VALUE_CHUNK);
    const code = p.charCodeAt(end - 1);
    if (end < p.length && code >= 0xd800 && code <= 0xdbff) end--;
    out.push(p.slice(at, end));
    at = end;
  }
  return out;
}

/**
 * The largest value one field of the target holds (PostgreSQL and openGauss: 1 GB). A value past
 * it (MySQL's LONGBLOB/LONGTEXT hold up to 4 GB) stops the sink before anything of the row is
 * sent, rather than after the target has built most of it.
 */
export const MAX_FIELD_BYTES = 1024 * 1024 * 1024 - 1;

export function refuseTooLarge(p: string | Buffer, where: () => string): void {
  const bytes = typeof p === "string" ? (p.length * 3 <= MAX_FIELD_BYTES ? 0 : Buffer.byteLength(p, "utf8")) : p.length;
  if (bytes <= MAX_FIELD_BYTES) return;
  throw new ReplicateError(
    "TARGET_DATA",
    `a value of ${bytes} bytes is larger than the ${MAX_FIELD_BYTES + 1} bytes one field of the target can hold (${where()}); such a row cannot be migrated as it is: shorten the value on the source, or leave the table out of the migration`,
    { where: where() },
  );
}
