// The copy's ledger in the target's gs_replicate schema: what `copy` planned and finished, so
// that a rerun after kill -9 or a target restart finishes the job without loading a chunk
// twice, and what the sink needs to take over exactly (sink/reconcile.ts).
//
//   gs_replicate.copy_run     one row: the copy's state (schema → data → indexes → done), the
//                             hand-over position P (where `source` starts: every chunk was read
//                             at P or later) and whether P is in the log yet
//   gs_replicate.copy_tables  one row per copied table: its source and target names, its source
//                             definition when the copy planned it (a table altered during the
//                             copy is found by comparing), the column its chunks split on
//                             (null: one chunk), its state (planned → created → loaded → indexed → done)
//   gs_replicate.copy_chunks  one row per planned chunk: a range [lo, hi) of the split column
//                             (null: unbounded); once loaded, in the same target transaction as
//                             its rows, the binlog position of the snapshot it was read in and
//                             its row and byte counts
//
// Each chunk has its own snapshot position (lock-free reads open one snapshot per chunk, and a
// rerun reads the chunks left at a later position than the first run's): the sink drops a row
// change of a transaction that began before the position of the chunk holding that row, which
// the chunk already holds (sink/reconcile.ts).

import type postgres from "postgres";
import { CHECKPOINT_SCHEMA } from "../checkpoint-names.ts";
import { relationExists } from "../dialect/relations.ts";
import type { BinlogPosition } from "../binlog/position.ts";

const RUN = `${CHECKPOINT_SCHEMA}.copy_run`;
const TABLES = `${CHECKPOINT_SCHEMA}.copy_tables`;
const CHUNKS = `${CHECKPOINT_SCHEMA}.copy_chunks`;

type Runner = Pick<postgres.Sql, "unsafe">;

type CopyState = "schema" | "data" | "indexes" | "done";
export type TableState = "planned" | "created" | "loaded" | "indexed" | "done";

interface CopyRun {
  state: CopyState;
  /** Where `source` starts; null until the copy found it. */
  handover: (BinlogPosition & { gtid: string | null }) | null;
  /** The hand-over is in the log (a Position record at P, after the schema history). */
  handoverLogged: boolean;
}

export interface LedgerTable {
  database: string;
  table: string;
  targetSchema: string;
  targetTable: string;
  /** SHOW CREATE TABLE when planned, AUTO_INCREMENT=n left out. */
  definition: string;
  /** The integer column the chunks split on; null: the table is one chunk. */
  splitColumn: string | null;
  state: TableState;
}

export interface LedgerChunk {
  database: string;
  table: string;
  chunk: number;
  /** [lo, hi) of the split column, as decimal text; null: unbounded. */
  lo: string | null;
  hi: string | null;
  /** Set once loaded: the binlog position of the snapshot it was read in. */
  at: BinlogPosition | null;
  rows: number;
  bytes: number;
}

const DDL = [
  `CREATE SCHEMA IF NOT EXISTS ${CHECKPOINT_SCHEMA}`,
  `CREATE TABLE IF NOT EXISTS ${RUN} (
    id int PRIMARY KEY CHECK (id = 1), state text NOT NULL, handover_file text, handover_pos bigint, handover_gtid text,
    handover_logged boolean NOT NULL DEFAULT false, started_at timestamptz NOT NULL DEFAULT now(), finished_at timestamptz)`,
  `CREATE TABLE IF NOT EXISTS ${TABLES} (
    schema_name text NOT NULL, table_name text NOT NULL, target_schema text NOT NULL, target_table text NOT NULL,
    definition text NOT NULL, split_column text, state text NOT NULL, PRIMARY KEY (schema_name, table_name))`,
  `CREATE TABLE IF NOT EXISTS ${CHUNKS} (
    schema_name text NOT NULL, table_name text NOT NULL, chunk int NOT NULL, lo numeric, hi numeric,
    snap_file text, snap_pos bigint, rows bigint NOT NULL DEFAULT 0, bytes bigint NOT NULL DEFAULT 0, loaded_at timestamptz,
    PRIMARY KEY (schema_name, table_name, chunk))`,
];

/** Whether the target holds a copy ledger (a copy ran, or runs, into it). */
export async function hasLedger(sql: Runner): Promise<boolean> {
  return relationExists(sql, CHECKPOINT_SCHEMA, "copy_run");
}

export async function ensureLedger(sql: Runner): Promise<void> {
  for (const s of DDL) await sql.unsafe(s);
}

