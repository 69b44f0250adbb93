// Target identifiers: every name is quoted, always, so no table or column name (`select`,
// `drop_table__x`, a mapped schema) can change the statement around it.
//
// The target keeps at most 63 bytes of a name (NAMEDATALEN) and cuts longer ones silently, so
// two MySQL names of up to 64 characters (256 bytes) that share their first 63 bytes would
// name one target object: two tables' rows merged. Every source table and column name that
// becomes a target identifier therefore goes through fitName, whichever path (rows, DDL,
// check) builds the statement; the translator's own names (indexes, keys, sequences) too.

import { createHash } from "node:crypto";

export const MAX_IDENTIFIER_BYTES = 63;

export function byteLength(name: string): number {
  return Buffer.byteLength(name, "utf8");
}

/**
 * `name` if it fits in 63 bytes, else a readable head of it, `_` and 8 hex digits of a hash of
 * all of it: deterministic (a later statement, a restarted sink and `check` find it again) and
 * itself at most 63 bytes, so fitName(fitName(x)) === fitName(x).
 */
export function fitName(name: string): string {
  if (byteLength(name) <= MAX_IDENTIFIER_BYTES) return name;
  const hash = createHash("sha1").update(name).digest("hex").slice(0, 8);
  let head = "";
  for (const ch of name) {
    if (byteLength(head + ch) > MAX_IDENTIFIER_BYTES - 9) break;
    head += ch;
  }
  return `${head}_${hash}`;
}

/** Whether `name` has the shape of a shortened one (a source name may, by accident or not). */
export function looksShortened(name: string): boolean {
  return byteLength(name) > MAX_IDENTIFIER_BYTES - 9 && byteLength(name) <= MAX_IDENTIFIER_BYTES && /_[0-9a-f]{8}$/.test(name);
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A source table or column name as a quoted target identifier. */
export function targetIdent(name: string): string {
  return quoteIdent(fitName(name));
}

/** MySQL database → target schema, through [target] schema_mapping (unmapped names stay). */
export function targetSchema(database: string, mapping: Record<string, string>): string {
  return mapping[database] ?? database;
}

/** "schema"."table" on the target for source table `database`.`table`. */
export function qualifiedTable(database: string, table: string, mapping: Record<string, string>): string {
  return `${quoteIdent(targetSchema(database, mapping))}.${targetIdent(table)}`;
}
