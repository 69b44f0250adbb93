// Names the translator gives target objects, and SQL literals.
//
// MySQL index names are per table; PostgreSQL's (and openGauss's) are per schema, because an
// index is a relation. A MySQL index `k` on table `t` is therefore `t_k` on the target, the
// primary key `t_pkey` (PostgreSQL's own convention), an ENUM/SET column's CHECK `c_values`.
// The names are derived, never remembered: DROP INDEX k ON t finds `t_k` again, and RENAME
// TABLE renames the indexes along with the table so the rule keeps holding.
// Identifiers are at most 63 bytes on the target (longer ones are silently truncated, which
// could make two names collide), so a derived name that is too long keeps a readable head and
// ends with 8 hex digits of a hash of the whole name (fitName, identifiers.ts: the rule table
// and column names follow too). Derived names are built from the TARGET names of the table and
// columns, so they are the same whether the translator reads them back or makes them.

import { byteLength, fitName, MAX_IDENTIFIER_BYTES } from "./identifiers.ts";

export { byteLength, fitName, MAX_IDENTIFIER_BYTES };

export const indexName = (table: string, mysqlIndex: string): string => fitName(`${table}_${mysqlIndex}`);
export const primaryKeyName = (table: string): string => fitName(`${table}_pkey`);
export const membersCheckName = (column: string): string => fitName(`${column}_values`);
export const sequenceName = (table: string, column: string): string => fitName(`${table}_${column}_seq`);

/**
 * The target name of foreign key `name` of source table `table`: InnoDB's generated
 * table_ibfk_N follows the table's target name, as the translator names it (ddl-foreign.ts).
 */
export function foreignKeyName(table: string, name: string): string {
  const m = /_ibfk_(\d+)$/.exec(name);
  return m && name === `${table}_ibfk_${m[1]}` ? fitName(`${fitName(table)}_ibfk_${m[1]}`) : fitName(name);
}

/**
 * The MySQL index name a target index stands for, when it follows the `table_index` rule;
 * undefined for hashed names and names given by other tools.
 */
export function mysqlIndexName(table: string, targetIndex: string): string | undefined {
  const prefix = `${table}_`;
  if (!targetIndex.startsWith(prefix) || targetIndex.length === prefix.length) return undefined;
  const m = targetIndex.slice(prefix.length);
  return indexName(table, m) === targetIndex ? m : undefined;
}

/** The server's name for an unnamed index: its first column, then name_2, name_3... */
export function autoIndexName(first: string | undefined, taken: (name: string) => boolean): string {
  const base = first ?? "functional_index";
  if (!taken(base) && base.toUpperCase() !== "PRIMARY") return base;
  for (let k = 2; ; k++) if (!taken(`${base}_${k}`)) return `${base}_${k}`;
}

/** A string literal that reads the same whatever standard_conforming_strings is. */
export function literal(s: string): string {
  const quoted = s.replace(/'/g, "''");
  return s.includes("\\") ? `E'${quoted.replace(/\\/g, "\\\\")}'` : `'${quoted}'`;
}

export const sameName = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();
