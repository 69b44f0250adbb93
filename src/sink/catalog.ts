// What the sink must know of the target's tables: for the scheduler, secondary unique keys (two
// transactions inserting the same unique value conflict though their primary keys differ) and
// foreign keys (a child row must not overtake its parent); for the values, the primary key's
// columns, which cannot hold NULL (values.ts: MySQL's zero date is -infinity there). Read from
// the target's catalog at start and after every DDL; tables linked by foreign keys serialise as
// one group.
// The catalog names tables and columns as the target does (identifiers.ts), the rows as the
// source does. The queries avoid unnest(…) WITH ORDINALITY and cardinality(), which openGauss lacks
// (array_length(a, 1) is NULL for an empty array on both).

import type postgres from "postgres";
import type { LoggedTable } from "../events/decode.ts";
import { fitName, targetSchema } from "../dialect/identifiers.ts";
import type { KeyPolicy } from "./writeset.ts";

export interface TargetKeys {
  /** Per column of `table` (in its order): whether it is in the target table's primary key. */
  targetKey(table: LoggedTable): readonly boolean[];
}

export async function readKeyPolicy(sql: postgres.Sql, mapping: Record<string, string>, databases: string[]): Promise<KeyPolicy & TargetKeys> {
  const schemas = databases.map((d) => targetSchema(d, mapping));
  const uniques = new Map<string, Map<string, string[]>>();
  const primary = new Map<string, Set<string>>();
  // attnum > 0: openGauss keeps the partition (tableoid, -7) as a hidden column of a global index.
  const rows = await sql.unsafe(
    `SELECT n.nspname AS s, c.relname AS t, i.relname AS ix, a.attname AS col, k.i AS ord, x.indisprimary AS pk
       FROM pg_index x
       JOIN pg_class c ON c.oid = x.indrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_class i ON i.oid = x.indexrelid
       JOIN generate_series(0, 63) AS k(i) ON k.i < x.indnatts
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = x.indkey[k.i] AND a.attnum > 0
      WHERE x.indisunique AND (coalesce(array_length($1::text[], 1), 0) = 0 OR n.nspname = ANY($1::text[]))
      ORDER BY 1, 2, 3, 5`,
    [schemas],
  );
  for (const r of rows) {
    const key = `${r.s}.${r.t}`;
    if (r.pk === true) {
      primary.set(key, (primary.get(key) ?? new Set<string>()).add(r.col as string));
      continue;
    }
    const perTable = uniques.get(key) ?? new Map<string, string[]>();
    const cols = perTable.get(r.ix as string) ?? [];
    cols.push(r.col as string);
    perTable.set(r.ix as string, cols);
    uniques.set(key, perTable);
  }
  // A unique index with an expression part (the translator makes MySQL prefix keys
  // left(col, n)) cannot be keyed from row values here: such a table serialises on its own.
  const expression = await sql.unsafe(
    `SELECT DISTINCT n.nspname AS s, c.relname AS t
       FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE x.indisunique AND NOT x.indisprimary AND x.indexprs IS NOT NULL AND (coalesce(array_length($1::text[], 1), 0) = 0 OR n.nspname = ANY($1::text[]))`,
    [schemas],
  );
  const serial = new Set(expression.map((r) => `${r.s}.${r.t}`));
  // Foreign keys: union-find over tables, one group per connected component.
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let p = parent.get(x) ?? x;
    while (p !== (parent.get(p) ?? p)) p = parent.get(p) ?? p;
    parent.set(x, p);
    return p;
  };
  const fks = await sql.unsafe(
    `SELECT cn.nspname AS cs, cc.relname AS ct, pn.nspname AS ps, pc.relname AS pt
       FROM pg_constraint f
       JOIN pg_class cc ON cc.oid = f.conrelid JOIN pg_namespace cn ON cn.oid = cc.relnamespace
       JOIN pg_class pc ON pc.oid = f.confrelid JOIN pg_namespace pn ON pn.oid = pc.relnamespace
      WHERE f.contype = 'f'`,
  );
  for (const r of fks) {
    const a = find(`${r.cs}.${r.ct}`);
    const b = find(`${r.ps}.${r.pt}`);
    if (a !== b) parent.set(a, b);
  }
  const linked = new Set<string>();
  for (const r of fks) {
    linked.add(`${r.cs}.${r.ct}`);
    linked.add(`${r.ps}.${r.pt}`);
  }
  const name = (t: LoggedTable) => `${targetSchema(t.database, mapping)}.${fitName(t.table)}`;
  // Asked for every row image: computed once per table version.
  const keyColumns = new WeakMap<LoggedTable, readonly boolean[]>();
  return {
    targetKey: (t) => {
      let k = keyColumns.get(t);
      if (!k) {
        const cols = primary.get(name(t));
        k = t.names.map((c) => cols?.has(fitName(c)) === true);
        keyColumns.set(t, k);
      }
      return k;
    },
    uniqueKeys: (t) => sourceColumns(t, uniques.get(name(t))),
    fkGroup: (t) => (linked.has(name(t)) ? `fk:${find(name(t))}` : serial.has(name(t)) ? `expr:${name(t)}` : null),
  };
}

/**
 * The unique keys of `t` with the source's column names, which the rows carry; the catalog
 * has the target's (identifiers.ts: names over 63 bytes are shortened there).
 */
function sourceColumns(t: LoggedTable, keys: Map<string, string[]> | undefined): Map<string, string[]> | null {
  if (!keys) return null;
  if (!t.names.some((c) => fitName(c) !== c)) return keys;
  const byTarget = new Map(t.names.map((c) => [fitName(c), c]));
  return new Map([...keys].map(([ix, cols]) => [ix, cols.map((c) => byTarget.get(c) ?? c)]));
}
