// The copy's target DDL, through the sink's translator (src/dialect/ddl.ts) against the target's
// catalog read in the same transaction: the tables before the data, their indexes and foreign
// keys after it. What the target does not get (FULLTEXT/SPATIAL/functional indexes, CHECKs,
// partitioning it cannot follow) stops the copy before anything is created, unless the operator
// named the object (--skip-object); each one let through is recorded in gs_replicate.skipped_objects
// as the sink records it, and listed by `check`.

import type postgres from "postgres";
import type { Ddl } from "../binlog/ddl-model.ts";
import type { BinlogConnection } from "../binlog/connection.ts";
import type { Config } from "../config/types.ts";
import { setNextValue } from "../dialect/sequences.ts";
import { readTargetCatalog, type SkippedObject, translateDdl } from "../dialect/ddl.ts";
import { OBJECTS_DDL, saveSkippedObjects } from "../dialect/skipped-store.ts";
import { isRetriable, ReplicateError } from "../errors.ts";
import { log } from "../runtime/log.ts";
import type { Handover } from "./handover.ts";
import { foreignKeysOf, indexesOf, type SourceObject, type SourceTable, tableOnly } from "./schema.ts";

type Runner = Pick<postgres.Sql, "unsafe">;

/** What every translation of the copy shares: the configuration, the hand-over position, the source's flavour. */
export interface SchemaEnv {
  cfg: Config;
  at: Handover;
  flavour: "mysql" | "mariadb";
}

/** The name an operator gives --skip-object: db.table.object, or db.object for views, routines, events. */
function objectName(o: SkippedObject, database: string): string {
  return o.table === "" ? `${database}.${o.name}` : `${database}.${o.table}.${o.name}`;
}

export async function ensureObjectsTable(sql: Runner): Promise<void> {
  await sql.unsafe(OBJECTS_DDL.replace("CREATE TABLE ", "CREATE TABLE IF NOT EXISTS "));
}

function contextFor({ cfg, at, flavour }: SchemaEnv, catalog: Awaited<ReturnType<typeof readTargetCatalog>>, foreignKeyChecks = true) {
  const target = cfg.target!;
  return {
    dialect: target.dialect,
    schemaMapping: target.schema_mapping,
    gtid: at.gtid,
    position: `${at.file}:${at.pos}`,
    catalog,
    flavour,
    zeroDate: cfg.sink.zero_date,
    foreignKeyChecks,
    untranslatable: "record" as const,
  };
}

/**
 * Every object the target will not get, translated dry (nothing runs): those not named by
 * --skip-object stop the copy here, before anything is created.
 */
export async function refuseUntranslatable(sql: Runner, env: SchemaEnv, tables: SourceTable[], skip: ReadonlySet<string>): Promise<void> {
  const refused: string[] = [];
  for (const t of tables) {
    const first = tableOnly(t);
    const one = translateDdl(first, contextFor(env, await readTargetCatalog(sql, first, env.cfg.target!.schema_mapping)));
    const seen = [...one.skipped];
    const idx = indexesOf(t);
    if (idx) seen.push(...translateDdl(idx, contextFor(env, one.catalog)).skipped);
    for (const s of seen) {
      if (!s.object) continue;
      const name = objectName(s.object, t.database);
      if (!skip.has(name)) refused.push(`${name} (${s.object.kind}: ${s.reason})`);
    }
  }
  if (refused.length > 0) {
    throw new ReplicateError(
      "COPY_UNTRANSLATABLE",
      `${refused.length} object(s) of the source cannot be created exactly on the target: ${refused.join("; ")}. Nothing was created. To go on without them, run copy again with --skip-object ${refused.map((r) => r.split(" ")[0]).join(",")}: each is recorded in gs_replicate.skipped_objects with what to do at cutover`,
      { where: refused[0]!.split(" ")[0] },
    );
  }
}

