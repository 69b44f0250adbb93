// `gs-replicate source`: binlog → change events → the ordered log.
//
// Batching: records are appended in batches (at most BATCH_RECORDS, or whatever arrived in the
// last FLUSH_MS) and the log is synced at a transaction boundary at most once per SYNC_MS. A
// crash loses at most unsynced records, and restart resumes after the last End that is in the
// log, so nothing is lost or doubled (src/events/resume.ts). Large transactions stream: their
// records are appended before their End exists, and a reader ignores them until it arrives.
// Backpressure: append() resolves when the log took the batch; the binlog queue in front is
// bounded, so a slow log slows reading from the server, not memory.
// Outages: BinlogSource reconnects to the server by itself. A log that fails in a way waiting
// can cure (Kafka brokers away past the writer's own retries) restarts the whole pipeline
// after a backoff, exactly as a restarted process would: from the log's tail. Both show on
// the progress line as what the source is waiting for.

import type { Config } from "../config/types.ts";
import { describeError, isRetriable } from "../errors.ts";
import { BinlogSource } from "../binlog/source.ts";
import { ChangeEventWriter } from "../events/encode.ts";
import { LogDecoder } from "../events/decode.ts";
import { messageToJson } from "../events/json.ts";
import { openLogWriter } from "../transport/open.ts";
import type { LogRecord, LogWriter } from "../log-contract.ts";
import { errorFields, log } from "../runtime/log.ts";
import { metrics, noteRetry, noteWait } from "../runtime/metrics.ts";
import { Progress } from "../runtime/progress.ts";
import { prepareStart } from "./start.ts";
import { afterGrace, sleepUnlessStopped } from "../runtime/signals.ts";
import { TICK, withTicks } from "../runtime/ticks.ts";
import { backoff } from "../backoff.ts";

const BATCH_RECORDS = 4096;
/** A batch is appended once it holds this many bytes, whatever its count: 4,096 rows of 1 MB
 *  values would otherwise wait as 4 GB (issue 14 item 3). */
const BATCH_BYTES = 8 << 20;
/** A record this large is followed by a collection (see flush). */
const HUGE_RECORD_BYTES = 4 << 20;
/** The log is synced at a transaction boundary at most this often: the binlog can always be
 *  read again, so a sync only narrows what a power loss makes the source re-read. */
const SYNC_MS = 1000;
const POSITION_MS = 1000;
const FLUSH_MS = 50;
/** A log write taking longer than this is reported as what the source waits for. */
const SLOW_LOG_MS = 2000;
/** Pipeline restarts in a row without a transaction written, 1 s doubling to 30 s between them. */
const RESTARTS = 10;

interface SourceRun {
  config: Config;
  stopAtEnd: boolean;
  stdout: boolean;
  signal: AbortSignal;
}

/** What each key of the source's waits is, as the `cause` label of the wait metrics. */
const WAIT_CAUSE: Record<string, string> = { restart: "restart", binlog: "source", log: "log" };

/**
 * The binlog's bytes as they arrive, and what the log took: records and bytes appended, and the
 * events and transactions (Ends) they hold. Plain numbers (added to per event), read by the
 * metrics when scraped; made when `source` runs, so other commands do not show them.
 */
function sourceCounters() {
  const c = { binlogBytes: 0, records: 0, bytes: 0, events: 0, transactions: 0 };
  const m = "gs_replicate_source";
  metrics.counterFn(`${m}_binlog_bytes_read_total`, "Bytes of binlog events received from the source", () => c.binlogBytes);
  metrics.counterFn(`${m}_records_written_total`, "Records appended to the log (changes, Begin/End, schemas, positions)", () => c.records);
  metrics.counterFn(`${m}_bytes_written_total`, "Bytes of the records appended to the log", () => c.bytes);
  metrics.counterFn(`${m}_events_written_total`, "Row changes and DDL statements appended to the log", () => c.events);
  metrics.counterFn(`${m}_transactions_written_total`, "Transactions whose End was appended to the log", () => c.transactions);
  return c;
}

type Counters = ReturnType<typeof sourceCounters>;

