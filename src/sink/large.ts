// A transaction too large to hold in memory (src/sink/assembler.ts LARGE_ITEMS): applied chunk
// by chunk, as the log delivers it, on one reserved connection, as a barrier (nothing else
// runs meanwhile). Its checkpoint row is written with its commit. A failure here stops the
// sink (the chunks already read cannot be replayed in place); a restart applies it again.

import type postgres from "postgres";
import { ReplicateError } from "../errors.ts";
import type { BeginMessage, EndMessage } from "../events/decode.ts";
import type { TxItem } from "./assembler.ts";
import { applyChanges, asTargetError, type ApplyContext } from "./apply.ts";
import { recordApplied } from "./checkpoint.ts";

export class LargeTx {
  private constructor(
    readonly seq: number,
    readonly offset: bigint,
    private readonly begin: BeginMessage,
    private conn: postgres.ReservedSql | null,
    private readonly ctx: ApplyContext,
  ) {}

  /** `skip`: the checkpoint says it is applied; its chunks are read and dropped. */
  static async open(sql: postgres.Sql, seq: number, offset: bigint, begin: BeginMessage, skip: boolean, ctx: ApplyContext): Promise<LargeTx> {
    if (skip) return new LargeTx(seq, offset, begin, null, ctx);
    const conn = await sql.reserve();
    await conn.unsafe("BEGIN");
    return new LargeTx(seq, offset, begin, conn, ctx);
  }

  async apply(items: TxItem[]): Promise<void> {
    if (!this.conn) return;
    if (items.some((i) => i.kind === "ddl")) {
      throw new ReplicateError("TARGET_DDL_INCOMPATIBLE", `${this.ctx.describe}: DDL inside a very large transaction is not supported`, { where: this.ctx.describe });
    }
    try {
      await applyChanges(this.conn, items, this.ctx);
    } catch (err) {
      await this.rollback();
      throw asTargetError(err, this.ctx);
    }
  }

  async commit(end: EndMessage): Promise<void> {
    const conn = this.conn;
    if (!conn) return;
    try {
      await recordApplied(conn, [{ offset: this.offset, gtid: end.gtid, file: this.begin.file, pos: this.begin.pos, endPos: end.pos }]);
      await conn.unsafe("COMMIT");
      this.conn = null;
      conn.release();
    } catch (err) {
      await this.rollback();
      throw asTargetError(err, this.ctx);
    }
  }

  async rollback(): Promise<void> {
    const conn = this.conn;
    if (!conn) return;
    this.conn = null;
    await conn.unsafe("ROLLBACK").catch(() => undefined);
    conn.release();
  }
}
