// A transaction too large to hold in memory (src/sink/assembler.ts LARGE_ITEMS): applied chunk
// by chunk, as the log delivers it, on one reserved connection, as a barrier (nothing else
// runs meanwhile). Its checkpoint row is written with its commit. A failure here stops the
// sink (the chunks already read cannot be replayed in place); a restart applies it again.
// Rows written with FOREIGN_KEY_CHECKS=0 (the Begin says so) go without the foreign keys
// their chunks meet, put back NOT VALID before the COMMIT (unchecked.ts).

import { ReplicateError } from "../errors.ts";
import type { BeginMessage, EndMessage } from "../events/decode.ts";
import type { TxItem } from "./assembler.ts";
import { applyChanges, asTargetError, type ApplyContext } from "./apply.ts";
import { recordApplied } from "./checkpoint.ts";
import type { WorkerConn, WorkerPool } from "./worker.ts";
import { log } from "../runtime/log.ts";
import { uncheckedNote, UncheckedKeys } from "./unchecked.ts";

/** Statements of a chunk in flight at once. */
const SLICE_ITEMS = 2_000;

export class LargeTx {
  private constructor(
    readonly seq: number,
    readonly offset: bigint,
    private readonly begin: BeginMessage,
    private conn: WorkerConn | null,
    private readonly ctx: ApplyContext,
    private readonly pool: WorkerPool,
    private readonly keys = begin.foreignKeyChecks ? null : new UncheckedKeys("all"),
  ) {}

  /** `skip`: the checkpoint says it is applied; its chunks are read and dropped. */
  static async open(pool: WorkerPool, seq: number, offset: bigint, begin: BeginMessage, skip: boolean, ctx: ApplyContext): Promise<LargeTx> {
    if (skip) return new LargeTx(seq, offset, begin, null, ctx, pool);
    const conn = await pool.take();
    const large = new LargeTx(seq, offset, begin, conn, ctx, pool);
    try {
      await conn.sql.unsafe("BEGIN");
      const hold = pool.hold([offset]);
      if (hold) await conn.sql.unsafe(hold);
    } catch (err) {
      await large.rollback(err);
      throw asTargetError(err, ctx);
    }
    return large;
  }

  async apply(items: TxItem[]): Promise<void> {
    if (!this.conn) return;
    if (items.some((i) => i.kind === "ddl")) {
      throw new ReplicateError("TARGET_DDL_INCOMPATIBLE", `${this.ctx.describe}: DDL inside a very large transaction is not supported`, { where: this.ctx.describe });
    }
    try {
      this.conn.check(this.ctx.describe);
      await this.keys?.takeOff(this.conn.sql, items, this.ctx);
      // In slices: every statement in flight holds its query object and parameters in the
      // driver, so a whole chunk at once (20,000 rows) cost the sink tens of MiB more than a
      // slice; one round trip per slice is all it costs (issue 14 item 3).
      for (let at = 0; at < items.length; at += SLICE_ITEMS) {
        this.conn.check(this.ctx.describe);
        await applyChanges(this.conn.sql, items.slice(at, at + SLICE_ITEMS), this.ctx);
      }
    } catch (err) {
      await this.rollback(err);
      throw asTargetError(err, this.ctx);
    }
  }

  async commit(end: EndMessage): Promise<void> {
    const conn = this.conn;
    if (!conn) return;
    try {
      conn.check(`the COMMIT of ${this.ctx.describe}`);
      const relaxed = (await this.keys?.putBack(conn.sql)) ?? [];
      await recordApplied(conn.sql, [{ offset: this.offset, gtid: end.gtid, file: this.begin.file, pos: this.begin.pos, endPos: end.pos }]);
      await conn.sql.unsafe("COMMIT");
      this.conn = null;
      this.pool.give(conn);
      if (relaxed.length > 0) log.info(uncheckedNote(this.ctx.describe, relaxed));
    } catch (err) {
      await this.rollback(err);
      throw asTargetError(err, this.ctx);
    }
  }

  /** Rolls back (after `err`, if any); a connection that was lost is left to the pool. */
  async rollback(err?: unknown): Promise<void> {
    const conn = this.conn;
    if (!conn) return;
    this.conn = null;
    await this.pool.recover(conn, err);
  }
}
