// `gs-replicate copy`: the target schema and a consistent initial copy, handed over to `source`.
//
//   1. schema    the tables to copy and their definitions (SHOW CREATE TABLE), the hand-over
//                position P read between two identical readings of them, the chunk plan: all
//                in the ledger in one target transaction; then P into the log (handover.ts)
//   2. tables    each target table created (without its other indexes and foreign keys)
//   3. data      chunks read in consistent views (snapshots.ts) over [copy] parallel
//                connections and loaded with COPY, each with its position (load.ts); a table
//                whose definition changed meanwhile stops the copy (COPY_SCHEMA_CHANGED)
//   4. indexes   each table's indexes, then every table's foreign keys; AUTO_INCREMENT
//                sequences set to the source's next value; views, triggers, routines and
//                events recorded as not migrated
// Every step is recorded in the ledger (ledger.ts) in the transaction that did it, so a rerun
// after kill -9 goes on where the last one stopped; a finished copy run again changes nothing.

import type postgres from "postgres";
import { BinlogConnection } from "../binlog/connection.ts";
import { SchemaHistory } from "../binlog/schema.ts";
import type { Config } from "../config/types.ts";
import { connectTarget, checkTarget } from "../dialect/connect.ts";
import { targetCompatibilityProblem } from "../dialect/compat.ts";
import { fitName, qualifiedTable, targetSchema } from "../dialect/identifiers.ts";
import { ReplicateError } from "../errors.ts";
import { log } from "../runtime/log.ts";
import { planRanges, splitColumnOf } from "./chunks.ts";
import { type Handover, writeHandover } from "./handover.ts";
import * as ledger from "./ledger.ts";
import { loadAllChunks } from "./chunk-runner.ts";
import { CopyProgress } from "./progress.ts";
import { SESSION_SETUP } from "./rows.ts";
import { databasesOf, readObjects, readTables, showCreateTable, type SourceTable } from "./schema.ts";
import { openSnapshots } from "./snapshots.ts";
import {
  createForeignKeys,
  createIndexes,
  createSchema,
  createTable,
  ensureObjectsTable,
  recordObjects,
  refuseUntranslatable,
  type SchemaEnv,
  setSequences,
} from "./target-schema.ts";
import { holdTarget, refuseAfterSink, refuseFilledTargets, refuseNonTransactional, targetTableExists } from "./checks.ts";

interface CopyOptions {
  config: Config;
  /** --skip-object: objects the target does not get that the operator accepts to leave out. */
  skipObjects: ReadonlySet<string>;
  truncateExisting: boolean;
  allowNonTransactional: boolean;
  signal: AbortSignal;
}

export interface CopyReport {
  status: "copied" | "already complete";
  tables: number;
  rows: number;
  bytes: number;
  seconds: number;
  snapshot: "lock-free" | "lock" | null;
  lockHeldMs: number | null;
  handover: Handover;
  handoverInLog: boolean;
  notMigrated: Array<{ kind: string; name: string; cutover: string }>;
}

const SCHEMA_TRIES = 5;

