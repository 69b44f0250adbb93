// The sink's start-up on the target, before anything is read from the log: the target is
// reachable and usable, the sink lock is taken (one sink per target database, checkpoint.ts),
// the checkpoint exists and is loaded; then the log is checked against the checkpoint. Each
// step waits out a target that is down (retry.ts), and a stop ends that wait.

import type { TargetConfig } from "../config/types.ts";
import type postgres from "postgres";
import { log } from "../runtime/log.ts";
import { checkTarget } from "../dialect/connect.ts";
import { targetCompatibilityProblem } from "../dialect/compat.ts";
import { ReplicateError } from "../errors.ts";
import type { LogReader } from "../log-contract.ts";
import { type CheckpointState, claimOwner, ensureCheckpointTables, loadCheckpoint, SinkLock } from "./checkpoint.ts";
import { retryTarget, type WaitBoard } from "./retry.ts";
import type { WorkerPool } from "./worker.ts";

export async function startOnTarget(
  sql: postgres.Sql,
  target: TargetConfig,
  pool: WorkerPool,
  board: WaitBoard,
  signal: AbortSignal,
): Promise<{ state: CheckpointState; lock: SinkLock }> {
  const where = `${target.host}:${target.port}/${target.database}`;
  let lock: SinkLock | undefined;
  try {
    const state = await retryTarget(
      "loading the checkpoint",
      board,
      async () => {
        await checkTarget(sql, target);
        // First of all: a second sink must not even create the checkpoint.
        if (lock) await lock.keep();
        else lock = await SinkLock.take(() => pool.take(), where);
        // Before anything is created: an openGauss database in compatibility A would store
        // every MySQL '' as NULL (src/dialect/compat.ts).
        const problem = await targetCompatibilityProblem(sql, target.dialect);
        if (problem) throw new ReplicateError("TARGET_INCOMPATIBLE", `${problem.found}; nothing was applied: ${problem.fix}`, { where });
        await ensureCheckpointTables(sql);
        // Behind the lock, before the checkpoint is read: a sink that lost the lock to this
        // one can commit nothing from here on (checkpoint.ts hold).
        await claimOwner(sql, pool.owner!, (waiting) => (waiting ? board.set("owner", "the transactions of a previous sink to end") : board.clear("owner")), signal);
        return loadCheckpoint(sql);
      },
      signal,
    );
    return { state, lock: lock! };
  } catch (err) {
    lock?.release();
    throw err;
  }
}

/**
 * The checkpoint says everything below `lowWater` is applied, so the log must reach it. A log
 * that ends before is a replaced or cut journal or topic (or a journal that lost records in
 * a power failure, which source writes again): with --stop-at-end that stops the sink, when
 * following it is waited for, as the progress line says; verifyFirst then checks the record.
 */
export async function checkLogEnd(reader: LogReader, lowWater: bigint, stopAtEnd: boolean, board: WaitBoard): Promise<void> {
  const end = await reader.endOffset();
  if (end >= lowWater) return;
  const what = `the log ends at offset ${end}, but the target's checkpoint says every transaction below offset ${lowWater} was applied from it`;
  if (stopAtEnd) {
    throw new ReplicateError(
      "SINK_LOG_GAP",
      `${what}: the journal or topic was replaced or cut. Restore the log the target was replicated from, or start a fresh migration (full copy, new log, empty checkpoint)`,
      { where: `log offset ${lowWater}` },
    );
  }
  log.warn(`${what}; waiting for it to reach that offset (if the journal or topic was replaced, stop the sink: it will not apply anything before the log matches its checkpoint)`);
  board.set("log-end", `the log to reach offset ${lowWater} (checkpoint)`);
}
