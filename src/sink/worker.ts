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
  /** Describes a transaction for messages. */
  describe: (tx: SinkTx) => string;
  ctx: Omit<ApplyContext, "describe">;
  /** Resolves when this unit may commit (preserve_commit_order), else undefined. */
  commitTurn?: () => Promise<void>;
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
  for (let attempt = 1; ; attempt++) {
    const conn = await pool.take();
    try {
      const lead = [conn.unsafe("BEGIN"), recordApplied(conn, records)];
      await applyChanges(conn, items, ctx, lead);
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
        log.info(`${describe} was already applied (its commit's answer was lost); not applying it again`);
        return;
      }
      const e = asTargetError(err, ctx);
      if (!isRetriable(e) && txs.length > 1) {
        for (const tx of txs) await applyTransactions(pool, [tx], opts);
        return;
      }
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
