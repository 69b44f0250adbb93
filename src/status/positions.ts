// Where each part of a migration stands, read without disturbing it (`source` and `sink` may be
// running or stopped): the source server's binlog position now, the log's end and the last
// transaction and position in it, the sink's checkpoint in the target. Every read is a plain
// query or a read of the log from an offset; nothing takes a lock or a consumer group.

import type postgres from "postgres";
import type { BinlogConnection } from "../binlog/connection.ts";
import type { BinlogPosition } from "../binlog/position.ts";
import { CHECKPOINT_SCHEMA } from "../checkpoint-names.ts";
import { relationExists } from "../dialect/relations.ts";
import type { TransportConfig } from "../config/types.ts";
import { decodeBuiltin, recordKind } from "../events/decode.ts";
import type { LogReader } from "../log-contract.ts";
import { openLogReader } from "../transport/open.ts";

export interface SourceState extends BinlogPosition {
  /** MariaDB @@gtid_binlog_pos, MySQL @@gtid_executed; null without GTIDs. */
  gtid: string | null;
  /** The source server's clock now (ms since the epoch). */
  nowMs: number;
  /** Binlog file sizes in order (SHOW BINARY LOGS), for byte distances across files. */
  files: Array<{ file: string; size: number }>;
}

export interface LogPoint extends BinlogPosition {
  /** Offset of the record in the log. */
  offset: bigint;
  gtid: string | null;
  /** Commit time of the transaction (End records only). */
  tsMs: number | null;
}

export interface LogState {
  /** Records in the log (the offset after the last one). */
  end: bigint;
  /** The last End record: the last transaction published. */
  lastTx: LogPoint | null;
  /** The last End or Position record: how far `source` has read the binlog. */
  lastPosition: LogPoint | null;
}

export interface SinkState {
  /** Log offset below which every transaction is applied. */
  lowWater: bigint;
  /** The binlog position of the transaction just below it (null before the first). */
  at: BinlogPosition | null;
  updatedAt: string | null;
}

export async function readSource(conn: BinlogConnection): Promise<SourceState> {
  const pos = await conn.currentPosition();
  const mariadb = conn.info.flavour === "mariadb";
  const [g] = await conn.query<{ g: string | null; now: string | number }>(
    `SELECT ${mariadb ? "@@global.gtid_binlog_pos" : "@@global.gtid_executed"} AS g, UNIX_TIMESTAMP(NOW(3)) * 1000 AS now`,
  );
  let files: SourceState["files"] = [];
  try {
    files = (await conn.query<{ Log_name: string; File_size: number | string }>("SHOW BINARY LOGS")).map((r) => ({ file: r.Log_name, size: Number(r.File_size) }));
  } catch {
    // Needs REPLICATION CLIENT / BINLOG MONITOR; byte distances across files are then unknown.
  }
  return { ...pos, gtid: g?.g ? String(g.g).replace(/\s+/g, "") : null, nowMs: Number(g?.now ?? Date.now()), files };
}

export async function readLog(t: TransportConfig): Promise<LogState> {
  const reader = await openLogReader(t);
  try {
    return await logState(reader);
  } finally {
    await reader.close();
  }
}

/** Reads backwards in growing windows until the last End record (and the last End or Position) is found. */
async function logState(reader: LogReader): Promise<LogState> {
  const end = await reader.endOffset();
  let lastTx: LogPoint | null = null;
  let lastPosition: LogPoint | null = null;
  for (let window = 256n; ; window *= 8n) {
    const from = end > window ? end - window : 0n;
    for await (const { offset, record } of reader.read(from, { follow: false })) {
      if (offset >= end) break;
      const kind = recordKind(record);
      if (kind !== "end" && kind !== "position") continue;
      const m = decodeBuiltin(record);
      if (m.kind !== "end" && m.kind !== "position") continue;
      const point: LogPoint = { offset, file: m.file, pos: m.pos, gtid: m.gtid, tsMs: m.kind === "end" ? m.tsMs : null };
      lastPosition = point;
      if (m.kind === "end") lastTx = point;
    }
    if (lastTx !== null || from === 0n) return { end, lastTx, lastPosition };
  }
}

/** Transactions (End records) at offsets [from, end), counted up to `limit`; and the commit time of the End just below `from`. */
export async function countTransactions(t: TransportConfig, from: bigint, end: bigint, limit: number): Promise<{ count: number; more: boolean; belowTsMs: number | null }> {
  const reader = await openLogReader(t);
  let count = 0;
  let belowTsMs: number | null = null;
  try {
    for await (const { offset, record } of reader.read(from > 0n ? from - 1n : 0n, { follow: false })) {
      if (offset >= end) break;
      if (recordKind(record) !== "end") continue;
      if (offset < from) {
        const m = decodeBuiltin(record);
        if (m.kind === "end") belowTsMs = m.tsMs;
        continue;
      }
      if (++count >= limit) return { count, more: true, belowTsMs };
    }
    return { count, more: false, belowTsMs };
  } finally {
    await reader.close();
  }
}

/** The sink's checkpoint, or null when the sink has not run against this target. */
export async function readSink(sql: Pick<postgres.Sql, "unsafe">): Promise<SinkState | null> {
  if (!(await relationExists(sql, CHECKPOINT_SCHEMA, "progress"))) return null;
  const [r] = await sql.unsafe(`SELECT low_water::text AS low, binlog_file, binlog_pos::text AS pos, updated_at::text AS at FROM ${CHECKPOINT_SCHEMA}.progress WHERE id = 1`);
  if (!r) return null;
  return {
    lowWater: BigInt(r.low as string),
    at: r.binlog_file === null ? null : { file: r.binlog_file as string, pos: Number(r.pos) },
    updatedAt: (r.at as string | null) ?? null,
  };
}
