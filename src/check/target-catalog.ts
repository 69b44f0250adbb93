// The target tables of the mapped schemas, as both the preflight and the data check read them:
// columns in format_type() spelling (what src/dialect/types.ts maps to) and the user's rights.

import type postgres from "postgres";

export interface TargetColumnInfo {
  name: string;
  /** format_type() spelling, e.g. "character varying(20)". */
  type: string;
  notNull: boolean;
  hasDefault: boolean;
  /** Part of the table's primary key (where the sink stores MySQL's zero date as -infinity). */
  inPrimaryKey: boolean;
}

export interface TargetTable {
  schema: string;
  name: string;
  columns: TargetColumnInfo[];
  privileges: { usage: boolean; select: boolean; insert: boolean; update: boolean; delete: boolean };
}

/** Tables (and partitioned tables) of `schemas`, keyed "schema.table". */
export async function readTargetTables(sql: Pick<postgres.Sql, "unsafe">, schemas: readonly string[]): Promise<Map<string, TargetTable>> {
  const rows = await sql.unsafe(
    `SELECT n.nspname AS s, c.relname AS t, a.attname AS col, format_type(a.atttypid, a.atttypmod) AS typ, a.attnotnull AS nn,
            a.atthasdef AS def,
            EXISTS (SELECT 1 FROM pg_index x JOIN generate_series(0, 63) AS k(i) ON k.i < x.indnatts
                     WHERE x.indrelid = c.oid AND x.indisprimary AND x.indkey[k.i] = a.attnum) AS pk,
            has_schema_privilege(n.oid, 'USAGE') AS p_usage, has_table_privilege(c.oid, 'SELECT') AS p_select,
            has_table_privilege(c.oid, 'INSERT') AS p_insert, has_table_privilege(c.oid, 'UPDATE') AS p_update,
            has_table_privilege(c.oid, 'DELETE') AS p_delete
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY($1::text[])
      ORDER BY n.nspname, c.relname, a.attnum`,
    [[...schemas]],
  );
  const out = new Map<string, TargetTable>();
  for (const r of rows) {
    const key = `${r.s}.${r.t}`;
    let t = out.get(key);
    if (!t) {
      t = {
        schema: r.s as string,
        name: r.t as string,
        columns: [],
        privileges: { usage: r.p_usage as boolean, select: r.p_select as boolean, insert: r.p_insert as boolean, update: r.p_update as boolean, delete: r.p_delete as boolean },
      };
      out.set(key, t);
    }
    if (r.col !== null) t.columns.push({ name: r.col as string, type: r.typ as string, notNull: r.nn as boolean, hasDefault: r.def as boolean, inPrimaryKey: r.pk === true });
  }
  return out;
}
