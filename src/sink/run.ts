// The sink's main loop: log → whole transactions → units → scheduler → worker connections.
//
// One reader (this loop) assembles transactions in log order. Consecutive transactions are
// gathered into a unit while any unit is being applied (up to [sink] group_transactions or GROUP_ITEMS (group.ts)
// changes, never across a binlog file, a DDL or a transaction already applied); a unit is
// applied as one target transaction by whichever worker is free once the units it depends on
// have committed, together with its members' checkpoint rows. When nothing is being applied,
// or the log pauses for IDLE_MS, the pending group goes out at once: grouping costs latency
// only while there is a backlog, and bigger units cost less CPU per transaction.
// A huge transaction streams in chunks on one reserved connection as a barrier; DDL is a
// barrier. A data error stops the sink with nothing of that transaction applied.
// Outages are waited out (retry.ts): a target restart retries the statement or the whole
// transaction that met it, a broker outage reads the log again from the next offset, and the
// progress line says what the sink waits for. A stop (SIGTERM) ends those waits: whatever
// failed because of the outage is left to the next run, which the checkpoint tells where to
// resume, and the sink exits 0.
// Start-up order: the sink lock (one sink per target database, checkpoint.ts), the
// checkpoint, the copy's ledger when `copy` loaded the target (reconcile.ts: a copy not
// finished stops the sink; a finished one filters what its chunks already hold until the
// log passes its last snapshot), then the log (waited for: brokers not up yet, a topic not
// created yet).

import { randomUUID } from "node:crypto";
import type { Config } from "../config/types.ts";
import { LogDecoder, type BeginMessage } from "../events/decode.ts";
import { connectTarget } from "../dialect/connect.ts";
import { log } from "../runtime/log.ts";
import { Progress } from "../runtime/progress.ts";
import { metrics } from "../runtime/metrics.ts";
import { TICK, withTicks } from "../runtime/ticks.ts";
import { assemble } from "./assembler.ts";
import { advanceLowWater, saveSchema, type SinkLock } from "./checkpoint.ts";
import { CursorPublisher } from "./cursor.ts";
import { Scheduler } from "./scheduler.ts";
import { readKeyPolicy } from "./catalog.ts";
import { LowWater } from "./low-water.ts";
import { WorkerPool } from "./worker.ts";
import { WaitBoard, openLogWaiting, readRetrying, retryTarget } from "./retry.ts";
import { describeError, isRetriable, type ReplicateError } from "../errors.ts";
import { ReadPosition } from "./caught-up.ts";
import { checkLogEnd, startOnTarget } from "./start.ts";
import { describeLog } from "../transport/open.ts";
import type { LogReader, OffsetRecord } from "../log-contract.ts";
import { LargeTx } from "./large.ts";
import { TargetWatch } from "./liveness.ts";
import { TxGroup } from "./group.ts";
import { describeBegin, UnitRunner } from "./units.ts";
import { loadCopyFilter } from "./reconcile.ts";
import { comparePositions } from "../binlog/position.ts";

interface SinkRun {
  config: Config;
  stopAtEnd: boolean;
  signal: AbortSignal;
  /** `--skip-ddl`: the GTID (or "file:pos") of one DDL transaction the operator applied by hand. */
  skipDdl?: string;
}

const IDLE_MS = 5;

/**
 * What the sink read from the log: records and bytes as they arrive, transactions and their
 * events once assembled. Plain numbers (added to per record), read by the metrics when scraped;
 * made when `sink` runs, so other commands do not show them.
 */
function readCounters() {
  const c = { records: 0, bytes: 0, events: 0, transactions: 0 };
  const m = "gs_replicate_sink";
  metrics.counterFn(`${m}_records_read_total`, "Records read from the log", () => c.records);
  metrics.counterFn(`${m}_bytes_read_total`, "Bytes of the records read from the log", () => c.bytes);
  metrics.counterFn(`${m}_events_read_total`, "Row changes and DDL statements read from the log (assembled into transactions)", () => c.events);
  metrics.counterFn(`${m}_transactions_read_total`, "Whole transactions read from the log", () => c.transactions);
  return c;
}

