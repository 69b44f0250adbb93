// Worker connections and the apply-one-transaction routine.
//
// Each worker owns a reserved connection. A unit (one or more source transactions applied as
// one target transaction) is first sent as ONE query (batch.ts):
//   BEGIN; checkpoint rows; EXECUTE … per statement; COMMIT   (the server checks that each
//   UPDATE/DELETE changed one row, apply.ts). With preserve_commit_order, COMMIT waits for
//   the unit's turn and goes in a second round trip.
// If that fails with anything but a lost connection or a retriable conflict, the unit is
// applied again on the precise path — each statement prepared and pipelined on its own, in
// one round trip too — so that a data error names its statement and row.
// The checkpoint row goes first: if an earlier attempt did commit but its answer was lost with
// the connection, the retry fails on that row's key at once, and is recognised as already
// applied instead of being applied twice. Retriable failures (deadlock, serialization failure,
// lost connection) retry the same transaction whole, in its slot, so order holds.
//
// Dead connections. When the target restarts, postgres.js (3.4) puts a reserved connection
// whose socket closed back into its pool, which may reconnect it for another caller, yet the
// reserved handle still accepts statements: one sent then throws from a timer and kills the
// process, or interleaves with that other caller. So each handle learns of its close (the
// `onexecute` query option hands over postgres.js's connection object, whose `onclose` the pool
// calls when it closes) and a closed handle is never used again, not even for ROLLBACK or
// release(): the pool already has it back. A handle that failed with a connection-level error
// is treated the same way, because the close that follows may not have arrived yet.

import type postgres from "postgres";
import { connectionLost, isRetriable, ReplicateError } from "../errors.ts";
import { errorFields, log } from "../runtime/log.ts";
import { noteRetry } from "../runtime/metrics.ts";
import { sleepUnlessStopped } from "../runtime/signals.ts";
import type { SinkTx, TxItem } from "./assembler.ts";
import { applyChanges, asTargetError, planStatements, type ApplyContext } from "./apply.ts";
import { applyAsOneQuery, literalChars, MAX_QUERY_CHARS } from "./batch.ts";
import { CHECKPOINT_SCHEMA } from "../checkpoint-names.ts";
import { countRecorded, holdStatement, recordApplied } from "./checkpoint.ts";
import { foreignKeyViolation, uniqueViolationTable } from "../dialect/errors.ts";
import { applyUnchecked, uncheckedNote, needsUncheckedParents, type RelaxedKey, type UncheckedScope } from "./unchecked.ts";
import { backoff } from "../backoff.ts";

// 0.2 s doubling to 10 s: about 40 s in all, which covers a target restart with crash recovery.
const MAX_ATTEMPTS = 10;

/** A reserved connection and whether it may still be used. */
export class WorkerConn {
  private closed = false;
  private onClosed: (() => void) | undefined;
  /** Statements prepared on this connection for the one-query path (batch.ts). */
  readonly prepared = new Map<string, string>();

  constructor(readonly sql: postgres.ReservedSql) {}

  get usable(): boolean {
    return !this.closed;
  }

  markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClosed?.();
  }

  /** `fn` runs once, when this connection closes (the sink lock's session, checkpoint.ts). */
  whenClosed(fn: () => void): void {
    this.onClosed = fn;
  }

  /** Throws a retriable error instead of sending on a connection that is gone. */
  check(what: string): void {
    if (this.closed) {
      throw new ReplicateError("TARGET_CONNECTION", `the target connection closed before ${what}`, { retriable: true, where: what });
    }
  }
}

/** The part of postgres.js's connection object used here (not in its typings). */
interface RawConnection {
  onclose: ((err: unknown) => void) | null;
}

export class WorkerPool {
  private readonly free: WorkerConn[] = [];

  /**
   * `owner`: the token this sink claimed the checkpoint with (checkpoint.ts claimOwner); every
   * unit's transaction starts by holding it. Undefined only where no sink runs (tests of the
   * apply routine alone).
   */
  constructor(
    private readonly sql: postgres.Sql,
    readonly owner?: string,
  ) {}

  /** The statement after BEGIN that makes a unit fail unless this sink still owns the checkpoint. */
  hold(offsets: readonly bigint[]): string | undefined {
    if (this.owner === undefined) return undefined;
    let first = offsets[0]!;
    for (const o of offsets) if (o < first) first = o;
    return holdStatement(this.owner, first);
  }

  async take(): Promise<WorkerConn> {
    for (let c = this.free.pop(); c; c = this.free.pop()) if (c.usable) return c;
    return reserveWatched(this.sql);
  }

