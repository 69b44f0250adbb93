// Exactly-once replay: the target itself records what was applied, in the same transaction as
// the data, so a crash anywhere leaves data and record in agreement.
//
//   gs_replicate.applied   one row per applied transaction above the low-water mark, keyed by
//                          the log offset of its Begin record (a second apply of the same
//                          transaction would violate the key: a last line of defence)
//   gs_replicate.progress  one row: low_water = a log offset below which every transaction is
//                          applied, plus the binlog position of the transaction at that offset,
//                          checked against the log on start (a log that was replaced or cut is
//                          detected instead of replayed from a wrong place)
//   gs_replicate.schemas   every AVRO schema the sink has met, so it can resume mid-log even
//                          when the records that published them are behind the restart point
//   gs_replicate.pending_foreign_keys  foreign keys a statement run with FOREIGN_KEY_CHECKS=0
//                          created on the source before their referenced table existed (schema
//                          dumps); written with the DDL that made them pending, removed by the
//                          DDL that creates them (src/dialect/ddl-foreign.ts)
//   gs_replicate.skipped_objects  what the target does not get and the application may need at
//                          cutover (views, triggers, routines, events, CHECK, FULLTEXT/SPATIAL/
//                          functional indexes: src/dialect/ddl-objects.ts); written with the DDL
//                          that created, changed or dropped them; listed by `check`
//   gs_replicate.expect_one_row(n)  raises unless n = 1: apply.ts wraps each UPDATE/DELETE in
//                          it, so a row missing on the target fails on the server, before a
//                          COMMIT already travelling in the same pipeline
//   gs_replicate.owner     one row: the token of the sink that owns the checkpoint (a random
//                          one per sink process), claimed at start behind the sink lock
//   gs_replicate.hold(token, offset)  the first statement of every unit's transaction: raises
//                          unless `token` owns the checkpoint and `offset` is not below the
//                          low-water mark, so a sink that lost its lock to another one can
//                          commit nothing, and nothing below the mark is ever applied again
//                          (its `applied` rows are gone, so their key could not say so)
//   gs_replicate_guard     an empty schema created with them: if the checkpoint disappears
//                          while it is there, the checkpoint was dropped by hand and the sink
//                          stops instead of replaying the whole log onto the target's data
//
// Workers may commit out of order; the low-water mark moves up (and applied rows below it are
// deleted) in two small statements once everything below the new mark has committed.
// On start, the sink reads from low_water and skips exactly the transactions in `applied`.
// Log offsets (Kafka offsets, journal cursor) are only hints: this table is the authority.

import type postgres from "postgres";
import type { ForeignKeyRef } from "../dialect/ddl.ts";
import { OBJECTS_DDL } from "../dialect/skipped-store.ts";
import { ReplicateError } from "../errors.ts";
import { backoff } from "../backoff.ts";
import { CHECKPOINT_SCHEMA, GUARD_SCHEMA, SINK_LOCK_KEYS } from "../checkpoint-names.ts";
import { sleepUnlessStopped } from "../runtime/signals.ts";
import { log } from "../runtime/log.ts";

export interface CheckpointState {
  lowWater: bigint;
  lowWaterFile: string | null;
  lowWaterPos: number | null;
  applied: Set<bigint>;
  schemas: string[];
}

export interface AppliedRecord {
  offset: bigint;
  gtid: string | null;
  file: string;
  pos: number;
  endPos: number;
}

type Sql = postgres.Sql | postgres.TransactionSql;

const TABLES = ["applied", "progress", "schemas"] as const;

const PENDING_TABLE = `${CHECKPOINT_SCHEMA}.pending_foreign_keys`;
const PENDING_DDL = `CREATE TABLE ${PENDING_TABLE} (
      schema_name text NOT NULL, table_name text NOT NULL, constraint_name text NOT NULL,
      referenced_schema text NOT NULL, referenced_table text NOT NULL, definition text NOT NULL,
      gtid text, binlog_file text NOT NULL, binlog_pos bigint NOT NULL, created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (schema_name, table_name, constraint_name))`;

