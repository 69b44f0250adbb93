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
//
// Workers may commit out of order; the low-water mark moves up (and applied rows below it are
// deleted) in a small separate transaction once everything below the new mark has committed.
// On start, the sink reads from low_water and skips exactly the transactions in `applied`.
// Log offsets (Kafka offsets, journal cursor) are only hints: this table is the authority.

import type postgres from "postgres";
import { ReplicateError } from "../errors.ts";

export const CHECKPOINT_SCHEMA = "gs_replicate";

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

export async function ensureCheckpointTables(sql: postgres.Sql): Promise<void> {
  try {
    await sql.unsafe(`CREATE SCHEMA IF NOT EXISTS ${CHECKPOINT_SCHEMA}`);
    await sql.unsafe(`CREATE TABLE IF NOT EXISTS ${CHECKPOINT_SCHEMA}.applied (
      log_offset bigint PRIMARY KEY, gtid text, binlog_file text NOT NULL, binlog_pos bigint NOT NULL, end_pos bigint NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now())`);
    await sql.unsafe(`CREATE TABLE IF NOT EXISTS ${CHECKPOINT_SCHEMA}.progress (
      id int PRIMARY KEY CHECK (id = 1), low_water bigint NOT NULL, binlog_file text, binlog_pos bigint, updated_at timestamptz NOT NULL DEFAULT now())`);
    await sql.unsafe(`CREATE TABLE IF NOT EXISTS ${CHECKPOINT_SCHEMA}.schemas (fingerprint text PRIMARY KEY, schema_json text NOT NULL)`);
    await sql.unsafe(
      `INSERT INTO ${CHECKPOINT_SCHEMA}.progress (id, low_water) SELECT 1, 0 WHERE NOT EXISTS (SELECT 1 FROM ${CHECKPOINT_SCHEMA}.progress)`,
    );
  } catch (cause) {
    throw new ReplicateError(
      "TARGET_CHECKPOINT",
      `cannot create the checkpoint schema ${CHECKPOINT_SCHEMA} on the target: ${(cause as Error).message}; grant the sink's user CREATE on the database`,
      { where: CHECKPOINT_SCHEMA, cause },
    );
  }
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

/** The statement that records transactions as applied; run inside the transaction applying them. */
export function recordApplied(tx: Pick<postgres.Sql, "unsafe">, records: AppliedRecord[]): ReturnType<Sql["unsafe"]> {
  const values = records.map((_, i) => `($${i * 5 + 1}, $${i * 5 + 2}, $${i * 5 + 3}, $${i * 5 + 4}, $${i * 5 + 5})`).join(", ");
  const params = records.flatMap((r) => [r.offset.toString(), r.gtid, r.file, r.pos, r.endPos]);
  return tx.unsafe(`INSERT INTO ${CHECKPOINT_SCHEMA}.applied (log_offset, gtid, binlog_file, binlog_pos, end_pos) VALUES ${values}`, params, { prepare: true });
}

export async function saveSchema(sql: postgres.Sql, fingerprint: string, schema: string): Promise<void> {
  await sql.unsafe(
    `INSERT INTO ${CHECKPOINT_SCHEMA}.schemas (fingerprint, schema_json) SELECT $1, $2 WHERE NOT EXISTS (SELECT 1 FROM ${CHECKPOINT_SCHEMA}.schemas WHERE fingerprint = $1)`,
    [fingerprint, schema],
  );
}

/** Moves the low-water mark: everything below `offset` is applied. */
export async function advanceLowWater(sql: postgres.Sql, offset: bigint, file: string | null, pos: number | null): Promise<void> {
  await sql.begin(async (tx) => {
    await tx.unsafe(`UPDATE ${CHECKPOINT_SCHEMA}.progress SET low_water = $1, binlog_file = $2, binlog_pos = $3, updated_at = now() WHERE id = 1 AND low_water <= $1`, [
      offset.toString(),
      file,
      pos,
    ]);
    await tx.unsafe(`DELETE FROM ${CHECKPOINT_SCHEMA}.applied WHERE log_offset < $1`, [offset.toString()]);
  });
}
