// What copy refuses before it loads anything: a sink working on the target (now, or before: copy
// comes first), and, each with the flag that lets it go on knowingly, tables no snapshot reads
// consistently (--allow-non-transactional) and target tables that already hold rows no copy
// recorded (--truncate-existing).

import type postgres from "postgres";
import type { Config } from "../config/types.ts";
import { fitName, qualifiedTable, targetSchema } from "../dialect/identifiers.ts";
import { CHECKPOINT_SCHEMA, SINK_LOCK_KEYS } from "../checkpoint-names.ts";
import { ReplicateError } from "../errors.ts";
import { relationExists } from "../dialect/relations.ts";
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
  return relationExists(tx, targetSchema(t.database, cfg.target!.schema_mapping), fitName(t.table), true);
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

/**
 * Holds the sink's lock for the copy's lifetime (released by the returned function): a sink
 * started meanwhile stops with SINK_ALREADY_RUNNING instead of applying into half-loaded tables,
 * and a second copy cannot run at once. Refused while a sink (or copy) holds it.
 */
export async function holdTarget(sql: postgres.Sql): Promise<() => void> {
  const conn = await sql.reserve();
  const [r] = await conn.unsafe(`SELECT pg_try_advisory_lock(${SINK_LOCK_KEYS}) AS ok`);
  if (r?.ok !== true) {
    conn.release();
    throw new ReplicateError(
      "COPY_TARGET_BUSY",
      "a sink or another copy works on this target database now (it holds gs-replicate's lock): the copy comes before the sink; stop it, then run copy again",
    );
  }
  return () => {
    void conn
      .unsafe(`SELECT pg_advisory_unlock(${SINK_LOCK_KEYS})`)
      .catch(() => {})
      .finally(() => conn.release());
  };
}

/** An unfinished copy into a target where a sink has already applied transactions: the copy comes before the sink. */
export async function refuseAfterSink(sql: Pick<postgres.Sql, "unsafe">): Promise<void> {
  if (!(await relationExists(sql, CHECKPOINT_SCHEMA, "progress"))) return;
  const [low] = await sql.unsafe(`SELECT low_water::text AS lw, (SELECT count(*) FROM ${CHECKPOINT_SCHEMA}.applied)::text AS n FROM ${CHECKPOINT_SCHEMA}.progress WHERE id = 1`);
  if (low && (low.lw !== "0" || low.n !== "0")) {
    throw new ReplicateError(
      "COPY_TARGET_BUSY",
      `a sink has already applied the log into this target database (${CHECKPOINT_SCHEMA}.progress at log offset ${low.lw}): the copy comes before the sink. Start the migration in a fresh database (or drop the copied tables and the ${CHECKPOINT_SCHEMA} schema) with a new log`,
    );
  }
}