async function* counted(records: AsyncIterable<OffsetRecord>, read: ReturnType<typeof readCounters>): AsyncGenerator<OffsetRecord> {
  for await (const r of records) {
    read.records++;
    read.bytes += r.record.value.length;
    yield r;
  }
}

export async function runSink(run: SinkRun): Promise<void> {
  const cfg = run.config;
  const target = cfg.target!;
  const workers = cfg.sink.workers;
  // The workers, a large transaction's connection, the checkpoint's statements, the lock's session.
  const sql = connectTarget(target, workers + 3);
  const progress = new Progress(cfg.log.progress_seconds, "sink", "applied");
  const read = readCounters();
  const board = new WaitBoard((text) => (progress.waitingFor = text));
  // This process's claim on the checkpoint (checkpoint.ts claimOwner, hold).
  const pool = new WorkerPool(sql, randomUUID());
  let reader: LogReader | null = null;
  let lock: SinkLock | undefined;
  let cursor: CursorPublisher | undefined;
  // Reports also while the loop below is blocked (all workers retrying, log stalled).
  const reporter = setInterval(() => progress.maybeReport(), 1000);
  // A stop waits TARGET_STOP_GRACE_MS for the units in flight; a target that stopped answering
  // (a partition: connections open, no reply) would hold them for ever, so then every
  // connection is closed: the server rolls those units back and the next run applies them.
  let cutOff: ReturnType<typeof setTimeout> | undefined;
  let watch: TargetWatch | undefined;
  let unresponsive: ReplicateError | undefined;
  const onStop = () => {
    cutOff = setTimeout(() => {
      log.warn(
        `the target has not finished the transactions in flight within ${TARGET_STOP_GRACE_MS} ms of the stop: closing its connections (nothing of those is committed; the next run applies them)`,
      );
      void sql.end({ timeout: 0 });
    }, TARGET_STOP_GRACE_MS);
    cutOff.unref?.();
  };
  run.signal.addEventListener("abort", onStop, { once: true });
  try {
    const { state, lock: held } = await startOnTarget(sql, target, pool, board, run.signal);
    lock = held;
    let copy = await retryTarget("reading the copy's ledger", board, () => loadCopyFilter(sql), run.signal);
    // A checkpoint already past the copy's last snapshot position: every transaction from here on
    // begins after it, so the filter has nothing left to do (and nothing to say).
    if (copy && state.lowWaterFile !== null && state.lowWaterPos !== null && comparePositions({ file: state.lowWaterFile, pos: state.lowWaterPos }, copy.horizon) >= 0) copy = null;
    if (copy) log.info(`taking over from copy: ${copy.describe()}`);
    if (!copy?.active) copy = null;
    reader = await openLogWaiting(cfg.transport!, board, { follow: !run.stopAtEnd, signal: run.signal });
    if (!reader) {
      progress.report("stopped on signal");
      return;
    }
    await checkLogEnd(reader, state.lowWater, run.stopAtEnd, board);
    cursor = new CursorPublisher(reader);
    cursor.note(state.lowWater);
    const decoder = new LogDecoder();
    for (const s of state.schemas) decoder.register(s);
    const knownSchemas = new Set<string>();
    const low = new LowWater(state.lowWater, state.lowWaterFile, state.lowWaterPos);
    const scheduler = new Scheduler({ mode: "auto", preserveCommitOrder: cfg.sink.preserve_commit_order, workers, maxInFlight: workers * 8 });
    const keyPolicy = () => retryTarget("reading the target's keys", board, () => readKeyPolicy(sql, target.schema_mapping, cfg.source?.databases ?? []), run.signal);
    const moveLowWater = (m: { offset: bigint; file: string | null; pos: number | null }) =>
      retryTarget(
        "moving the low-water mark",
        board,
        async () => {
          await held.keep();
          await advanceLowWater(sql, m.offset, m.file, m.pos);
          cursor?.note(m.offset);
        },
        run.signal,
      );
    const policy = await keyPolicy();
    const onWait = (key: string) => (what: string | undefined) => (what === undefined ? board.clear(key) : board.set(key, what));
    progress.extra = () => {
      const s = scheduler.stats();
      return `${s.waiting + s.ready} queued, ${s.running}/${workers} workers busy`;
    };
    metrics.gaugeFn("gs_replicate_sink_queue_depth", "Units (groups of transactions) submitted and waiting for a worker or for the units they depend on", () => {
      const s = scheduler.stats();
      return s.waiting + s.ready;
    });
    metrics.gaugeFn("gs_replicate_sink_workers_busy", "Workers applying a unit now", () => scheduler.stats().running);
    metrics.gaugeFn("gs_replicate_sink_workers", "Workers configured ([sink] workers)", () => workers);
    let large: LargeTx | undefined;
    let largeCounted = 0;
    // The streamed transaction's Begin: its later chunks are filtered as of it (reconcile.ts).
    let largeBegin: BeginMessage | undefined;
    // A target silent past [sink] unresponsive_seconds (liveness.ts) ends the waits of the units
    // in flight as a stop would, and is the run's failure.
    const dead = new AbortController();
    const signal = AbortSignal.any([run.signal, dead.signal]);
    const units = new UnitRunner(
      { pool, scheduler, low, progress, target, sink: cfg.sink, signal, onWait, answered: () => watch?.done(), keyPolicy, skipDdl: run.skipDdl },
      policy,
    );
    watch = new TargetWatch(target, {
      boundMs: cfg.sink.unresponsive_seconds * 1000,
      board,
      busy: () => scheduler.stats().running > 0 || large !== undefined,
      onDead: (err) => {
        unresponsive = err;
        units.fail(err);
        dead.abort();
        void sql.end({ timeout: 0 });
      },
    });
    // The lock's session ending while idle is noticed at once (checkpoint.ts SinkLock.watch).
    held.watch((err) => {
      units.fail(err);
      dead.abort();
    }, run.signal);
    const group = new TxGroup(cfg.sink.group_transactions);

    const flushGroup = async () => {
      if (group.isEmpty()) return;
      await units.submit(group.take(), "apply");
    };

    const from = state.lowWater > 0n ? state.lowWater - 1n : 0n;
    const logReader = reader;
    const position = new ReadPosition(from, () => logReader.endOffset());
    progress.refresh = () => {
      position.refresh();
      const s = scheduler.stats();
      progress.idle = position.atEnd() && s.waiting + s.ready + s.running === 0 && group.isEmpty() && large === undefined;
    };
    const records = position.track(counted(low.verifyFirst(readRetrying(reader, from, { follow: !run.stopAtEnd, signal }, board, describeLog(cfg.transport!))), read));
    for await (const a of withTicks(assemble(records, decoder), IDLE_MS)) {
      if (units.failure !== undefined || run.signal.aborted) break;
      if (a !== TICK) board.clear("log-end");
      if (a === TICK) {
        await flushGroup();
      } else if (a.kind === "schema") {
        if (!knownSchemas.has(a.fingerprint)) {
          await retryTarget("saving a schema", board, () => saveSchema(sql, a.fingerprint, a.schema), run.signal);
          knownSchemas.add(a.fingerprint);
        }
      } else if (a.kind === "tx") {
        read.transactions++;
        read.events += a.tx.items.length;
        // Filtered before grouping: writesets and units see only what is applied.
        const tx = copy ? copy.transaction(a.tx) : a.tx;
        if (!copy?.active) copy = null;
        const skip = state.applied.has(tx.offset);
        const ddl = tx.items.some((i) => i.kind === "ddl");
        if (skip || ddl) {
          await flushGroup();
          await units.submitAlone(tx, skip, ddl);
        } else {
          if (group.closesBefore(tx)) await flushGroup();
          group.add(tx);
          if (scheduler.stats().running === 0) await flushGroup();
        }
      } else if (a.kind === "largeBegin") {
        const items = copy ? copy.items(a.begin, a.items) : a.items;
        if (!copy?.active) copy = null;
        largeBegin = a.begin;
        read.events += a.items.length;
        await flushGroup();
        const mySeq = units.nextSeq();
        low.add(mySeq, null, null, null);
        await scheduler.room();
        await scheduler.submit({ seq: mySeq, clock: null, keys: [], barrier: true });
        large = await LargeTx.open(pool, mySeq, a.offset, a.begin, state.applied.has(a.offset), { ...units.ctx, describe: describeBegin(a.begin) });
        await large.apply(items);
        // A streamed transaction's events count as they are applied: the progress line moves
        // during the minutes a million-row transaction takes.
        progress.events += a.items.length;
        largeCounted = a.items.length;
      } else if (a.kind === "largeChunk") {
        read.events += a.items.length;
        await large?.apply(copy && largeBegin ? copy.items(largeBegin, a.items) : a.items);
        watch.done();
        progress.events += a.items.length;
        largeCounted += a.items.length;
      } else if (a.kind === "largeEnd" && large) {
        const l = large;
        large = undefined;
        read.transactions++;
        low.ended(l.seq, a.next, a.end.file, a.end.pos);
        await l.commit(a.end);
        watch.done();
        scheduler.committed(l.seq);
        low.committed(l.seq);
        progress.transactions++;
        progress.events += Math.max(0, a.count - largeCounted);
        progress.position(a.end, a.end.tsMs);
      } else if (a.kind === "largeAbort" && large) {
        await large.rollback();
        scheduler.committed(large.seq);
        low.dropped(large.seq);
        large = undefined;
      }
      progress.maybeReport();
      const moved = low.due() ? low.take() : null;
      if (moved) await moveLowWater(moved);
    }
    if (units.failure === undefined && !run.signal.aborted) await flushGroup();
    await large?.rollback();
    await units.settle();
    pool.close();
    if (units.failure === undefined) {
      const moved = low.take(true);
      if (moved) await moveLowWater(moved);
    }
    if (run.skipDdl !== undefined && !units.skipDdlSeen) {
      log.warn(`--skip-ddl ${run.skipDdl}: no DDL transaction with that GTID or position was met; nothing was skipped`);
    }
    if (units.failure !== undefined && !stoppedWaiting(run, units.failure)) {
      progress.report("stopped by an error");
      throw unresponsive ?? units.failure;
    }
    progress.report(run.signal.aborted ? "stopped on signal" : "caught up");
  } catch (err) {
    // Whatever a silent target made fail, the silence is the cause to report.
    if (unresponsive) throw unresponsive;
    if (!stoppedWaiting(run, err)) throw err;
    progress.report("stopped on signal");
  } finally {
    run.signal.removeEventListener("abort", onStop);
    clearTimeout(cutOff);
    watch?.stop();
    clearInterval(reporter);
    await cursor?.finish(run.signal.aborted);
    await reader?.close();
    lock?.release();
    // Statements in flight against a target that is away are not waited for after a stop.
    await sql.end({ timeout: run.signal.aborted ? 0 : 5 });
  }
}

/** How long a stop waits for the target to finish the units in flight before it closes the connections. */
const TARGET_STOP_GRACE_MS = 3000;

/** A failure met because a stop ended the wait for an outage: a stop, not an error (the checkpoint says where to resume). */
function stoppedWaiting(run: SinkRun, err: unknown): boolean {
  if (!run.signal.aborted || !isRetriable(err)) return false;
  log.info(`stopped while waiting: ${describeError(err)}`);
  return true;
}
