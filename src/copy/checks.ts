// What copy refuses before it loads anything, each with the flag that lets it go on knowingly:
// tables no snapshot reads consistently (--allow-non-transactional) and target tables that
// already hold rows no copy recorded (--truncate-existing).

import type postgres from "postgres";
import type { Config } from "../config/types.ts";
import { fitName, qualifiedTable, targetSchema } from "../dialect/identifiers.ts";
import { ReplicateError } from "../errors.ts";
import type { SourceTable } from "./schema.ts";

const TRANSACTIONAL = new Set(["innodb", "xtradb", "rocksdb", "tokudb", "ndbcluster"]);

export function refuseNonTransactional(tables: SourceTable[], allowed: boolean): void {
  const bad = tables.filter((t) => !TRANSACTIONAL.has(t.engine.toLowerCase()));
  if (bad.length === 0 || allowed) return;
  throw new ReplicateError(
    "COPY_NOT_TRANSACTIONAL",
    `${bad.map((t) => `${t.database}.${t.table} (${t.engine})`).join(", ")}: not transactional, so no snapshot reads ${bad.length === 1 ? "it" : "them"} consistently while written. Convert to InnoDB, or make sure nothing writes to ${bad.length === 1 ? "it" : "them"} during the copy and run copy --allow-non-transactional`,
    { where: `${bad[0]!.database}.${bad[0]!.table}` },
  );
}

export async function targetTableExists(tx: Pick<postgres.Sql, "unsafe">, cfg: Config, t: SourceTable): Promise<boolean> {
  // By name in the catalog: openGauss has no to_regclass.
  const [r] = await tx.unsafe(
    `SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')) AS present`,
    [targetSchema(t.database, cfg.target!.schema_mapping), fitName(t.table)],
  );
  return r?.present === true;
}

export async function refuseFilledTargets(sql: postgres.Sql, cfg: Config, tables: SourceTable[], truncate: boolean): Promise<void> {
  if (truncate) return;
  const filled: string[] = [];
  for (const t of tables) {
    if (!(await targetTableExists(sql, cfg, t))) continue;
    const [r] = await sql.unsafe(`SELECT EXISTS (SELECT 1 FROM ${qualifiedTable(t.database, t.table, cfg.target!.schema_mapping)}) AS filled`);
    if (r?.filled === true) filled.push(`${t.database}.${t.table}`);
  }
  if (filled.length > 0) {
    throw new ReplicateError(
      "COPY_TARGET_NOT_EMPTY",
      `the target already holds rows in ${filled.join(", ")}, which no copy recorded: copying would double them. Empty or drop ${filled.length === 1 ? "it" : "them"}, or run copy --truncate-existing to empty ${filled.length === 1 ? "it" : "them"} first`,
      { where: filled[0] },
    );
  }
}