/** Runs one translated statement set in `tx`, recording what the target does not get. */
async function run(tx: Runner, env: SchemaEnv, ddl: Ddl, foreignKeyChecks = true): Promise<void> {
  const catalog = await readTargetCatalog(tx, ddl, env.cfg.target!.schema_mapping);
  const out = translateDdl(ddl, contextFor(env, catalog, foreignKeyChecks));
  const what = ddl.kind === "create_table" || ddl.kind === "alter_table" ? `${ddl.table.database}.${ddl.table.table}` : ddl.kind === "create_database" ? ddl.name : "copy";
  for (const s of out.statements) {
    try {
      await tx.unsafe(s);
    } catch (err) {
      if (isRetriable(err)) throw err;
      throw new ReplicateError("TARGET_DDL_INCOMPATIBLE", `the target refused a statement of ${what}: ${(err as Error).message}; statement: ${s.slice(0, 300)}`, {
        where: what,
        cause: err,
      });
    }
  }
  const objects = out.skipped.flatMap((s) => (s.object ? [s.object] : []));
  for (const s of out.skipped) if (!s.object) log.warn(`${what}: ${s.part}: not created on the target: ${s.reason}`);
  for (const n of out.notes) log.info(n);
  if (objects.length > 0) await saveSkippedObjects(tx, [], objects, env.at);
}

/** The schema of a copied database (CREATE DATABASE as the sink translates it; kept when it exists). */
export async function createSchema(tx: Runner, env: SchemaEnv, database: string): Promise<void> {
  const ddl: Ddl = { kind: "create_database", name: database, ifNotExists: true, orReplace: false, statement: `CREATE DATABASE IF NOT EXISTS \`${database}\`` };
  await run(tx, env, ddl);
}

/** Step 1: the table, without its other indexes and foreign keys. */
export async function createTable(tx: Runner, env: SchemaEnv, t: SourceTable): Promise<void> {
  await run(tx, env, tableOnly(t));
}

/** Step 2: its other indexes, after the data. */
export async function createIndexes(tx: Runner, env: SchemaEnv, t: SourceTable): Promise<void> {
  const idx = indexesOf(t);
  if (idx) await run(tx, env, idx);
}

/**
 * Step 3: its foreign keys, once every table has its keys. Added as MySQL would under
 * FOREIGN_KEY_CHECKS=0 (NOT VALID: rows already there are not checked, as InnoDB never
 * rechecks them either; new rows are), so an orphan the source keeps does not fail the copy at
 * its very end; `check --data` compares the rows.
 */
export async function createForeignKeys(tx: Runner, env: SchemaEnv, t: SourceTable): Promise<void> {
  const fk = foreignKeysOf(t);
  if (fk) await run(tx, env, fk, false);
}

/** Views, triggers, routines and events: recorded as the sink records them, never created. */
export async function recordObjects(tx: Runner, env: SchemaEnv, objects: SourceObject[]): Promise<SkippedObject[]> {
  const all: SkippedObject[] = [];
  for (const o of objects) {
    const catalog = await readTargetCatalog(tx, o.ddl, env.cfg.target!.schema_mapping);
    const out = translateDdl(o.ddl, contextFor(env, catalog));
    all.push(...out.skipped.flatMap((s) => (s.object ? [s.object] : [])));
  }
  if (all.length > 0) await saveSkippedObjects(tx, [], all, env.at);
  return all;
}

/** AUTO_INCREMENT: the target's sequence set to the source's next value as the copy ends. */
export async function setSequences(sql: postgres.Sql, conn: BinlogConnection, cfg: Config, tables: SourceTable[]): Promise<void> {
  for (const t of tables) {
    const col = t.create.columns.find((c) => c.autoIncrement);
    if (!col) continue;
    const [r] = await conn.query<{ n: string | number | null }>(
      `SELECT AUTO_INCREMENT AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${t.database.replace(/'/g, "''")}' AND TABLE_NAME = '${t.table.replace(/'/g, "''")}'`,
    );
    if (r?.n === null || r?.n === undefined) continue;
    await setNextValue(sql, cfg.target!.schema_mapping, t.database, t.table, col.name, String(r.n));
  }
}
