// The sink's main loop: log → whole transactions → scheduler → worker connections → target.
//
// One reader (this loop) assembles transactions in log order and submits them to the
// scheduler; each is applied on its own target transaction by whichever worker connection is
// free once its dependencies have committed, together with its checkpoint row. A huge
// transaction streams in chunks on one reserved connection as a barrier. DDL is a barrier.
// Retriable failures (deadlock, serialization failure, lost connection) retry the same
// transaction whole, in the same slot, so order is never broken; a data error stops the sink
// with nothing of that transaction applied.

import type postgres from "postgres";
import type { Config } from "../config/types.ts";
import { ReplicateError } from "../errors.ts";
import { LogDecoder, type BeginMessage, type EndMessage } from "../events/decode.ts";
import { checkTarget, connectTarget } from "../dialect/connect.ts";
import { openLogReader } from "../transport/open.ts";
import { log } from "../cli/log.ts";
import { Progress } from "../cli/progress.ts";
import { assemble, type SinkTx, type TxItem } from "./assembler.ts";
import { applyChanges, asTargetError, type ApplyContext } from "./apply.ts";
import { WorkerPool, applyTransaction } from "./worker.ts";
import { advanceLowWater, ensureCheckpointTables, loadCheckpoint, recordApplied, saveSchema } from "./checkpoint.ts";
import { Scheduler } from "./scheduler.ts";
import { WritesetBuilder } from "./writeset.ts";
import { readKeyPolicy } from "./catalog.ts";
import { LowWater } from "./low-water.ts";

export interface SinkRun {
  config: Config;
  stopAtEnd: boolean;
  signal: AbortSignal;
}


