// The caught-up wait of a cutover: the source's position now is recorded, then the log is
// watched until `source` has read past it, and the sink's checkpoint until every transaction up
// to there is applied. The point to pass is fixed the first time the log reaches the recorded
// position (its last transaction then), so writes the source still takes cannot move it away.

import { BinlogConnection } from "../binlog/connection.ts";
import type { Config } from "../config/types.ts";
import { connectTarget } from "../dialect/connect.ts";
import { ReplicateError } from "../errors.ts";
import { log } from "../runtime/log.ts";
import { sleepUnlessStopped } from "../runtime/signals.ts";
import { reached } from "./distance.ts";
import { readLog, readSink, readSource, type SourceState } from "./positions.ts";

const POLL_MS = 500;
const SAY_MS = 5000;

interface CaughtUp {
  /** The source position recorded when the wait began. */
  source: SourceState;
  /** The log offset the sink had to pass (null: the log held no transaction to apply). */
  needed: bigint | null;
  seconds: number;
}

export async function waitCaughtUp(cfg: Config, timeoutMs: number, signal: AbortSignal): Promise<CaughtUp> {
  if (!cfg.source || !cfg.transport || !cfg.target) {
    throw new ReplicateError("CONFIG_MISSING_KEY", "waiting until caught up reads the source, the log and the target: [source], [transport] and [target] are all needed", {
      kind: "config",
    });
  }
  const began = Date.now();
  const conn = await BinlogConnection.open(cfg.source);
  let source: SourceState;
  try {
    source = await readSource(conn);
  } finally {
    conn.close();
  }
  log.info(`waiting until the target has every transaction the source committed up to ${source.file}:${source.pos}${source.gtid ? ` (GTID ${source.gtid})` : ""}`);
  const sql = connectTarget(cfg.target, 1);
  let needed: bigint | null | undefined;
  let said = Date.now();
  let where = "";
  try {
    for (;;) {
      const l = await readLog(cfg.transport);
      if (needed === undefined && reached(l.lastPosition, source)) needed = l.lastTx?.offset ?? null;
      const sink = await readSink(sql);
      const low = sink?.lowWater ?? 0n;
      if (needed !== undefined && (needed === null || low > needed)) {
        const seconds = (Date.now() - began) / 1000;
        log.info(`caught up: the target has everything the source committed up to ${source.file}:${source.pos} (${seconds.toFixed(1)} s)`);
        return { source, needed, seconds };
      }
      where =
        needed === undefined
          ? `source has read up to ${l.lastPosition ? `${l.lastPosition.file}:${l.lastPosition.pos}` : "nothing yet"}, short of ${source.file}:${source.pos}`
          : `sink has applied below log offset ${low}, short of ${needed + 1n} (log end ${l.end})`;
      if (Date.now() - began >= timeoutMs) {
        throw new ReplicateError(
          "CAUGHT_UP_TIMEOUT",
          `not caught up within ${Math.round(timeoutMs / 1000)} s: the ${where}. Check that source and sink are running (gs-replicate status)`,
          { where: `${source.file}:${source.pos}` },
        );
      }
      if (Date.now() - said >= SAY_MS) {
        log.info(`still waiting: ${where}`);
        said = Date.now();
      }
      await sleepUnlessStopped(POLL_MS, signal);
      if (signal.aborted) throw new ReplicateError("CAUGHT_UP_TIMEOUT", `stopped by a signal before caught up: the ${where}`, { where: `${source.file}:${source.pos}` });
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
}