export async function runSource(run: SourceRun): Promise<void> {
  const progress = new Progress(run.config.log.progress_seconds, "source", "read");
  const counters = sourceCounters();
  const waits = new Map<string, string>();
  const wait = (key: string, what: string | undefined) => {
    if (waits.has(key) !== (what !== undefined)) noteWait(WAIT_CAUSE[key] ?? key, what !== undefined);
    if (what === undefined) waits.delete(key);
    else waits.set(key, what);
    progress.waitingFor = waits.size > 0 ? [...waits.values()].join("; ") : undefined;
  };
  // Reports also while the pipeline is blocked on the log or reconnecting.
  const reporter = setInterval(() => progress.maybeReport(), 1000);
  try {
    for (let failures = 0; ;) {
      const before = progress.transactions;
      try {
        await runPipeline(run, progress, wait, counters);
        return;
      } catch (err) {
        failures = progress.transactions > before ? 1 : failures + 1;
        if (run.signal.aborted && isRetriable(err)) {
          log.info(`stopped while waiting (${describeError(err)}); a restart resumes from the log's tail`);
          return;
        }
        if (!isRetriable(err) || run.stdout || run.signal.aborted || failures > RESTARTS) throw err;
        const delay = backoff(failures, { firstMs: 1000, maxMs: 30_000 });
        noteRetry("restart", err);
        log.warn({ message: `${describeError(err)}; restarting from the log's tail in ${delay} ms (attempt ${failures} of ${RESTARTS})`, ...errorFields(err) });
        wait("restart", `the log or the source to come back (restart ${failures} of ${RESTARTS})`);
        await sleepUnlessStopped(delay, run.signal);
        if (run.signal.aborted) return;
      }
    }
  } finally {
    clearInterval(reporter);
  }
}

/** One run of the pipeline, from the log's tail (or [source] start) onward. */
async function runPipeline(run: SourceRun, progress: Progress, wait: (key: string, what: string | undefined) => void, written: Counters): Promise<void> {
  const cfg = run.config;
  const source = cfg.source!;
  const out = run.stdout ? stdoutWriter() : watchSlow(await openLogWriter(cfg.transport!, { onWarning: (m) => log.warn(m), signal: afterGrace(run.signal) }), cfg, wait);
  try {
    const events = new ChangeEventWriter(source.server_name);
    const { start, history, historyLog, fresh } = await prepareStart(cfg, out, events, !run.stdout, run.stopAtEnd);
    wait("restart", undefined);
    const binlog = new BinlogSource({
      config: source,
      start,
      stopAtEnd: run.stopAtEnd,
      signal: run.signal,
      onWarning: (m) => log.warn(m),
      onWaiting: (what) => wait("binlog", what),
      onRetry: (err) => noteRetry("source", err),
      onBytes: (n) => (written.binlogBytes += n),
      history,
    });
    // The last commit read, and the last position the log records (End or Position): a
    // Position record is written when the source has moved past transactions it did not publish.
    type Pos = { file: string; pos: number; gtid: string | null };
    let read: Pos | null = null;
    let recorded: Pos | null = null;
    let lastPositionAt = 0;
    if (fresh && start.kind === "file" && !run.stdout) {
      await out.append([events.positionRecord(start.file, start.pos, null)]);
      await out.sync();
    }
    let batch: LogRecord[] = [];
    let batchBytes = 0;
    // Events and Ends in `batch`, counted as written once the log took it.
    let batchEvents = 0;
    let batchTx = 0;
    const append = async (b: LogRecord[]) => {
      if (b.length === 0) return;
      const events = batchEvents;
      const tx = batchTx;
      batchEvents = 0;
      batchTx = 0;
      await out.append(b);
      written.records += b.length;
      for (const r of b) written.bytes += r.value.length;
      written.events += events;
      written.transactions += tx;
    };
    let boundary = true;
    let lastFlush = Date.now();
    let lastSync = Date.now();
    const flush = async (final = false) => {
      if (boundary && read !== recorded && read && !run.stdout && (final || Date.now() - lastPositionAt >= POSITION_MS)) {
        batch.push(events.positionRecord(read.file, read.pos, read.gtid));
        recorded = read;
        lastPositionAt = Date.now();
      }
      if (batch.length > 0) {
        const b = batch;
        batch = [];
        batchBytes = 0;
        await append(b);
        // After a huge value its copies (the reassembled packet, the event, the record) are
        // garbage: collected now, before the next one arrives, not when the collector happens
        // to run (measured: 100 MB BLOB, bench/memory.ts). Only then: a full collection per
        // 8 MiB batch of ordinary rows would tax a bulk load for nothing.
        if (b.some((r) => r.value.length >= HUGE_RECORD_BYTES)) Bun.gc(true);
      }
      if (boundary && (final || Date.now() - lastSync >= SYNC_MS)) {
        await out.sync();
        lastSync = Date.now();
      }
      lastFlush = Date.now();
    };
    for await (const item of withTicks(binlog.items(), FLUSH_MS)) {
      // Nothing came from the server for FLUSH_MS: everything it sent was read.
      progress.idle = item === TICK;
      if (item !== TICK) {
        if (item.kind === "commit" && history?.changed && historyLog) {
          // The transaction changed the schema: what it changed goes in before its End, so a
          // restart after that End loads exactly this schema.
          const b = batch;
          batch = [];
          batchBytes = 0;
          await append(b);
          await append(historyLog.records(history, out.endOffset()));
        }
        const before = batch.length;
        events.write(item, batch);
        for (let k = before; k < batch.length; k++) batchBytes += batch[k]!.value.length;
        // events = row changes and DDL, as the sink counts them (not Begin/End/schema records)
        const n = item.kind === "rows" ? item.rows.length : item.kind === "ddl" ? 1 : 0;
        progress.events += n;
        batchEvents += n;
        if (item.kind === "begin") boundary = false;
        if (item.kind === "commit" || item.kind === "rollback") {
          boundary = true;
          progress.transactions++;
          if (item.kind === "commit") {
            read = { file: item.file, pos: item.pos, gtid: item.gtid };
            if (batch.length > before) {
              recorded = read; // its End is in the batch
              batchTx++;
            }
            progress.position(read, item.timestampMs);
          }
        }
        if (batch.length < BATCH_RECORDS && batchBytes < BATCH_BYTES && Date.now() - lastFlush < FLUSH_MS) {
          progress.maybeReport();
          continue;
        }
      }
      if (batch.length > 0 || item === TICK) await flush();
      progress.maybeReport();
    }
    await flush(true);
    progress.report(run.signal.aborted ? "stopped on signal" : "caught up");
  } finally {
    await out.close();
  }
}