export async function runSink(run: SinkRun): Promise<void> {
  const cfg = run.config;
  const target = cfg.target!;
  const workers = cfg.sink.workers;
  const sql = connectTarget(target, workers + 2);
  const reader = await openLogReader(cfg.transport!, { onWarning: (m) => log.warn(m) });
  try {
    await checkTarget(sql, target);
    await ensureCheckpointTables(sql);
    const state = await loadCheckpoint(sql);
    const decoder = new LogDecoder();
    for (const s of state.schemas) decoder.register(s);
    const knownSchemas = new Set<string>();
    const low = new LowWater(state.lowWater, state.lowWaterFile, state.lowWaterPos);
    const scheduler = new Scheduler({ mode: "auto", preserveCommitOrder: cfg.sink.preserve_commit_order, workers, maxInFlight: workers * 8 });
    const writeset = new WritesetBuilder(await readKeyPolicy(sql, target.schema_mapping, cfg.source?.databases ?? []));
    const progress = new Progress(cfg.log.progress_seconds, "sink");
    progress.extra = () => {
      const s = scheduler.stats();
      return `${s.waiting + s.ready} queued, ${s.running}/${workers} workers busy`;
    };
    const ctxBase = { schemaMapping: target.schema_mapping, zeroDate: cfg.sink.zero_date };
    const workersPool = new WorkerPool(sql);
    let failure: unknown;
    const running = new Set<Promise<void>>();
    let seq = 0;

    const from = state.lowWater > 0n ? state.lowWater - 1n : 0n;
    const records = low.verifyFirst(reader.read(from, { follow: !run.stopAtEnd, signal: run.signal }));
    let large: LargeTx | undefined;

    const flushLowWater = async (force = false) => {
      const moved = low.take(force);
      if (moved) await advanceLowWater(sql, moved.offset, moved.file, moved.pos);
    };

    for await (const a of assemble(records, decoder)) {
      if (failure !== undefined || run.signal.aborted) break;
      switch (a.kind) {
        case "schema":
          if (!knownSchemas.has(a.fingerprint)) {
            await saveSchema(sql, a.fingerprint, a.schema);
            knownSchemas.add(a.fingerprint);
          }
          break;
        case "tx": {
          const tx = a.tx;
          const mySeq = seq++;
          low.add(mySeq, tx.next, tx.end.file, tx.end.pos);
          await scheduler.room();
          const skip = state.applied.has(tx.offset);
          const hasDdl = tx.items.some((i) => i.kind === "ddl");
          let barrier = hasDdl;
          let keys: string[] = [];
          if (!skip && !hasDdl) {
            for (const it of tx.items) if (it.kind === "change") writeset.add(it);
            const ws = writeset.take();
            keys = ws.keys;
            barrier = ws.barrier;
          }
          const clock =
            tx.begin.lastCommitted !== null && tx.begin.sequenceNumber !== null
              ? { file: tx.begin.file, lastCommitted: tx.begin.lastCommitted, sequenceNumber: tx.begin.sequenceNumber }
              : null;
          const start = scheduler.submit({ seq: mySeq, clock, keys: skip ? [] : keys, barrier: skip ? false : barrier });
          const p = (async () => {
            await start;
            if (!skip) {
              if (hasDdl) await applyDdl(tx);
              else
                await applyTransaction(workersPool, tx, {
                  ctx: { ...ctxBase, describe: describeTx(tx) },
                  commitTurn: cfg.sink.preserve_commit_order ? () => scheduler.waitCommitTurn(mySeq) : undefined,
                });
            }
            scheduler.committed(mySeq);
            low.committed(mySeq);
            progress.transactions++;
            progress.events += tx.items.length;
            progress.position(tx.end.gtid ?? `${tx.end.file}:${tx.end.pos}`, tx.end.tsMs);
          })().catch((err: unknown) => {
            failure ??= err;
            scheduler.failed(mySeq, err);
          });
          running.add(p);
          void p.finally(() => running.delete(p));
          break;
        }
        case "largeBegin": {
          const mySeq = seq++;
          low.add(mySeq, null, null, null);
          await scheduler.room();
          await scheduler.submit({ seq: mySeq, clock: null, keys: [], barrier: true });
          large = await LargeTx.open(sql, mySeq, a.offset, a.begin, state.applied.has(a.offset), { ...ctxBase, describe: describeBegin(a.begin) });
          await large.apply(a.items);
          break;
        }
        case "largeChunk":
          await large?.apply(a.items);
          break;
        case "largeEnd": {
          if (!large) break;
          const l = large;
          large = undefined;
          low.ended(l.seq, a.next, a.end.file, a.end.pos);
          await l.commit(a.end);
          scheduler.committed(l.seq);
          low.committed(l.seq);
          progress.transactions++;
          progress.events += a.count;
          progress.position(a.end.gtid ?? `${a.end.file}:${a.end.pos}`, a.end.tsMs);
          break;
        }
        case "largeAbort":
          if (large) {
            await large.rollback();
            scheduler.committed(large.seq);
            low.dropped(large.seq);
            large = undefined;
          }
          break;
      }
      progress.maybeReport();
      if (low.due()) await flushLowWater();
    }
    await large?.rollback();
    await Promise.allSettled([...running]);
    workersPool.close();
    if (failure === undefined) await flushLowWater(true);
    progress.report(failure !== undefined ? "stopped by an error" : run.signal.aborted ? "stopped on signal" : "caught up");
    if (failure !== undefined) throw failure;
  } finally {
    await reader.close();
    await sql.end({ timeout: 5 });
  }

  async function applyDdl(tx: SinkTx): Promise<void> {
    const ddl = tx.items.find((i) => i.kind === "ddl");
    throw new ReplicateError(
      "TARGET_DDL_INCOMPATIBLE",
      `${describeTx(tx)} is a DDL statement, and this build does not translate DDL yet: ${ddl?.kind === "ddl" ? ddl.statement : "?"}. Apply the equivalent change on the target by hand.`,
      { where: describeTx(tx) },
    );
  }
}

function describeTx(tx: SinkTx): string {
  return describeBegin(tx.begin);
}

function describeBegin(b: { gtid: string | null; file: string; pos: number }): string {
  return `transaction ${b.gtid ? `GTID ${b.gtid} ` : ""}at ${b.file}:${b.pos}`;
}

/** A transaction too large to hold: applied chunk by chunk on one reserved connection. */
class LargeTx {
  private constructor(
    readonly seq: number,
    readonly offset: bigint,
    private readonly begin: BeginMessage,
    private conn: postgres.ReservedSql | null,
    private readonly ctx: ApplyContext,
  ) {}

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
      await applyChanges(this.conn as unknown as postgres.TransactionSql, items, this.ctx);
    } catch (err) {
      await this.rollback();
      throw asTargetError(err, this.ctx);
    }
  }

  async commit(end: EndMessage): Promise<void> {
    const conn = this.conn;
    if (!conn) return;
    try {
      await recordApplied(conn, { offset: this.offset, gtid: end.gtid, file: this.begin.file, pos: this.begin.pos, endPos: end.pos });
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