  give(conn: WorkerConn): void {
    if (conn.usable) this.free.push(conn);
  }

  /** A connection that failed is not reused: it may be closed or mid-transaction. */
  drop(conn: WorkerConn): void {
    if (conn.usable) conn.sql.release();
    conn.markClosed();
  }

  /**
   * After a failure: ROLLBACK and keep the connection when it is alive, else forget it.
   * Returns whether it was kept.
   */
  async recover(conn: WorkerConn, err: unknown): Promise<boolean> {
    if (connectionLost(err)) conn.markClosed();
    if (!conn.usable) return false;
    const rolledBack = await conn.sql.unsafe("ROLLBACK").then(
      () => true,
      () => false,
    );
    if (rolledBack && conn.usable) this.give(conn);
    else this.drop(conn);
    return rolledBack;
  }

  close(): void {
    for (const c of this.free.splice(0)) if (c.usable) c.sql.release();
  }
}

/** Reserves a connection whose close is noticed (see the file header). */
async function reserveWatched(sql: postgres.Sql): Promise<WorkerConn> {
  const reserved = await sql.reserve();
  const conn = new WorkerConn(reserved);
  let watched = false;
  const onexecute = (raw: RawConnection): boolean => {
    watched = true;
    raw.onclose = () => conn.markClosed();
    return true; // postgres.js: the connection may take more statements
  };
  try {
    await reserved.unsafe("SELECT 1", [], { onexecute } as postgres.UnsafeQueryOptions);
  } catch (err) {
    if (connectionLost(err)) conn.markClosed();
    if (conn.usable) reserved.release();
    throw err;
  }
  if (!watched) {
    reserved.release();
    throw new ReplicateError("INTERNAL", "postgres.js did not hand over the reserved connection (onexecute); this build of gs-replicate needs postgres.js 3.4");
  }
  return conn;
}

interface ApplyOptions {
  /** Describes a transaction for messages. */
  describe: (tx: SinkTx) => string;
  ctx: Omit<ApplyContext, "describe">;
  /** Resolves when this unit may commit (preserve_commit_order), else undefined. */
  commitTurn?: () => Promise<void>;
  /** Told what a retry waits for (a message), and undefined once the unit is applied. */
  onWait?: (what: string | undefined) => void;
  /** A stop: retries end, the unit stays unapplied (the checkpoint says so to the next run). */
  signal?: AbortSignal;
}

/**
 * Applies consecutive source transactions as ONE target transaction (a group: the target then
 * passes from one state the source had to a later one, with one commit instead of several).
 * A data error in a group is retried member by member, so the error names the transaction
 * and row it belongs to, and the members before it are applied.
 */