/** See the file header; apply.ts recognises its error by ROW_MISMATCH_PREFIX. */
export const EXPECT_ONE_ROW = `${CHECKPOINT_SCHEMA}.expect_one_row`;
export const ROW_MISMATCH_PREFIX = "gs_replicate: row matched ";

// PL/pgSQL, as openGauss has it too; the parameter is not called "found", a PL/pgSQL variable.
const EXPECT_ONE_ROW_DDL = `CREATE OR REPLACE FUNCTION ${EXPECT_ONE_ROW}(n bigint) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
  IF n <> 1 THEN
    RAISE EXCEPTION '${ROW_MISMATCH_PREFIX}% rows instead of 1', n;
  END IF;
  RETURN n;
END
$$`;

const OWNER_TABLE = `${CHECKPOINT_SCHEMA}.owner`;
const OWNER_DDL = [
  `CREATE TABLE ${OWNER_TABLE} (id int PRIMARY KEY CHECK (id = 1), token text NOT NULL, claimed_at timestamptz NOT NULL DEFAULT now())`,
  `INSERT INTO ${OWNER_TABLE} (id, token) VALUES (1, '')`,
];

// The ownership barrier: units take it shared inside their transaction (hold), a claiming sink
// takes it exclusive to change the owner, so it changes only between units of the old owner:
// once the claim commits, every later unit of the old owner reads the new token and fails.
// Beside the sink lock's two keys ("gsre" "plic"): "gsre" "plid".
const BARRIER_KEYS = "1735619173, 1886169444";
const HOLD = `${CHECKPOINT_SCHEMA}.hold`;
const SINK_REPLACED_PREFIX = "gs_replicate: sink replaced: ";
const BELOW_LOW_WATER_PREFIX = "gs_replicate: below low water: ";
const HOLD_DDL = `CREATE OR REPLACE FUNCTION ${HOLD}(owner_token text, first_offset bigint) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  holder text;
  mark bigint;
BEGIN
  PERFORM pg_advisory_xact_lock_shared(${BARRIER_KEYS});
  SELECT token INTO holder FROM ${OWNER_TABLE} WHERE id = 1;
  IF holder IS DISTINCT FROM owner_token THEN
    RAISE EXCEPTION '${SINK_REPLACED_PREFIX}the checkpoint is owned by sink %, not by this one', holder;
  END IF;
  SELECT low_water INTO mark FROM ${CHECKPOINT_SCHEMA}.progress WHERE id = 1;
  IF first_offset < mark THEN
    RAISE EXCEPTION '${BELOW_LOW_WATER_PREFIX}log offset % is below the low-water mark %', first_offset, mark;
  END IF;
  RETURN 1;
END
$$`;

/** The unit's first statement after BEGIN (see the file header); the token is a UUID, the offset a number. */
export function holdStatement(owner: string, firstOffset: bigint): string {
  return `SELECT ${HOLD}('${owner.replace(/'/g, "''")}', ${firstOffset.toString()})`;
}

/** hold()'s refusal as the sink's error (undefined for any other error): this sink must stop, and nothing of the unit was applied. */
export function holdRefusal(err: unknown, where: string): ReplicateError | undefined {
  const message = (err as { message?: unknown }).message;
  if (typeof message !== "string") return undefined;
  const at = [SINK_REPLACED_PREFIX, BELOW_LOW_WATER_PREFIX].find((p) => message.includes(p));
  if (!at) return undefined;
  const what = message.slice(message.indexOf(at) + at.length);
  return new ReplicateError(
    "SINK_ALREADY_RUNNING",
    `another gs-replicate sink took over this target's checkpoint (${what}): this sink lost its lock (its session ended) and stops without applying ${where}; nothing of it was applied. ` +
      `Run one sink per target database; the other one carries on from the checkpoint`,
    { where, cause: err },
  );
}

/**
 * Makes `token` the checkpoint's owner, once no unit of a previous owner is in flight (the
 * barrier is tried, never queued for: a queued exclusive request would hold up the units of
 * a sink that waits, in its own process, for one of them to commit first). `onWait` is told
 * while it waits.
 */
