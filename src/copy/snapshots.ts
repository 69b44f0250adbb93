// Consistent reads of the source, each with the binlog position it stands for: a chunk read
// in a view at position P holds exactly the transactions that began before P.
//
//   lock-free  MariaDB (and Percona Server) report the position of a consistent snapshot
//              (Binlog_snapshot_file/_position, read inside START TRANSACTION WITH CONSISTENT
//              SNAPSHOT): one short snapshot per chunk, no lock, nothing held between chunks
//              (a snapshot kept for hours would hold back InnoDB's purge on a busy source)
//   lock       MySQL has no such status: a global read lock (FLUSH TABLES WITH READ LOCK) held
//              while every connection opens its snapshot and the position is read, then
//              released; every chunk of this run is read in those snapshots, at that position.
//              The lock is refused up front when a statement has been running longer than
//              lock_timeout_seconds (the lock would queue behind it, and the source's writers
//              behind the lock), and given up on when taking it takes longer: COPY_LOCK_TIMEOUT.
//              How long it was held is measured and reported.

import { BinlogConnection } from "../binlog/connection.ts";
import type { BinlogPosition } from "../binlog/position.ts";
import type { CopyConfig, SourceConfig } from "../config/types.ts";
import { ReplicateError } from "../errors.ts";
import { log } from "../runtime/log.ts";

export interface View {
  conn: BinlogConnection;
  at: BinlogPosition;
}

interface Snapshots {
  readonly mode: "lock-free" | "lock";
  /** Milliseconds the global read lock was held (lock mode), else null. */
  readonly lockHeldMs: number | null;
  /** A connection whose consistent view stands at `at`. */
  take(): Promise<View>;
  /** Gives a view back; `ok` false when its read failed (the connection is dropped). */
  give(v: View, ok: boolean): Promise<void>;
  close(): Promise<void>;
}

/** The statements each reading session runs first (repeatable read: what a consistent snapshot needs). */
type SessionSetup = readonly string[];

async function snapshotSupported(conn: BinlogConnection): Promise<boolean> {
  const rows = await conn.query<{ Variable_name: string }>("SHOW STATUS LIKE 'binlog_snapshot_position'");
  return rows.length > 0;
}

export async function openSnapshots(source: SourceConfig, copy: CopyConfig, control: BinlogConnection, setup: SessionSetup): Promise<Snapshots> {
  const supported = await snapshotSupported(control);
  if (copy.snapshot === "lock-free" && !supported) {
    throw new ReplicateError(
      "COPY_SNAPSHOT",
      `[copy] snapshot = "lock-free" needs a server that reports the position of a consistent snapshot (MariaDB, Percona Server); ${control.info.version} does not: use "auto" or "lock"`,
      { kind: "config", where: "copy.snapshot" },
    );
  }
  const open = async () => {
    const c = await BinlogConnection.open(source);
    for (const s of [...setup, "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ"]) await c.query(s);
    return c;
  };
  if (copy.snapshot === "lock" || !supported) return LockedSnapshots.open(source, control, copy, open);
  return new LockFreeSnapshots(open);
}

class LockFreeSnapshots implements Snapshots {
  readonly mode = "lock-free" as const;
  readonly lockHeldMs = null;
  private readonly idle: BinlogConnection[] = [];
  private readonly all = new Set<BinlogConnection>();

  constructor(private readonly open: () => Promise<BinlogConnection>) {}

  async take(): Promise<View> {
    const conn = this.idle.pop() ?? (await this.open());
    this.all.add(conn);
    await conn.query("START TRANSACTION WITH CONSISTENT SNAPSHOT");
    return { conn, at: await snapshotPosition(conn) };
  }

  async give(v: View, ok: boolean): Promise<void> {
    if (ok) {
      try {
        await v.conn.query("COMMIT");
        this.idle.push(v.conn);
        return;
      } catch {}
    }
    this.all.delete(v.conn);
    v.conn.close();
  }

  async close(): Promise<void> {
    for (const c of this.all) c.close();
    this.all.clear();
    this.idle.length = 0;
  }
}

async function snapshotPosition(conn: BinlogConnection): Promise<BinlogPosition> {
  const rows = await conn.query<{ Variable_name: string; Value: string }>("SHOW STATUS LIKE 'binlog_snapshot_%'");
  const get = (n: string) => rows.find((r) => r.Variable_name.toLowerCase() === n)?.Value;
  const file = get("binlog_snapshot_file");
  const pos = get("binlog_snapshot_position");
  if (!file || pos === undefined) throw new ReplicateError("COPY_SNAPSHOT", "the source reported no snapshot position (Binlog_snapshot_file/_position): is log_bin on?");
  return { file, pos: Number(pos) };
}

