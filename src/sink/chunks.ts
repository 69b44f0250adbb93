// Values of many megabytes go to the target in chunks: the row's statement carries the first
// chunk, then one `col = col || chunk` statement per further chunk (apply.ts), each sent only
// once the one before it is answered (applyChanges), with the garbage of each collected before
// the next. Why: a parameter travels as text (bytea as hex, twice its size), and postgres.js
// copies it, builds each message whole and keeps the serialized parameters with the query:
// about nine times a chunk's bytes pass through the sink's memory per chunk (one statement
// holding a 100 MB BLOB needed more than ten times the value, bench/memory.ts).
// The chunk size follows the value (an eighth of it, between 1 and 16 MiB): the memory a chunk
// costs stays well under the value, and a value needs few appends (each makes the target
// rewrite the value so far, so many small chunks would cost the target quadratic work).

import type { Param } from "../dialect/values.ts";
import { ReplicateError } from "../errors.ts";

/** Values longer than this (characters of a text, bytes of a byte string) go in chunks. */
export const CHUNK_FROM = 4 << 20;
const MIN_CHUNK = 1 << 20;
const MAX_CHUNK = 16 << 20;

/** The chunk size for a value of `length`. */
export function chunkSize(length: number): number {
  return Math.min(MAX_CHUNK, Math.max(MIN_CHUNK, Math.ceil(length / 8)));
}

/** Whether a raw image value (a Uint8Array or string from the log) is large enough to chunk. */
export function hugeRaw(v: unknown): boolean {
  return (typeof v === "string" || v instanceof Uint8Array) && v.length > CHUNK_FROM;
}

/** Whether a target parameter is large enough to chunk. */
export function hugeParam(p: Param): p is string | Buffer {
  return (typeof p === "string" || Buffer.isBuffer(p)) && p.length > CHUNK_FROM;
}

/** The value cut into chunks of chunkSize() (views of a Buffer, never copies; a string is never cut inside a surrogate pair). */
export function chunksOf(p: string | Buffer): Array<string | Buffer> {
  const size = chunkSize(p.length);
  const out: Array<string | Buffer> = [];
  if (typeof p !== "string") {
    for (let at = 0; at < p.length; at += size) out.push(p.subarray(at, at + size));
    return out;
  }
  for (let at = 0; at < p.length;) {
    let end = Math.min(p.length, at + size);
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
