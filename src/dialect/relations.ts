// Whether a relation exists in the target, by name in the catalog (openGauss has no
// to_regclass): one query for every "is the checkpoint / ledger / table there yet" question.

import type postgres from "postgres";

/** `tablesOnly`: ordinary and partitioned tables only (not views, sequences, indexes). */
export async function relationExists(sql: Pick<postgres.Sql, "unsafe">, schema: string, name: string, tablesOnly = false): Promise<boolean> {
  const [r] = await sql.unsafe(
    `SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2${tablesOnly ? " AND c.relkind IN ('r', 'p')" : ""}) AS present`,
    [schema, name],
  );
  return r?.present === true;
}
