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
import { fitName, qualifiedTable, targetIdent, targetSchema } from "../dialect/identifiers.ts";
import { ReplicateError } from "../errors.ts";
import { log } from "../runtime/log.ts";
import { planRanges, splitColumnOf } from "./chunks.ts";
import { type Handover, writeHandover } from "./handover.ts";
import * as ledger from "./ledger.ts";
import { loadChunk } from "./load.ts";
import { CopyProgress } from "./progress.ts";
import { SESSION_SETUP } from "./rows.ts";
import { databasesOf, readObjects, readTables, showCreateTable, type SourceTable } from "./schema.ts";
import { openSnapshots } from "./snapshots.ts";
import { createForeignKeys, createIndexes, createSchema, createTable, ensureObjectsTable, recordObjects, refuseUntranslatable, type SchemaEnv } from "./target-schema.ts";

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

const TRANSACTIONAL = new Set(["innodb", "xtradb", "rocksdb", "tokudb", "ndbcluster"]);
const SCHEMA_TRIES = 5;

export async function runCopy(o: CopyOptions): Promise<CopyReport> {
  const cfg = o.config;
  const started = Date.now();
  const sql = connectTarget(cfg.target!, cfg.copy.parallel + 2);
  const control = await BinlogConnection.open(cfg.source!);
  try {
    await checkTarget(sql, cfg.target!);
    const problem = await targetCompatibilityProblem(sql, cfg.target!.dialect);
    if (problem) throw new ReplicateError("TARGET_INCOMPATIBLE", `${problem.found}; nothing was copied: ${problem.fix}`, { where: cfg.target!.database });
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
        const byTable = new Map(loading.map((t) => [`${t.database}.${t.table}`, t]));
        const left = new Map<string, number>();
        for (const c of chunks) left.set(`${c.database}.${c.table}`, (left.get(`${c.database}.${c.table}`) ?? 0) + 1);
        const queue = chunks.filter((c) => byTable.has(`${c.database}.${c.table}`));
        const worker = async () => {
          for (let c = queue.shift(); c !== undefined && !o.signal.aborted; c = queue.shift()) {
            const t = byTable.get(`${c.database}.${c.table}`)!;
            const view = await snaps.take();
            let ok = false;
            try {
              await loadChunk(view, sql, { table: t, split: splitColumnOf(t), chunk: c }, cfg.target!.schema_mapping, { zeroDate: cfg.sink.zero_date }, (n, b) =>
                progress.add(t, n, b),
              );
              ok = true;
            } finally {
              await snaps.give(view, ok);
            }
            const key = `${c.database}.${c.table}`;
            const remaining = left.get(key)! - 1;
            left.set(key, remaining);
            if (remaining === 0) await tableLoaded(sql, control, t, progress);
          }
        };
        await Promise.all(Array.from({ length: Math.min(cfg.copy.parallel, queue.length) }, worker));
      } finally {
        await snaps.close();
      }
      if (o.signal.aborted) throw new ReplicateError("COPY_SNAPSHOT", "copy stopped on a signal; run it again to finish (loaded chunks are kept)", { retriable: true });
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
    control.close();
    await sql.end({ timeout: 5 });
  }
}

/**
 * The tables and P, consistent: the definitions read, then P, then the definitions again; equal
 * readings mean no DDL finished in between, so P's rows have these shapes.
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

function refuseNonTransactional(tables: SourceTable[], allowed: boolean): void {
  const bad = tables.filter((t) => !TRANSACTIONAL.has(t.engine.toLowerCase()));
  if (bad.length === 0 || allowed) return;
  throw new ReplicateError(
    "COPY_NOT_TRANSACTIONAL",
    `${bad.map((t) => `${t.database}.${t.table} (${t.engine})`).join(", ")}: not transactional, so no snapshot reads ${bad.length === 1 ? "it" : "them"} consistently while written. Convert to InnoDB, or make sure nothing writes to ${bad.length === 1 ? "it" : "them"} during the copy and run copy --allow-non-transactional`,
    { where: `${bad[0]!.database}.${bad[0]!.table}` },
  );
}

async function targetTableExists(tx: Pick<postgres.Sql, "unsafe">, cfg: Config, t: SourceTable): Promise<boolean> {
  // By name in the catalog: openGauss has no to_regclass.
  const [r] = await tx.unsafe(
    `SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')) AS present`,
    [targetSchema(t.database, cfg.target!.schema_mapping), fitName(t.table)],
  );
  return r?.present === true;
}

async function refuseFilledTargets(sql: postgres.Sql, cfg: Config, tables: SourceTable[], truncate: boolean): Promise<void> {
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

/** AUTO_INCREMENT: the target's sequence set to the source's next value as the copy ends. */
async function setSequences(sql: postgres.Sql, conn: BinlogConnection, cfg: Config, tables: SourceTable[]): Promise<void> {
  for (const t of tables) {
    const col = t.create.columns.find((c) => c.autoIncrement);
    if (!col) continue;
    const [r] = await conn.query<{ n: string | number | null }>(
      `SELECT AUTO_INCREMENT AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${t.database.replace(/'/g, "''")}' AND TABLE_NAME = '${t.table.replace(/'/g, "''")}'`,
    );
    if (r?.n === null || r?.n === undefined) continue;
    const table = qualifiedTable(t.database, t.table, cfg.target!.schema_mapping);
    const [s] = await sql.unsafe(`SELECT pg_get_serial_sequence($1, $2) AS seq`, [table, targetIdent(col.name).slice(1, -1)]);
    if (!s?.seq) continue;
    await sql.unsafe(`SELECT setval($1::regclass, $2::bigint, false)`, [s.seq, String(r.n)]);
  }
}