export async function claimOwner(sql: postgres.Sql, token: string, onWait: (waiting: boolean) => void, signal?: AbortSignal): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const claimed = await sql.begin(async (t) => {
      const [row] = await t.unsafe(`SELECT pg_try_advisory_xact_lock(${BARRIER_KEYS}) AS ok`);
      if (!(row?.ok === true || row?.ok === "t")) return false;
      await t.unsafe(`UPDATE ${OWNER_TABLE} SET token = $1, claimed_at = now() WHERE id = 1`, [token]);
      return true;
    });
    if (claimed) {
      if (attempt > 0) onWait(false);
      return;
    }
    if (attempt === 5) onWait(true);
    if (signal?.aborted) throw new ReplicateError("SINK_ALREADY_RUNNING", "stopped while waiting for the transactions of a previous sink to end", { where: OWNER_TABLE });
    await sleepUnlessStopped(backoff(attempt + 1, { firstMs: 20, maxMs: 1000 }), signal);
  }
}

/**
 * Creates the checkpoint on a first run, and refuses to start over when it was dropped by hand:
 * replaying the log from its start onto a target that already holds its changes would apply
 * them twice. A first run also creates the schema GUARD_SCHEMA, empty, as the marker that this
 * database is being replicated into; the checkpoint missing while the marker is there means it
 * was dropped. Creation is one transaction, so a crash cannot leave half a checkpoint.
 */
export async function ensureCheckpointTables(sql: postgres.Sql): Promise<void> {
  const found = await sql.unsafe(
    `SELECT n.nspname AS schema, c.relname AS table,
            EXISTS (SELECT 1 FROM pg_proc p WHERE p.pronamespace = n.oid AND p.proname = 'expect_one_row') AS has_function,
            EXISTS (SELECT 1 FROM pg_proc p WHERE p.pronamespace = n.oid AND p.proname = 'hold') AS has_hold
       FROM pg_namespace n
       LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relkind = 'r' AND c.relname IN ('applied', 'progress', 'schemas', 'pending_foreign_keys', 'skipped_objects', 'owner')
      WHERE n.nspname IN ('${CHECKPOINT_SCHEMA}', '${GUARD_SCHEMA}')`,
  );
  const tables = new Set(found.filter((r) => r.schema === CHECKPOINT_SCHEMA && r.table !== null).map((r) => r.table as string));
  const guarded = found.some((r) => r.schema === GUARD_SCHEMA);
  const hasFunction = found.some((r) => r.schema === CHECKPOINT_SCHEMA && r.has_function === true);
  // Added after the first release: its absence is an earlier checkpoint, not a dropped one.
  const hasPending = tables.delete("pending_foreign_keys");
  const hasObjects = tables.delete("skipped_objects");
  const hasOwner = tables.delete("owner");
  const hasHold = found.some((r) => r.schema === CHECKPOINT_SCHEMA && r.has_hold === true);
  const missing = TABLES.filter((t) => !tables.has(t));
  if (missing.length === 0) {
    // Checkpoints made by earlier versions get what was added since.
    const later = [
      ...(guarded ? [] : guardStatements()),
      ...(hasFunction ? [] : [EXPECT_ONE_ROW_DDL]),
      ...(hasPending ? [] : [PENDING_DDL]),
      ...(hasObjects ? [] : [OBJECTS_DDL]),
      ...(hasOwner ? [] : OWNER_DDL),
      ...(hasHold ? [] : [HOLD_DDL]),
    ];
    if (later.length > 0) await create(sql, later);
    return;
  }
  if (tables.size > 0) {
    const names = (ts: readonly string[]) => ts.map((t) => `${CHECKPOINT_SCHEMA}.${t}`).join(", ");
    const gone = missing.length === 1 ? `the checkpoint table ${names(missing)} is` : `the checkpoint tables ${names(missing)} are`;
    throw checkpointDropped(`${gone} missing while ${names([...tables].sort())} remain`);
  }
  if (guarded) throw checkpointDropped(`the checkpoint schema ${CHECKPOINT_SCHEMA} is missing, but schema ${GUARD_SCHEMA} says this database was being replicated into`);
  await create(sql, [
    `CREATE SCHEMA IF NOT EXISTS ${CHECKPOINT_SCHEMA}`,
    `CREATE TABLE ${CHECKPOINT_SCHEMA}.applied (
      log_offset bigint PRIMARY KEY, gtid text, binlog_file text NOT NULL, binlog_pos bigint NOT NULL, end_pos bigint NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now())`,
    `CREATE TABLE ${CHECKPOINT_SCHEMA}.progress (
      id int PRIMARY KEY CHECK (id = 1), low_water bigint NOT NULL, binlog_file text, binlog_pos bigint, updated_at timestamptz NOT NULL DEFAULT now())`,
    `CREATE TABLE ${CHECKPOINT_SCHEMA}.schemas (fingerprint text PRIMARY KEY, schema_json text NOT NULL)`,
    PENDING_DDL,
    // `copy` may have made it already (it records what the target does not get, as the sink does).
    ...(hasObjects ? [] : [OBJECTS_DDL]),
    `INSERT INTO ${CHECKPOINT_SCHEMA}.progress (id, low_water) VALUES (1, 0)`,
    EXPECT_ONE_ROW_DDL,
    ...OWNER_DDL,
    HOLD_DDL,
    ...guardStatements(),
  ]);
}