export async function runCopy(o: CopyOptions): Promise<CopyReport> {
  const cfg = o.config;
  const started = Date.now();
  const sql = connectTarget(cfg.target!, cfg.copy.parallel + 2);
  const control = await BinlogConnection.open(cfg.source!);
  let release: (() => void) | undefined;
  try {
    await checkTarget(sql, cfg.target!);
    const problem = await targetCompatibilityProblem(sql, cfg.target!.dialect);
    if (problem) throw new ReplicateError("TARGET_INCOMPATIBLE", `${problem.found}; nothing was copied: ${problem.fix}`, { where: cfg.target!.database });
    release = await holdTarget(sql);
    await ledger.ensureLedger(sql);
    await ensureObjectsTable(sql);
    await ledger.startRun(sql);
    let run = (await ledger.loadRun(sql))!;
    const flavour = control.info.flavour;
    if (run.state === "done" && run.handover) {
      const chunks = await ledger.loadChunks(sql);
      log.info(`the copy into this target is already complete (hand-over at ${run.handover.file}:${run.handover.pos}): nothing to do`);
      return {
        status: "already complete",
        tables: (await ledger.loadTables(sql)).length,
        rows: chunks.reduce((a, c) => a + c.rows, 0),
        bytes: chunks.reduce((a, c) => a + c.bytes, 0),
        seconds: (Date.now() - started) / 1000,
        snapshot: null,
        lockHeldMs: null,
        handover: run.handover,
        handoverInLog: run.handoverLogged,
        notMigrated: [],
      };
    }
    await refuseAfterSink(sql);
    const databases = await databasesOf(control, cfg.source!.databases);
    let history: SchemaHistory | null = null;
    let tables: SourceTable[];
    if (!run.handover) {
      const read = await consistentSchema(control, databases);
      history = read.history;
      tables = read.tables;
      refuseNonTransactional(tables, o.allowNonTransactional);
      const env: SchemaEnv = { cfg, at: read.at, flavour };
      await refuseUntranslatable(sql, env, tables, o.skipObjects);
      await sql.begin(async (tx) => {
        await ledger.saveHandover(tx, read.at);
        for (const t of tables) {
          const split = splitColumnOf(t);
          const ranges = await planRanges(control, t, split, cfg.copy.chunk_rows);
          await ledger.planTable(
            tx,
            {
              database: t.database,
              table: t.table,
              targetSchema: targetSchema(t.database, cfg.target!.schema_mapping),
              targetTable: fitName(t.table),
              definition: t.definition,
              splitColumn: split,
              state: "planned",
            },
            ranges,
          );
        }
      });
      run = (await ledger.loadRun(sql))!;
      log.info(
        `copy: ${tables.length} tables of ${databases.join(", ")} planned; hand-over position ${read.at.file}:${read.at.pos}${read.at.gtid ? ` (GTID ${read.at.gtid})` : ""}`,
      );
    } else {
      tables = await tablesOfLedger(sql, control, databases);
      refuseNonTransactional(tables, o.allowNonTransactional);
    }
    const at = run.handover!;
    const env: SchemaEnv = { cfg, at, flavour };
    let handoverInLog = run.handoverLogged;
    if (cfg.transport && !run.handoverLogged) {
      const r = await writeHandover(cfg, control, at, history);
      await ledger.markHandoverLogged(sql);
      handoverInLog = true;
      log.info(`hand-over ${r === "written" ? "written to" : "found in"} the log: source started on it resumes at ${at.file}:${at.pos}`);
    }
    const states = new Map((await ledger.loadTables(sql)).map((t) => [`${t.database}.${t.table}`, t.state]));
    const stateOf = (t: SourceTable) => states.get(`${t.database}.${t.table}`)!;
    // 2. tables
    if (tables.some((t) => stateOf(t) === "planned")) {
      for (const d of new Set(tables.map((t) => t.database))) await sql.begin((tx) => createSchema(tx, env, d));
    }
    await refuseFilledTargets(
      sql,
      cfg,
      tables.filter((t) => stateOf(t) === "planned"),
      o.truncateExisting,
    );
    for (const t of tables.filter((t) => stateOf(t) === "planned")) {
      stopIfAsked(o.signal);
      await sql.begin(async (tx) => {
        if (await targetTableExists(tx, cfg, t)) {
          if (o.truncateExisting) await tx.unsafe(`TRUNCATE ${qualifiedTable(t.database, t.table, cfg.target!.schema_mapping)}`);
          log.info(`${t.database}.${t.table}: the target table exists (made by hand or an earlier tool): loading into it as it is`);
        } else {
          await createTable(tx, env, t);
        }
        await ledger.setTableState(tx, t.database, t.table, "created");
      });
      states.set(`${t.database}.${t.table}`, "created");
    }
    await ledger.setRunState(sql, "data");
    // 3. data
    const progress = new CopyProgress(cfg.log.progress_seconds, tables);
    const chunks = (await ledger.loadChunks(sql)).filter((c) => c.at === null);
    const loading = tables.filter((t) => stateOf(t) === "created");
    let snapshot: "lock-free" | "lock" | null = null;
    let lockHeldMs: number | null = null;
    if (chunks.length > 0) {
      const snaps = await openSnapshots(cfg.source!, cfg.copy, control, SESSION_SETUP);
      snapshot = snaps.mode;
      lockHeldMs = snaps.lockHeldMs;
      try {
        await loadAllChunks({
          sql,
          snaps,
          tables: loading,
          chunks,
          parallel: cfg.copy.parallel,
          mapping: cfg.target!.schema_mapping,
          ctx: { zeroDate: cfg.sink.zero_date },
          progress,
          signal: o.signal,
          tableLoaded: (t) => tableLoaded(sql, control, t, progress),
        });
      } finally {
        await snaps.close();
      }
      stopIfAsked(o.signal);
    }
    for (const t of loading)
      if (states.get(`${t.database}.${t.table}`) === "created" && !chunks.some((c) => c.database === t.database && c.table === t.table))
        await tableLoaded(sql, control, t, progress);
    progress.report("data loaded");
    progress.stop();
    // 4. indexes, foreign keys, sequences, objects
    await ledger.setRunState(sql, "indexes");
    const now = new Map((await ledger.loadTables(sql)).map((t) => [`${t.database}.${t.table}`, t.state]));
    for (const t of tables.filter((t) => now.get(`${t.database}.${t.table}`) === "loaded")) {
      stopIfAsked(o.signal);
      const began = Date.now();
      await sql.begin(async (tx) => {
        await createIndexes(tx, env, t);
        await ledger.setTableState(tx, t.database, t.table, "indexed");
      });
      if (t.create.indexes.length > 0) log.info(`${t.database}.${t.table}: ${t.create.indexes.length} index(es) created in ${((Date.now() - began) / 1000).toFixed(1)} s`);
    }
    for (const t of tables.filter((t) => now.get(`${t.database}.${t.table}`) !== "done")) {
      await sql.begin(async (tx) => {
        await createForeignKeys(tx, env, t);
        await ledger.setTableState(tx, t.database, t.table, "done");
      });
    }
    await setSequences(sql, control, cfg, tables);
    const objects = await readObjects(control, databases);
    let recorded: Awaited<ReturnType<typeof recordObjects>> = [];
    await sql.begin(async (tx) => {
      recorded = await recordObjects(tx, env, objects);
      await ledger.setRunState(tx, "done");
    });
    const all = await ledger.loadChunks(sql);
    return {
      status: "copied",
      tables: tables.length,
      rows: all.reduce((a, c) => a + c.rows, 0),
      bytes: all.reduce((a, c) => a + c.bytes, 0),
      seconds: (Date.now() - started) / 1000,
      snapshot,
      lockHeldMs,
      handover: at,
      handoverInLog,
      notMigrated: recorded.map((r) => ({ kind: r.kind, name: r.table === "" ? `${r.schema}.${r.name}` : `${r.schema}.${r.table}.${r.name}`, cutover: r.cutover })),
    };
  } finally {
    release?.();
    control.close();
    await sql.end({ timeout: 5 });
  }
}