/**
 * The writer, noting appends and syncs that take longer than SLOW_LOG_MS (a broker outage holds
 * them until the brokers are back: that is the backpressure) as what the source waits for.
 */
function watchSlow(w: LogWriter, cfg: Config, wait: (key: string, what: string | undefined) => void): LogWriter {
  const t = cfg.transport!;
  const name = t.kind === "kafka" ? `the Kafka brokers (${t.kafka?.brokers.join(", ")}, topic ${t.kafka?.topic})` : `the journal ${t.journal?.dir}`;
  let pending = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timed = async <T>(op: () => Promise<T>): Promise<T> => {
    if (pending++ === 0) timer = setTimeout(() => wait("log", `${name} to take the next batch`), SLOW_LOG_MS);
    try {
      return await op();
    } finally {
      if (--pending === 0) {
        clearTimeout(timer);
        wait("log", undefined);
      }
    }
  };
  return {
    append: (records) => timed(() => w.append(records)),
    sync: () => timed(() => w.sync()),
    tail: (max) => w.tail(max),
    endOffset: () => w.endOffset(),
    close: () => w.close(),
  };
}

/** `--stdout`: the same records, decoded back and printed as JSON lines. */
function stdoutWriter(): LogWriter {
  const decoder = new LogDecoder();
  let offset = 0n;
  // The reader went away (`| head`): done, as for any Unix tool, and nothing is lost by it.
  process.stdout.on("error", (err: { code?: string }) => {
    if (err.code === "EPIPE") process.exit(0);
    throw err;
  });
  return {
    async append(records) {
      let text = "";
      for (const r of records) {
        const line = messageToJson(decoder.decode(r, `stdout record ${offset++}`));
        if (line !== undefined) text += `${line}\n`;
      }
      if (text && !process.stdout.write(text)) await new Promise((resolve) => process.stdout.once("drain", resolve));
    },
    async sync() {},
    async tail() {
      return [];
    },
    endOffset: () => offset,
    async close() {},
  };
}