function guardStatements(): string[] {
  return [
    `CREATE SCHEMA IF NOT EXISTS ${GUARD_SCHEMA}`,
    `COMMENT ON SCHEMA ${GUARD_SCHEMA} IS 'gs-replicate replicates into this database; its checkpoint is schema ${CHECKPOINT_SCHEMA}. Drop this schema only together with a fresh full copy of the data'`,
  ];
}

/**
 * Runs `statements` as one transaction in one round trip: several statements in one simple
 * query message are one implicit transaction (PostgreSQL protocol, "Multiple Statements in a
 * Simple Query"), which is also how postgres.js allows a transaction on a pooled connection.
 */
async function create(sql: postgres.Sql, statements: string[]): Promise<void> {
  try {
    await sql.unsafe(statements.join(";\n"));
  } catch (cause) {
    const denied = (cause as { code?: unknown }).code === "42501";
    throw new ReplicateError(
      "TARGET_CHECKPOINT",
      `cannot create the checkpoint schema ${CHECKPOINT_SCHEMA} on the target: ${(cause as Error).message}${denied ? "; grant the sink's user CREATE on the database" : ""}`,
      { where: CHECKPOINT_SCHEMA, cause },
    );
  }
}

function checkpointDropped(what: string): ReplicateError {
  return new ReplicateError(
    "TARGET_CHECKPOINT",
    `${what}: the checkpoint was dropped by hand, and without it the sink cannot know which changes the target already holds; replaying the log from its start would apply them twice, so the sink stops. ` +
      `Either restore ${CHECKPOINT_SCHEMA} from a backup of the target taken together with its data, or start a fresh migration: reload the target from a new full copy, ` +
      `DROP SCHEMA ${GUARD_SCHEMA} CASCADE (and whatever is left of ${CHECKPOINT_SCHEMA}), and run source from the copy's position into a new journal or topic`,
    { where: CHECKPOINT_SCHEMA },
  );
}

