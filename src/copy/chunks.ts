// How a table is cut into chunks: ranges of its first primary-key column when that column is
// an integer (ranges select the same rows on any server, and a range scan of the key reads
// nothing else), each about [copy] chunk_rows rows by the table's row estimate. The first
// range starts at -∞ and the last ends at +∞, so rows written outside today's MIN/MAX while
// the copy runs still belong to a chunk. Other tables are one chunk.

import type { BinlogConnection } from "../binlog/connection.ts";
import type { SourceTable } from "./schema.ts";

const INTEGER_TYPES = new Set(["tinyint", "smallint", "mediumint", "int", "bigint"]);

interface Range {
  lo: string | null;
  hi: string | null;
}

const myIdent = (name: string) => `\`${name.replace(/`/g, "``")}\``;

/** The column chunks split on: the first primary-key column when it is an integer, else null. */
export function splitColumnOf(t: SourceTable): string | null {
  const first = t.def.primaryKey[0];
  if (first === undefined) return null;
  const col = t.def.columns.find((c) => c.name.toLowerCase() === first.toLowerCase());
  return col && INTEGER_TYPES.has(col.type.name) ? col.name : null;
}

export async function planRanges(conn: BinlogConnection, t: SourceTable, split: string | null, chunkRows: number): Promise<Range[]> {
  const count = Math.ceil(t.rowsEstimate / chunkRows);
  if (split === null || count <= 1) return [{ lo: null, hi: null }];
  const c = myIdent(split);
  const [r] = await conn.query<{ lo: string | null; hi: string | null }>(
    `SELECT CAST(MIN(${c}) AS CHAR) AS lo, CAST(MAX(${c}) AS CHAR) AS hi FROM ${myIdent(t.database)}.${myIdent(t.table)}`,
  );
  if (r?.lo === null || r?.lo === undefined || r.hi === null) return [{ lo: null, hi: null }];
  const min = BigInt(r.lo);
  const max = BigInt(r.hi);
  const span = max - min + 1n;
  const n = BigInt(count) > span ? span : BigInt(count);
  const step = (span + n - 1n) / n;
  const ranges: Range[] = [];
  for (let i = 0n; i < n; i++) {
    const lo = i === 0n ? null : (min + i * step).toString();
    const hi = i === n - 1n ? null : (min + (i + 1n) * step).toString();
    ranges.push({ lo, hi });
  }
  return ranges;
}

/** The WHERE clause of a chunk (its bounds as literals: they are integers the ledger holds). */
export function rangeWhere(split: string | null, r: Range): string {
  if (split === null) return "";
  const c = myIdent(split);
  const parts = [...(r.lo === null ? [] : [`${c} >= ${BigInt(r.lo)}`]), ...(r.hi === null ? [] : [`${c} < ${BigInt(r.hi)}`])];
  return parts.length === 0 ? "" : ` WHERE ${parts.join(" AND ")}`;
}
