// Worker connections and the apply-one-transaction routine.
//
// Each worker owns a reserved connection, so a transaction travels as one pipeline:
//   BEGIN | checkpoint row | the changes …   (one round trip, row counts checked)   then COMMIT
// The checkpoint row goes first: if an earlier attempt did commit but its answer was lost with
// the connection, the retry fails on that row's key at once, and is recognised as already
// applied instead of being applied twice. Retriable failures (deadlock, serialization failure,
// lost connection) retry the same transaction whole, in its scheduler slot, so order holds.

import type postgres from "postgres";
import { isRetriable } from "../errors.ts";
import { log } from "../cli/log.ts";
import type { SinkTx, TxItem } from "./assembler.ts";
import { applyChanges, asTargetError, type ApplyContext } from "./apply.ts";
import { CHECKPOINT_SCHEMA, recordApplied } from "./checkpoint.ts";

const MAX_ATTEMPTS = 8;

export class WorkerPool {
  private readonly free: postgres.ReservedSql[] = [];

  constructor(private readonly sql: postgres.Sql) {}

  async take(): Promise<postgres.ReservedSql> {
    return this.free.pop() ?? (await this.sql.reserve());
  }

  give(conn: postgres.ReservedSql): void {
    this.free.push(conn);
  }

  /** A connection that failed is not reused: it may be closed or mid-transaction. */
  drop(conn: postgres.ReservedSql): void {
    conn.release();
  }

  close(): void {
    for (const c of this.free.splice(0)) c.release();
  }
}

export interface ApplyOptions {
  ctx: ApplyContext;
  /** Resolves when this transaction may commit (preserve_commit_order), else undefined. */
  commitTurn?: () => Promise<void>;
}

export async function applyTransaction(pool: WorkerPool, tx: SinkTx, opts: ApplyOptions): Promise<void> {
  const { ctx } = opts;
  for (let attempt = 1; ; attempt++) {
    const conn = await pool.take();
    try {
      const lead = [
        conn.unsafe("BEGIN"),
        recordApplied(conn, { offset: tx.offset, gtid: tx.end.gtid, file: tx.begin.file, pos: tx.begin.pos, endPos: tx.end.pos }),
      ];
      await applyChanges(conn, tx.items as TxItem[], ctx, lead);
      if (opts.commitTurn) await opts.commitTurn();
      await conn.unsafe("COMMIT");
      pool.give(conn);
      return;
    } catch (err) {
      const rolledBack = await conn.unsafe("ROLLBACK").then(
        () => true,
        () => false,
      );
      if (rolledBack) pool.give(conn);
      else pool.drop(conn);
      if (alreadyApplied(err)) {
        log.info(`${ctx.describe} was already applied (its commit's answer was lost); not applying it again`);
        return;
      }
      const e = asTargetError(err, ctx);
      if (!isRetriable(e) || attempt >= MAX_ATTEMPTS) throw e;
      const delay = Math.min(10_000, 100 * 2 ** attempt);
      log.warn(`${e.message}; retrying the whole transaction in ${delay} ms (attempt ${attempt + 1} of ${MAX_ATTEMPTS})`);
      await Bun.sleep(delay);
    }
  }
}

function alreadyApplied(err: unknown): boolean {
  const e = (err instanceof Error && "cause" in err && err.cause ? err.cause : err) as { code?: string; schema_name?: string; table_name?: string };
  return e.code === "23505" && e.table_name === "applied" && (e.schema_name === undefined || e.schema_name === CHECKPOINT_SCHEMA);
}