export async function loadCheckpoint(sql: postgres.Sql): Promise<CheckpointState> {
  let progress: postgres.RowList<postgres.Row[]>;
  try {
    progress = await sql.unsafe(`SELECT low_water::text AS low, binlog_file, binlog_pos::text AS pos FROM ${CHECKPOINT_SCHEMA}.progress WHERE id = 1`);
  } catch (cause) {
    throw new ReplicateError(
      "TARGET_CHECKPOINT",
      `the checkpoint table ${CHECKPOINT_SCHEMA}.progress is unreadable: ${(cause as Error).message}. If it was dropped by hand, the sink cannot know what was applied: restore it, or start a fresh migration`,
      { where: `${CHECKPOINT_SCHEMA}.progress`, cause },
    );
  }
  const row = progress[0];
  if (!row) {
    throw new ReplicateError("TARGET_CHECKPOINT", `${CHECKPOINT_SCHEMA}.progress has no row: it was emptied by hand; restore it or start a fresh migration`, {
      where: `${CHECKPOINT_SCHEMA}.progress`,
    });
  }
  const lowWater = BigInt(row.low as string);
  const applied = await sql.unsafe(`SELECT log_offset::text AS o FROM ${CHECKPOINT_SCHEMA}.applied WHERE log_offset >= $1`, [lowWater.toString()]);
  const schemas = await sql.unsafe(`SELECT schema_json FROM ${CHECKPOINT_SCHEMA}.schemas`);
  return {
    lowWater,
    lowWaterFile: (row.binlog_file as string | null) ?? null,
    lowWaterPos: row.pos === null ? null : Number(row.pos),
    applied: new Set(applied.map((r) => BigInt(r.o as string))),
    schemas: schemas.map((r) => r.schema_json as string),
  };
}

type AppliedValue = string | number | null;

/**
 * The INSERT that records `records` as applied, and its values; `value` writes each value
 * into the text: a placeholder ($n, n from 1) for a prepared statement, or a literal (batch.ts).
 */
export function appliedInsert(records: AppliedRecord[], value: (v: AppliedValue, n: number) => string): { text: string; params: AppliedValue[] } {
  const params = records.flatMap((r): AppliedValue[] => [r.offset.toString(), r.gtid, r.file, r.pos, r.endPos]);
  const rows = records.map(
    (_, i) =>
      `(${params
        .slice(i * 5, i * 5 + 5)
        .map((v, k) => value(v, i * 5 + k + 1))
        .join(", ")})`,
  );
  return { text: `INSERT INTO ${CHECKPOINT_SCHEMA}.applied (log_offset, gtid, binlog_file, binlog_pos, end_pos) VALUES ${rows.join(", ")}`, params };
}

/** The statement that records transactions as applied; run inside the transaction applying them. */
export function recordApplied(tx: Pick<postgres.Sql, "unsafe">, records: AppliedRecord[]): ReturnType<Sql["unsafe"]> {
  const { text, params } = appliedInsert(records, (_, n) => `$${n}`);
  return tx.unsafe(text, params, { prepare: true });
}

/** How many of these transactions the target records as applied (all or none: one target transaction each unit). */
export async function countRecorded(sql: Pick<postgres.Sql, "unsafe">, offsets: bigint[]): Promise<number> {
  const [r] = await sql.unsafe(`SELECT count(*)::int AS n FROM ${CHECKPOINT_SCHEMA}.applied WHERE log_offset = ANY($1::bigint[])`, [offsets.map(String)]);
  return Number(r?.n ?? 0);
}

export async function saveSchema(sql: postgres.Sql, fingerprint: string, schema: string): Promise<void> {
  await sql.unsafe(
    `INSERT INTO ${CHECKPOINT_SCHEMA}.schemas (fingerprint, schema_json) SELECT $1, $2 WHERE NOT EXISTS (SELECT 1 FROM ${CHECKPOINT_SCHEMA}.schemas WHERE fingerprint = $1)`,
    [fingerprint, schema],
  );
}

/**
 * Moves the low-water mark: everything below `offset` is applied. Two single statements
 * rather than a transaction, in this order, so each can be retried alone after a lost
 * connection: applied rows left below the mark by a crash in between are never read (and go
 * with the next move), while deleting them first could let a crash replay them.
 */
export async function advanceLowWater(sql: postgres.Sql, offset: bigint, file: string | null, pos: number | null): Promise<void> {
  await sql.unsafe(`UPDATE ${CHECKPOINT_SCHEMA}.progress SET low_water = $1, binlog_file = $2, binlog_pos = $3, updated_at = now() WHERE id = 1 AND low_water <= $1`, [
    offset.toString(),
    file,
    pos,
  ]);
  await sql.unsafe(`DELETE FROM ${CHECKPOINT_SCHEMA}.applied WHERE log_offset < $1`, [offset.toString()]);
}