/** A stop (SIGTERM, SIGINT) between two steps: what is done is in the ledger. */
function stopIfAsked(signal: AbortSignal): void {
  if (signal.aborted) throw new ReplicateError("COPY_INTERRUPTED", "copy stopped on a signal before it finished: run it again to finish (the steps and chunks done are kept)");
}

/**
 * The tables and P, consistent: the definitions read, then P, then the definitions again; equal
 * readings mean no DDL finished in between, so P's rows have these shapes. What this cannot see:
 * a DDL whose new definition is visible before its binlog event is written, at the very moment
 * of P; the sink would then replay it on a table that has it already and stop on the target's
 * error (loud, never silent), and the migration starts again.
 */
async function consistentSchema(conn: BinlogConnection, databases: string[]): Promise<{ tables: SourceTable[]; history: SchemaHistory; at: Handover }> {
  for (let i = 1; ; i++) {
    const history = await SchemaHistory.snapshot((s) => conn.query(s), databases);
    const tables = await readTables(conn, databases, history);
    const pos = await conn.currentPosition();
    const gtid = conn.info.flavour === "mariadb" ? await gtidAt(conn, pos) : null;
    const again = await readTables(conn, databases, await SchemaHistory.snapshot((s) => conn.query(s), databases));
    const same =
      again.length === tables.length && again.every((t, k) => t.definition === tables[k]!.definition && t.database === tables[k]!.database && t.table === tables[k]!.table);
    if (same) return { tables, history, at: { ...pos, gtid } };
    if (i >= SCHEMA_TRIES) throw new ReplicateError("COPY_SCHEMA_CHANGED", `the source's schema changed ${i} times while copy read it: run copy when no DDL runs`);
    log.info("a definition changed while it was read: reading the schema again");
  }
}

async function gtidAt(conn: BinlogConnection, pos: { file: string; pos: number }): Promise<string | null> {
  const esc = pos.file.replace(/'/g, "''");
  const [r] = await conn.query<{ g: string | null }>(`SELECT BINLOG_GTID_POS('${esc}', ${pos.pos}) AS g`);
  return r?.g || null;
}

/** A rerun: the tables the ledger planned, as the source has them now (unfinished ones must not have changed). */
async function tablesOfLedger(sql: postgres.Sql, conn: BinlogConnection, databases: string[]): Promise<SourceTable[]> {
  const planned = await ledger.loadTables(sql);
  const now = await readTables(conn, databases, await SchemaHistory.snapshot((s) => conn.query(s), databases));
  const out: SourceTable[] = [];
  for (const p of planned) {
    const t = now.find((n) => n.database === p.database && n.table === p.table);
    const unfinished = p.state === "planned" || p.state === "created";
    if (!t) {
      if (unfinished) throw schemaChanged(p.database, p.table, "was dropped or renamed on the source");
      continue;
    }
    if (unfinished && t.definition !== p.definition) throw schemaChanged(p.database, p.table, "was altered on the source");
    out.push(t);
  }
  return out;
}

function schemaChanged(database: string, table: string, what: string): ReplicateError {
  return new ReplicateError(
    "COPY_SCHEMA_CHANGED",
    `${database}.${table} ${what} while copy had not finished loading it: its chunks would not all have one shape. Start the migration again (drop the copied tables and the gs_replicate schema on the target, a new log) when no DDL runs on it`,
    { where: `${database}.${table}` },
  );
}

async function tableLoaded(sql: postgres.Sql, conn: BinlogConnection, t: SourceTable, progress: CopyProgress): Promise<void> {
  if ((await showCreateTable(conn, t.database, t.table)) !== t.definition) throw schemaChanged(t.database, t.table, "was altered on the source");
  await ledger.setTableState(sql, t.database, t.table, "loaded");
  progress.tableDone(t);
}
