// Waiting out outages: the sink's own statements (checkpoint, low-water mark, schemas, catalog
// reads) retry while the target restarts, and its log read starts again where it was while the
// brokers are away. Each wait has a bound (ATTEMPTS with backoff, about a minute in all); what
// it waits for is on the progress line meanwhile, and a lasting outage stops the sink with the
// last error, exit 1, nothing lost: the checkpoint in the target says where to resume.
// Opening the log waits longer, as `source` does for its log: brokers that are not up yet, or
// a topic that `source` has not created yet, are what a sink started first meets.
// A stop (SIGTERM) ends every wait at once.

import { connectionLost, describeError, isRetriable, ReplicateError } from "../errors.ts";
import type { TransportConfig } from "../config/types.ts";
import { errorFields, log } from "../runtime/log.ts";
import { noteRetry, noteWait } from "../runtime/metrics.ts";
import { sleepUnlessStopped } from "../runtime/signals.ts";
import { describeLog, openLogReader } from "../transport/open.ts";
import type { LogReader, OffsetRecord, ReadOptions } from "../log-contract.ts";
import { backoff } from "../backoff.ts";

const ATTEMPTS = 10;
/** Opening the log: attempts in a row, 1 s doubling to 30 s between them (as `source` restarts). */
const OPEN_ATTEMPTS = 10;
/** An open taking longer than this shows on the progress line (kafkajs retries for ~40 s inside one attempt). */
const SLOW_OPEN_MS = 2_000;

/** A statement's retries: 0.5 s doubling to 10 s. */
const STATEMENT_RETRY = { firstMs: 500, maxMs: 10_000 };

/** What the sink is waiting for, by cause; the progress line shows the set, the wait metrics count them. */
export class WaitBoard {
  private readonly waits = new Map<string, string>();

  constructor(private readonly onChange: (text: string | undefined) => void) {}

  set(key: string, what: string): void {
    if (!this.waits.has(key)) noteWait(waitCause(key), true);
    this.waits.set(key, what);
    this.onChange(this.text());
  }

  clear(key: string): void {
    if (!this.waits.delete(key)) return;
    noteWait(waitCause(key), false);
    this.onChange(this.text());
  }

  text(): string | undefined {
    return this.waits.size === 0 ? undefined : [...new Set(this.waits.values())].join("; ");
  }
}

/**
 * A wait's key as the `cause` label: "target" for the sink's statements ("target:<what>") and
 * the units' retries ("unit <n>"), else the key itself ("log", "open" → "log_open", "log-end",
 * "owner", "target-silent"), with "_" for "-" as label values usually are.
 */
function waitCause(key: string): string {
  if (key.startsWith("target:") || key.startsWith("unit ")) return "target";
  if (key === "open") return "log_open";
  return key.replace(/-/g, "_");
}

/** Errors of a statement that another attempt can cure: the target is restarting or unreachable. */
function targetTransient(err: unknown): boolean {
  return connectionLost(err) || (err instanceof ReplicateError && err.retriable && err.code === "TARGET_CONNECTION");
}

/** Runs `fn` until it succeeds, retrying transient target failures with backoff. */
export async function retryTarget<T>(what: string, board: WaitBoard, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  const key = `target:${what}`;
  for (let attempt = 1; ; attempt++) {
    try {
      const out = await fn();
      board.clear(key);
      return out;
    } catch (err) {
      if (!targetTransient(err) || attempt >= ATTEMPTS || signal?.aborted) {
        board.clear(key);
        throw err;
      }
      const delay = backoff(attempt, STATEMENT_RETRY);
      noteRetry("target", err);
      log.warn({ message: `${what}: the target is unreachable (${describeError(err)}); trying again in ${delay} ms (attempt ${attempt + 1} of ${ATTEMPTS})`, ...errorFields(err) });
      board.set(key, `the target (${what}, attempt ${attempt + 1} of ${ATTEMPTS})`);
      await sleepUnlessStopped(delay, signal);
      if (signal?.aborted) {
        board.clear(key);
        throw err;
      }
    }
  }
}