/** The foreign keys waiting for their referenced table (read inside the DDL's transaction). */
export async function loadPendingForeignKeys(sql: Pick<postgres.Sql, "unsafe">): Promise<ForeignKeyRef[]> {
  const rows = await sql.unsafe(
    `SELECT schema_name, table_name, constraint_name, referenced_schema, referenced_table, definition FROM ${PENDING_TABLE} ORDER BY binlog_file, binlog_pos, constraint_name`,
  );
  return rows.map((r) => {
    const d = JSON.parse(r.definition as string) as Pick<ForeignKeyRef, "columns" | "refColumns" | "onDelete" | "onUpdate">;
    return { ...d, schema: r.schema_name, table: r.table_name, name: r.constraint_name, refSchema: r.referenced_schema, refTable: r.referenced_table };
  });
}

/** Writes the change from `before` to `after` (a DDL translation's pending keys), in the DDL's transaction. */
export async function savePendingForeignKeys(
  sql: Pick<postgres.Sql, "unsafe">,
  before: ForeignKeyRef[],
  after: ForeignKeyRef[],
  at: { gtid: string | null; file: string; pos: number },
): Promise<void> {
  const text = (k: ForeignKeyRef) => JSON.stringify(k);
  const kept = new Set(after.map(text));
  const had = new Set(before.map(text));
  for (const k of before.filter((k) => !kept.has(text(k)))) {
    await sql.unsafe(`DELETE FROM ${PENDING_TABLE} WHERE schema_name = $1 AND table_name = $2 AND constraint_name = $3`, [k.schema, k.table, k.name]);
  }
  for (const k of after.filter((k) => !had.has(text(k)))) {
    const definition: Pick<ForeignKeyRef, "columns" | "refColumns" | "onDelete" | "onUpdate"> = { columns: k.columns, refColumns: k.refColumns };
    if (k.onDelete) definition.onDelete = k.onDelete;
    if (k.onUpdate) definition.onUpdate = k.onUpdate;
    await sql.unsafe(
      `INSERT INTO ${PENDING_TABLE} (schema_name, table_name, constraint_name, referenced_schema, referenced_table, definition, gtid, binlog_file, binlog_pos) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [k.schema, k.table, k.name, k.refSchema, k.refTable, JSON.stringify(definition), at.gtid, at.file, at.pos],
    );
  }
}

// The sink lock: a session-level advisory lock (PostgreSQL and openGauss have the same
// functions), taken before anything else and held by one reserved connection for the sink's
// lifetime. The server drops it with the session, so a sink killed with -9 leaves nothing to
// clean up. Advisory locks are per database, like the checkpoint. The two keys spell "gsre"
// "plic" so that other applications' advisory locks do not meet it by accident; `copy` takes
// the same lock while it runs.
const LOCK_KEYS = SINK_LOCK_KEYS;

/** A reserved connection of the sink (worker.ts's WorkerConn). */
interface LockConn {
  readonly sql: Pick<postgres.ReservedSql, "unsafe" | "release">;
  readonly usable: boolean;
  whenClosed?(fn: () => void): void;
}

export class SinkLock {
  private held = false;
  private released = false;
  private keeping: Promise<void> | undefined;
  private lost: ((err: ReplicateError) => void) | undefined;
  /** Lost before watch() was called (during the rest of the start-up). */
  private lostEarly: ReplicateError | undefined;
  private signal: AbortSignal | undefined;

  private constructor(
    private conn: LockConn,
    private readonly reserve: () => Promise<LockConn>,
    private readonly where: string,
  ) {}

  /** Takes the lock, or stops with SINK_ALREADY_RUNNING naming the session that holds it. */
  static async take(reserve: () => Promise<LockConn>, where: string): Promise<SinkLock> {
    const lock = new SinkLock(await reserve(), reserve, where);
    try {
      await lock.claim();
    } catch (err) {
      // A reserved session left behind would hold up closing the pool.
      lock.release();
      throw err;
    }
    lock.arm();
    return lock;
  }

  /**
   * The lock's session can end while the sink is idle (a DBA's pg_terminate_backend, a
   * target restart, an idle-session timeout): nothing else would notice before the next unit,
   * and meanwhile a second sink could take the lock and both would look alive. So its close
   * is acted on at once: the lock is taken again, or `onLost` is told that another sink has
   * it. A target that is down is tried again until it answers or the sink stops.
   */
  watch(onLost: (err: ReplicateError) => void, signal: AbortSignal): void {
    this.lost = onLost;
    this.signal = signal;
    if (this.lostEarly) onLost(this.lostEarly);
  }

  /**
   * After the lock's session ended, takes the lock again (or stops, if another sink took it
   * meanwhile). Costs nothing while the session is alive; callers at once share one attempt.
   */
  async keep(): Promise<void> {
    if (this.held && this.conn.usable) return;
    this.keeping ??= this.retakeOnce().finally(() => (this.keeping = undefined));
    return this.keeping;
  }

  /** Hands the session back to the pool, lock and all: it ends, and the lock with it, when the pool closes. */
  release(): void {
    this.released = true;
    if (this.conn.usable) this.conn.sql.release();
  }

  private arm(): void {
    this.conn.whenClosed?.(() => {
      this.held = false;
      // Not from inside the close callback: postgres.js calls it before it hands the closed
      // connection to whoever queued for one, so a reserve() made from here is taken off its
      // queue by that hand-over and never answered (measured: the retake hung whenever every
      // other connection was busy).
      setTimeout(() => void this.retake(), 0);
    });
  }

  private async retakeOnce(): Promise<void> {
    this.held = false;
    if (this.conn.usable) this.conn.sql.release();
    this.conn = await this.reserve();
    this.arm();
    await this.claim();
  }

  private async retake(): Promise<void> {
    for (let attempt = 0; !this.released && !this.signal?.aborted; attempt++) {
      try {
        await this.keep();
        log.warn(`the sink lock's session on ${this.where} ended; the lock is taken again`);
        return;
      } catch (err) {
        if (err instanceof ReplicateError && err.code === "SINK_ALREADY_RUNNING") {
          if (this.lost) this.lost(err);
          else this.lostEarly = err;
          return;
        }
        await sleepUnlessStopped(backoff(attempt + 1, { firstMs: 200, maxMs: 5000 }), this.signal);
      }
    }
  }

  private async claim(): Promise<void> {
    // Taking it again in the same session only counts it twice; the session's end drops all.
    const [row] = await this.conn.sql.unsafe(`SELECT pg_try_advisory_lock(${LOCK_KEYS}) AS ok`);
    if (row?.ok === true || row?.ok === "t") {
      this.held = true;
      return;
    }
    throw new ReplicateError(
      "SINK_ALREADY_RUNNING",
      `another gs-replicate sink is already replicating into the target database ${this.where}${await this.holder()}: two sinks on one checkpoint would apply the same transactions twice, so this one stops before reading or applying anything. ` +
        `Run one sink per target database: stop the other one first (a sink that was killed holds nothing: its lock goes with its session)`,
      { where: this.where },
    );
  }

  /** Who holds it, as far as the server tells (best effort: the catalog views differ a little). */
  private async holder(): Promise<string> {
    const [keyA, keyB] = LOCK_KEYS.split(", ");
    try {
      const [h] = await this.conn.sql.unsafe(
        `SELECT a.pid::text AS pid, host(a.client_addr) AS addr, a.application_name AS app, to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS') AS since
           FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
          WHERE l.locktype = 'advisory' AND l.granted AND l.classid = ${keyA} AND l.objid = ${keyB}
            AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          LIMIT 1`,
      );
      if (!h) return "";
      return ` (its session: pid ${h.pid}${h.addr ? ` from ${h.addr}` : ""}${h.app ? `, application "${h.app}"` : ""}${h.since ? `, connected since ${h.since}` : ""})`;
    } catch {
      return "";
    }
  }
}