export async function applyTransactions(pool: WorkerPool, txs: SinkTx[], opts: ApplyOptions): Promise<void> {
  const describe = txs.length === 1 ? opts.describe(txs[0]!) : `transactions ${opts.describe(txs[0]!)} … ${opts.describe(txs.at(-1)!)}`;
  const ctx: ApplyContext = { ...opts.ctx, describe };
  const items = txs.length === 1 ? (txs[0]!.items as TxItem[]) : txs.flatMap((t) => t.items as TxItem[]);
  const records = txs.map((tx) => ({ offset: tx.offset, gtid: tx.end.gtid, file: tx.begin.file, pos: tx.begin.pos, endPos: tx.end.pos }));
  // Rows written with FOREIGN_KEY_CHECKS=0 that delete or update parents go alone, without
  // the cascading keys from the start (unchecked.ts); other such rows only once a key refused them.
  if (txs.length > 1 && txs.some(needsUncheckedParents)) {
    for (const tx of txs) await applyTransactions(pool, [tx], opts);
    return;
  }
  let unchecked: UncheckedScope | undefined = txs.length === 1 && needsUncheckedParents(txs[0]!) ? "cascades" : undefined;
  let precise = unchecked !== undefined;
  let relaxed: RelaxedKey[] = [];
  for (let attempt = 1; ; attempt++) {
    let conn: WorkerConn | undefined;
    try {
      conn = await pool.take();
      const c = conn;
      const statements = precise ? [] : planStatements(items, ctx);
      // Values too large for one query string go the precise path from the start.
      if (!precise && literalChars(statements) > MAX_QUERY_CHARS) precise = true;
      const commitNow = !opts.commitTurn;
      const hold = pool.hold(records.map((r) => r.offset));
      const lead = () => [c.sql.unsafe("BEGIN"), ...(hold ? [c.sql.unsafe(hold)] : []), recordApplied(c.sql, records)];
      if (!precise) {
        await applyAsOneQuery(c, statements, records, commitNow, hold);
      } else if (unchecked) {
        relaxed = await applyUnchecked(c.sql, items, ctx, lead(), unchecked);
        if (commitNow) committed(await c.sql.unsafe("COMMIT"), describe);
      } else {
        // Row counts are checked on the server (apply.ts), so COMMIT can join the pipeline.
        const done = await applyChanges(c.sql, items, ctx, lead(), commitNow ? () => c.sql.unsafe("COMMIT") : undefined);
        if (commitNow) committed(done, describe);
      }
      if (opts.commitTurn) {
        await opts.commitTurn();
        c.check(`the COMMIT of ${describe}`);
        await c.sql.unsafe("COMMIT");
      }
      pool.give(conn);
      if (attempt > 1) opts.onWait?.(undefined);
      if (relaxed.length > 0) {
        log.info(uncheckedNote(describe, relaxed));
      }
      return;
    } catch (err) {
      if (conn) await pool.recover(conn, err);
      if (
        await appliedEarlier(
          err,
          records.map((r) => r.offset),
          pool,
        )
      ) {
        log.info(`${describe} was already applied (its commit's answer was lost); not applying it again`);
        if (attempt > 1) opts.onWait?.(undefined);
        return;
      }
      const e = asTargetError(err, ctx);
      if (e.code === "SINK_ALREADY_RUNNING") throw e;
      if (!precise && !isRetriable(e)) {
        // Apply the same unit again statement by statement: if it fails again, that says
        // which statement and row (batch.ts reports nothing finer than the transaction).
        log.debug(`${describe}: the one-query form failed (${(err as Error).message}); applying it statement by statement`);
        precise = true;
        attempt--;
        continue;
      }
      if (precise && unchecked !== "all" && txs.length === 1 && !txs[0]!.end.foreignKeyChecks && foreignKeyViolation(err)) {
        log.debug(`${describe}: a foreign key refused rows written with FOREIGN_KEY_CHECKS=0 (${(err as Error).message}); applying them without it`);
        unchecked = "all";
        attempt--;
        continue;
      }
      if (!isRetriable(e) && txs.length > 1) {
        for (const tx of txs) await applyTransactions(pool, [tx], opts);
        return;
      }
      if (!isRetriable(e) || attempt >= MAX_ATTEMPTS || opts.signal?.aborted) throw e;
      const delay = backoff(attempt, { firstMs: 200, maxMs: 10_000 });
      noteRetry("transaction", e);
      log.warn({ message: `${e.message}; retrying the whole transaction in ${delay} ms (attempt ${attempt + 1} of ${MAX_ATTEMPTS})`, ...errorFields(e) });
      opts.onWait?.(`the target (retrying a transaction, attempt ${attempt + 1} of ${MAX_ATTEMPTS})`);
      await sleepUnlessStopped(delay, opts.signal);
      if (opts.signal?.aborted) throw e;
    }
  }
}

/**
 * An aborted transaction answers COMMIT with ROLLBACK; an error before it was thrown already,
 * so this is a last guard against counting a rolled-back unit as applied.
 */
function committed(done: postgres.RowList<postgres.Row[]> | undefined, describe: string): void {
  if (done?.command !== "COMMIT") {
    throw new ReplicateError("TARGET_CONNECTION", `the target answered the COMMIT of ${describe} with ${done?.command ?? "nothing"}`, { retriable: true, where: describe });
  }
}

/**
 * Whether a failed unit had been committed by an earlier attempt whose answer was lost with
 * the connection: its checkpoint row goes first, so the retry fails on that row's key. Where
 * the server names the table of a duplicate key (PostgreSQL) that settles it; where it does
 * not (openGauss, src/dialect/errors.ts), the target is asked whether the unit's rows are
 * recorded — a duplicate key in the data itself must stop the sink, never be taken as applied.
 */
export async function appliedEarlier(err: unknown, offsets: bigint[], pool: WorkerPool): Promise<boolean> {
  const t = uniqueViolationTable(err);
  if (t === undefined) return false;
  if (t !== "unknown") return t.table === "applied" && (t.schema === undefined || t.schema === CHECKPOINT_SCHEMA);
  const conn = await pool.take();
  try {
    const recorded = await countRecorded(conn.sql, offsets);
    pool.give(conn);
    return recorded === offsets.length;
  } catch (cause) {
    await pool.recover(conn, cause);
    throw cause;
  }
}
