// The target sequence behind a MySQL AUTO_INCREMENT column (an identity column on PostgreSQL,
// an owned sequence elsewhere: ddl-column.ts), and setting the value it gives next. Replicated
// inserts carry their ids and never advance it, so `copy` (as it ends) and `cutover` set it to
// the source's AUTO_INCREMENT: the next insert without an id on the target gets the id the source
// would have given.

import type postgres from "postgres";
import { fitName, qualifiedTable } from "./identifiers.ts";

type Runner = Pick<postgres.Sql, "unsafe">;

interface SequenceSet {
  sequence: string;
  /** The value the next insert without an id got before, and gets now. */
  before: string;
  after: string;
}

/**
 * Sets the sequence of `database.table.column` (source names) to give `next` next; null when the
 * target column has no sequence (a table made by hand, or not on the target).
 */
export async function setNextValue(sql: Runner, mapping: Record<string, string>, database: string, table: string, column: string, next: string): Promise<SequenceSet | null> {
  let sequence: string | null = null;
  try {
    const [s] = await sql.unsafe(`SELECT pg_get_serial_sequence($1, $2) AS seq`, [qualifiedTable(database, table, mapping), fitName(column)]);
    sequence = (s?.seq as string | null) ?? null;
  } catch {
    return null;
  }
  if (!sequence) return null;
  const [cur] = await sql.unsafe(`SELECT last_value::text AS v, is_called FROM ${sequence}`);
  const before = cur ? (cur.is_called ? (BigInt(cur.v as string) + 1n).toString() : String(cur.v)) : "?";
  if (before !== next) await sql.unsafe(`SELECT setval($1::regclass, $2::bigint, false)`, [sequence, next]);
  return { sequence, before, after: next };
}