class LockedSnapshots implements Snapshots {
  readonly mode = "lock" as const;
  private readonly idle: BinlogConnection[] = [];

  private constructor(
    private readonly views: BinlogConnection[],
    private readonly at: BinlogPosition,
    readonly lockHeldMs: number,
  ) {
    this.idle.push(...views);
  }

  static async open(source: SourceConfig, control: BinlogConnection, copy: CopyConfig, open: () => Promise<BinlogConnection>): Promise<LockedSnapshots> {
    const views: BinlogConnection[] = [];
    for (let i = 0; i < copy.parallel; i++) views.push(await open());
    const limit = copy.lock_timeout_seconds;
    try {
      await refuseLongStatements(control, limit);
      await control.query(`SET SESSION lock_wait_timeout = ${limit}`);
      const asked = Date.now();
      await withWatchdog(source, control, limit, () => control.query("FLUSH TABLES WITH READ LOCK"));
      const locked = Date.now();
      let at: BinlogPosition;
      try {
        for (const v of views) await v.query("START TRANSACTION WITH CONSISTENT SNAPSHOT");
        at = await control.currentPosition();
      } finally {
        await control.query("UNLOCK TABLES");
      }
      const held = Date.now() - locked;
      log.info(`global read lock: waited ${locked - asked} ms, held ${held} ms; ${views.length} snapshots open at ${at.file}:${at.pos}`);
      return new LockedSnapshots(views, at, held);
    } catch (err) {
      for (const v of views) v.close();
      throw err;
    }
  }

  async take(): Promise<View> {
    const conn = this.idle.pop();
    if (!conn) throw new ReplicateError("INTERNAL", "more chunks read at once than snapshots were opened");
    return { conn, at: this.at };
  }

  async give(v: View, ok: boolean): Promise<void> {
    if (ok) {
      this.idle.push(v.conn);
      return;
    }
    // Its snapshot is gone with it: a new one would stand at another position, so the chunk's
    // failure stops the run (chunk-runner.ts), and a rerun opens new snapshots.
    v.conn.close();
  }

  async close(): Promise<void> {
    for (const v of this.views) v.close();
  }
}

/** Statements running longer than the lock may wait: the lock would queue behind them, and every writer behind it. */
async function refuseLongStatements(control: BinlogConnection, limit: number): Promise<void> {
  const rows = await control.query<{ id: number; time: number; info: string | null; user: string }>(
    `SELECT ID AS id, TIME AS time, INFO AS info, USER AS user FROM information_schema.PROCESSLIST
      WHERE COMMAND NOT IN ('Sleep', 'Daemon', 'Binlog Dump', 'Binlog Dump GTID', 'Killed') AND ID <> CONNECTION_ID() AND INFO IS NOT NULL AND TIME >= ${limit}`,
  );
  if (rows.length === 0) return;
  const list = rows
    .slice(0, 5)
    .map((r) => `id ${r.id} (${r.user}, ${r.time} s): ${String(r.info).slice(0, 120)}`)
    .join("; ");
  throw new ReplicateError(
    "COPY_LOCK_TIMEOUT",
    `not taking the global read lock: ${rows.length} statement(s) have run longer than [copy] lock_timeout_seconds = ${limit}, and the lock would wait for them while blocking every writer: ${list}. Let them finish (or end them), then run copy again`,
    { retriable: false },
  );
}

async function withWatchdog<T>(source: SourceConfig, control: BinlogConnection, limit: number, op: () => Promise<T>): Promise<T> {
  let fired = false;
  const timer = setTimeout(() => {
    fired = true;
    // KILL QUERY from another session ends the waiting FLUSH; writers queued behind it go on.
    void (async () => {
      try {
        const killer = await BinlogConnection.open(source);
        try {
          await killer.query(`KILL QUERY ${control.threadId}`);
        } finally {
          killer.close();
        }
      } catch (err) {
        log.warn(`could not end the waiting FLUSH TABLES WITH READ LOCK: ${(err as Error).message}`);
      }
    })();
  }, limit * 1000);
  try {
    return await op();
  } catch (err) {
    if (fired || /lock wait timeout/i.test((err as Error).message)) {
      throw new ReplicateError(
        "COPY_LOCK_TIMEOUT",
        `the global read lock was not granted within [copy] lock_timeout_seconds = ${limit} (a long statement or transaction holds tables); it was given up so as not to stall the source's writers. Run copy again when the source is quieter, or raise the limit`,
        { cause: err },
      );
    }
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