/**
 * The log from `from`, reading again from the next offset after a retriable failure (brokers
 * down past kafkajs's own retries). Offsets are checked by the transports, so a new read picks
 * up exactly where the last one stopped.
 */
export async function* readRetrying(reader: LogReader, from: bigint, opts: ReadOptions, board: WaitBoard, what = "the log"): AsyncGenerator<OffsetRecord> {
  let next = from;
  const onWaiting = (waiting: boolean): void => (waiting ? board.set("log", what) : board.clear("log"));
  for (let attempt = 0; ;) {
    try {
      for await (const r of reader.read(next, { ...opts, onWaiting })) {
        if (attempt > 0) {
          attempt = 0;
          board.clear("log");
        }
        next = r.offset + 1n;
        yield r;
      }
      board.clear("log");
      return;
    } catch (err) {
      if (opts.signal?.aborted && isRetriable(err)) {
        board.clear("log");
        return;
      }
      if (!isRetriable(err) || attempt + 1 >= ATTEMPTS) {
        board.clear("log");
        throw err;
      }
      attempt++;
      const delay = backoff(attempt, STATEMENT_RETRY);
      noteRetry("log", err);
      log.warn({
        message: `reading the log failed (${describeError(err)}); reading again from offset ${next} in ${delay} ms (attempt ${attempt + 1} of ${ATTEMPTS})`,
        ...errorFields(err),
      });
      board.set("log", `the log at offset ${next} (attempt ${attempt + 1} of ${ATTEMPTS})`);
      await sleepUnlessStopped(delay, opts.signal);
      if (opts.signal?.aborted) {
        board.clear("log");
        return;
      }
    }
  }
}

/**
 * Opens the log, waiting for brokers that are not reachable yet and (when following) for a
 * topic that `source` has not created yet, up to OPEN_ATTEMPTS in a row. Returns null when a
 * stop ended the wait.
 */
export async function openLogWaiting(t: TransportConfig, board: WaitBoard, opts: { follow: boolean; signal: AbortSignal }): Promise<LogReader | null> {
  const what = describeLog(t);
  for (let attempt = 1; ; attempt++) {
    const slow = setTimeout(() => board.set("open", `${what} (attempt ${attempt} of ${OPEN_ATTEMPTS})`), SLOW_OPEN_MS);
    try {
      const reader = await openLogReader(t, { onWarning: (m) => log.warn(m), signal: opts.signal });
      board.clear("open");
      return reader;
    } catch (err) {
      clearTimeout(slow);
      board.clear("open");
      if (opts.signal.aborted && isRetriable(err)) return null;
      // The one retriable TRANSPORT_TOPIC: the topic does not exist yet. Without follow there
      // is nothing to wait for in it.
      const noTopic = err instanceof ReplicateError && err.code === "TRANSPORT_TOPIC";
      if (!isRetriable(err) || attempt >= OPEN_ATTEMPTS || (noTopic && !opts.follow)) throw err;
      const delay = backoff(attempt, { firstMs: 1000, maxMs: 30_000 });
      noteRetry("log_open", err);
      log.warn({ message: `${describeError(err)}; trying again in ${delay} ms (attempt ${attempt + 1} of ${OPEN_ATTEMPTS})`, ...errorFields(err) });
      const topic = t.kafka?.topic;
      board.set(
        "open",
        noTopic ? `the topic "${topic}" to be created by gs-replicate source (attempt ${attempt + 1} of ${OPEN_ATTEMPTS})` : `${what} (attempt ${attempt + 1} of ${OPEN_ATTEMPTS})`,
      );
      await sleepUnlessStopped(delay, opts.signal);
      if (opts.signal.aborted) {
        board.clear("open");
        return null;
      }
    } finally {
      clearTimeout(slow);
    }
  }
}