export async function loadRun(sql: Runner): Promise<CopyRun | null> {
  const [r] = await sql.unsafe(`SELECT state, handover_file, handover_pos::text AS pos, handover_gtid, handover_logged FROM ${RUN} WHERE id = 1`);
  if (!r) return null;
  return {
    state: r.state as CopyState,
    handover: r.handover_file === null ? null : { file: r.handover_file as string, pos: Number(r.pos), gtid: (r.handover_gtid as string | null) ?? null },
    handoverLogged: r.handover_logged === true,
  };
}

export async function startRun(sql: Runner): Promise<void> {
  // Not ON CONFLICT: openGauss has none (dialect/compat.ts). A rerun finds the row and keeps it.
  await sql.unsafe(`INSERT INTO ${RUN} (id, state) SELECT 1, 'schema' WHERE NOT EXISTS (SELECT 1 FROM ${RUN} WHERE id = 1)`);
}

export async function setRunState(sql: Runner, state: CopyState): Promise<void> {
  await sql.unsafe(`UPDATE ${RUN} SET state = $1, finished_at = CASE WHEN $1 = 'done' THEN now() END WHERE id = 1`, [state]);
}

export async function saveHandover(sql: Runner, at: BinlogPosition & { gtid: string | null }): Promise<void> {
  await sql.unsafe(`UPDATE ${RUN} SET handover_file = $1, handover_pos = $2, handover_gtid = $3 WHERE id = 1`, [at.file, at.pos, at.gtid]);
}

export async function markHandoverLogged(sql: Runner): Promise<void> {
  await sql.unsafe(`UPDATE ${RUN} SET handover_logged = true WHERE id = 1`);
}

export async function loadTables(sql: Runner): Promise<LedgerTable[]> {
  const rows = await sql.unsafe(`SELECT schema_name, table_name, target_schema, target_table, definition, split_column, state FROM ${TABLES} ORDER BY schema_name, table_name`);
  return rows.map((r) => ({
    database: r.schema_name as string,
    table: r.table_name as string,
    targetSchema: r.target_schema as string,
    targetTable: r.target_table as string,
    definition: r.definition as string,
    splitColumn: (r.split_column as string | null) ?? null,
    state: r.state as TableState,
  }));
}

/** A table and its chunks as planned, in one statement each (run in the plan's transaction). */
export async function planTable(sql: Runner, t: LedgerTable, ranges: Array<{ lo: string | null; hi: string | null }>): Promise<void> {
  await sql.unsafe(`INSERT INTO ${TABLES} (schema_name, table_name, target_schema, target_table, definition, split_column, state) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [
    t.database,
    t.table,
    t.targetSchema,
    t.targetTable,
    t.definition,
    t.splitColumn,
    t.state,
  ]);
  for (const [i, r] of ranges.entries()) {
    await sql.unsafe(`INSERT INTO ${CHUNKS} (schema_name, table_name, chunk, lo, hi) VALUES ($1, $2, $3, $4, $5)`, [t.database, t.table, i, r.lo, r.hi]);
  }
}

export async function setTableState(sql: Runner, database: string, table: string, state: TableState): Promise<void> {
  await sql.unsafe(`UPDATE ${TABLES} SET state = $3 WHERE schema_name = $1 AND table_name = $2`, [database, table, state]);
}

export async function loadChunks(sql: Runner): Promise<LedgerChunk[]> {
  const rows = await sql.unsafe(
    `SELECT schema_name, table_name, chunk, lo::text AS lo, hi::text AS hi, snap_file, snap_pos::text AS snap_pos, rows::text AS rows, bytes::text AS bytes FROM ${CHUNKS} ORDER BY schema_name, table_name, chunk`,
  );
  return rows.map((r) => ({
    database: r.schema_name as string,
    table: r.table_name as string,
    chunk: Number(r.chunk),
    lo: (r.lo as string | null) ?? null,
    hi: (r.hi as string | null) ?? null,
    at: r.snap_file === null ? null : { file: r.snap_file as string, pos: Number(r.snap_pos) },
    rows: Number(r.rows),
    bytes: Number(r.bytes),
  }));
}

/** Marks a chunk loaded, in the transaction that loaded its rows. */
export async function chunkLoaded(sql: Runner, c: { database: string; table: string; chunk: number }, at: BinlogPosition, rows: number, bytes: number): Promise<void> {
  await sql.unsafe(
    `UPDATE ${CHUNKS} SET snap_file = $4, snap_pos = $5, rows = $6, bytes = $7, loaded_at = now() WHERE schema_name = $1 AND table_name = $2 AND chunk = $3 AND snap_file IS NULL`,
    [c.database, c.table, c.chunk, at.file, at.pos, rows, bytes],
  );
}
