// A unit whose COMMIT reached the target but whose answer was lost with the connection (a target
// crash at that instant) is retried; its checkpoint row, sent first, then meets its own key. That
// must read as "already applied" on both targets — openGauss names no table in its error
// response (src/dialect/errors.ts), which once stopped the sink with TARGET_DATA on applied_pkey
// after a crash — while a duplicate key in the user's data, even in a table called "applied",
// must still stop the sink.
import { describe, expect, test } from "bun:test";
import { CHECKPOINT_SCHEMA } from "../../src/checkpoint-names.ts";
import { ensureCheckpointTables, recordApplied } from "../../src/sink/checkpoint.ts";
import { appliedEarlier, applyTransactions, WorkerPool } from "../../src/sink/worker.ts";
import { ReplicateError } from "../../src/errors.ts";
import { setLogLevel } from "../../src/runtime/log.ts";
import { getTarget, TARGETS, uniqueName } from "../support/servers.ts";
import { emptyTx } from "../support/sink-tx.ts";

setLogLevel("error");

async function duplicateError(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (err) {
    return err;
  }
  throw new Error("the duplicate insert succeeded");
}

describe.each(TARGETS)("a unit committed by an attempt whose answer was lost (%s)", (dialect) => {
  test("its retry is recognised as applied; a duplicate key in the data (a user table named applied) is not", async () => {
    const target = await getTarget(dialect);
    const name = uniqueName("applied_earlier");
    await target.createDatabase(name);
    const sql = target.productSql(name);
    const pool = new WorkerPool(sql);
    try {
      await ensureCheckpointTables(sql);
      await sql.unsafe(`CREATE SCHEMA "${name}"; CREATE TABLE "${name}".applied (log_offset bigint PRIMARY KEY)`);
      const tx = emptyTx(42n);
      const record = { offset: tx.offset, gtid: tx.end.gtid, file: tx.begin.file, pos: tx.begin.pos, endPos: tx.end.pos };
      await sql.begin((t) => [recordApplied(t, [record])]);

      const again = await duplicateError(() => sql.begin((t) => [recordApplied(t, [record])]));
      expect(await appliedEarlier(again, [42n], pool)).toBe(true);
      // The whole worker routine: the retry returns instead of stopping on applied_pkey.
      await applyTransactions(pool, [tx], { describe: (t) => `GTID ${t.end.gtid}`, ctx: { schemaMapping: {}, zeroDate: "error" } });
      const [{ n }] = (await sql.unsafe(`SELECT count(*)::int AS n FROM ${CHECKPOINT_SCHEMA}.applied`)) as unknown as [{ n: number }];
      expect(n).toBe(1);

      await sql.unsafe(`INSERT INTO "${name}".applied VALUES (7)`);
      const data = await duplicateError(() => sql.unsafe(`INSERT INTO "${name}".applied VALUES (7)`));
      expect(await appliedEarlier(data, [7n], pool)).toBe(false);
      expect(await appliedEarlier(new ReplicateError("TARGET_DATA", "not a duplicate", { retriable: false, where: "x" }), [42n], pool)).toBe(false);
    } finally {
      pool.close();
      await sql.end();
    }
  });
});
