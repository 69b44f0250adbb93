// The consuming half of the Kafka transport, written against a small port (kafka.ts plugs
// kafkajs into it) so that the ordering rules live here, away from the client library.
//
// kafkajs has no assign(): a consumer always belongs to a group, and after any rebalance or
// restart it resumes from the group's committed offset (or the topic's end). Correctness
// therefore never rests on the group. The Feed below knows the exact next offset it wants and
// checks every record against it:
//   - records below it are duplicates of what was already delivered and are dropped;
//   - a record above it means the consumer lost its place (or retention deleted records):
//     the batch is dropped and the position is verified against the log start offset, which
//     either re-seeks or raises SINK_LOG_GAP;
//   - on every (re)join of the group kafka.ts seeks the consumer to position().
// A watchdog does the same verification when nothing arrived for stallMs although the log
// holds records past our position, because after an out-of-range reset kafkajs would
// otherwise wait silently at the end of the log.
//
// Backpressure: the consumer's eachBatch only queues; past queueBytes the partition is paused
// and resumed once the reader has drained half of it, so kafkajs keeps heartbeating and
// memory stays bounded whatever the caller does.

import { isRetriable, ReplicateError } from "../errors.ts";
import { logGap, sleep } from "./kafka-support.ts";
import type { LogReader, OffsetRecord, ReadOptions } from "../log-contract.ts";

/** A fetched message as kafkajs hands it over (Buffers are Uint8Arrays). */
export interface RawMessage {
  offset: string;
  key?: Uint8Array | null;
  value: Uint8Array | null;
}

export interface FetchTarget {
  /** The offset the consumer must fetch next; asked again after every (re)join. */
  position(): bigint;
  /** One fetched batch of partition 0, in offset order. Must not block. */
  onBatch(messages: readonly RawMessage[]): void;
  /** The consumer gave up (kafkajs's retries exhausted, or a permanent error). */
  onError(err: ReplicateError): void;
}

export interface FetchSession {
  seek(offset: bigint): void;
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

export interface LogSource {
  readonly topic: string;
  /** Where reads register their consumers, so that closing waits for them. */
  readonly sessions: Sessions;
  /** Log start offset and high watermark of partition 0. */
  offsets(): Promise<{ low: bigint; high: bigint }>;
  /** Starts a consumer that delivers to `target` from target.position(). */
  fetch(target: FetchTarget): Promise<FetchSession>;
}

/** The consumers of one client, stopped in the background once their read ends. */
export class Sessions {
  private readonly live = new Set<FetchSession>();
  private readonly stopping = new Set<Promise<void>>();

  add(s: FetchSession): void {
    this.live.add(s);
  }

  // Leaving the group waits out the consumer's fetch long-poll (maxWaitMs); the reader that is
  // done with it need not, so only close() waits.
  release(s: FetchSession): void {
    if (!this.live.delete(s)) return;
    const p: Promise<void> = s.stop().finally(() => this.stopping.delete(p));
    this.stopping.add(p);
  }

  async closeAll(): Promise<void> {
    for (const s of [...this.live]) this.release(s);
    await Promise.allSettled([...this.stopping]);
  }
}

export interface ReadTuning {
  /** Idle time after which the position is verified against the log (watchdog). */
  stallMs: number;
  /** Queued bytes past which fetching pauses. */
  queueBytes: number;
}

export const DEFAULT_READ_TUNING: ReadTuning = { stallMs: 5_000, queueBytes: 32 << 20 };

const EMPTY = new Uint8Array(0);
/** An offsets request of the watchdog taking this long means the brokers are not answering. */
const SLOW_PROBE_MS = 2_000;

/** A plain Uint8Array over the same bytes: kafkajs allocates a fresh buffer per response, so views stay valid. */
function view(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

class Feed implements FetchTarget {
  session: FetchSession | null = null;
  failure: ReplicateError | null = null;
  /** Kafka delivered records past `next`: the position must be verified. */
  suspect = false;
  /** Next offset wanted from Kafka (everything below is queued or delivered). */
  next: bigint;
  private readonly chunks: OffsetRecord[][] = [];
  private readonly chunkBytes: number[] = [];
  private head = 0;
  private bytes = 0;
  private paused = false;
  private wake: (() => void) | null = null;
  private readonly failWaiters: (() => void)[] = [];

  constructor(
    from: bigint,
    private readonly limitBytes: number,
  ) {
    this.next = from;
  }

  position(): bigint {
    return this.next;
  }

  onBatch(messages: readonly RawMessage[]): void {
    if (this.failure || messages.length === 0) return;
    let expect = this.next;
    const out: OffsetRecord[] = [];
    let bytes = 0;
    for (const m of messages) {
      const off = BigInt(m.offset);
      if (off < expect) continue;
      if (off > expect) {
        this.suspect = true;
        break;
      }
      const key = m.key ? view(m.key) : null;
      // A null value (tombstone) is never written by gs-replicate; it reaches the decoder as empty bytes and fails there.
      const value = m.value ? view(m.value) : EMPTY;
      out.push({ offset: off, record: { key, value } });
      bytes += value.byteLength + (key?.byteLength ?? 0);
      expect++;
    }
    if (out.length > 0) {
      this.chunks.push(out);
      this.chunkBytes.push(bytes);
      this.bytes += bytes;
      this.next = expect;
    } else if (!this.suspect) {
      // Only records we already have: kafkajs went back (a restart without a committed
      // offset). Jump forward instead of re-reading the log.
      this.session?.seek(this.next);
    }
    if (this.suspect) this.session?.seek(this.next);
    if (!this.paused && this.bytes >= this.limitBytes) {
      this.paused = true;
      this.session?.pause();
    }
    this.notify();
  }

  onError(err: ReplicateError): void {
    this.failure ??= err;
    this.notify();
    for (const f of this.failWaiters.splice(0)) f();
  }

  /** Resolves null once the consumer has failed. */
  untilFailure(): Promise<null> {
    if (this.failure) return Promise.resolve(null);
    return new Promise((resolve) => this.failWaiters.push(() => resolve(null)));
  }

  take(): OffsetRecord | undefined {
    const chunk = this.chunks[0];
    if (!chunk) return undefined;
    const r = chunk[this.head++];
    if (this.head >= chunk.length) {
      this.chunks.shift();
      this.bytes -= this.chunkBytes.shift() ?? 0;
      this.head = 0;
      if (this.paused && this.bytes < this.limitBytes / 2) {
        this.paused = false;
        this.session?.seek(this.next);
        this.session?.resume();
      }
    }
    return r;
  }

  /** Resolves true when something arrived (or failed), false after `ms` of silence or on abort. */
  wait(ms: number, signal: AbortSignal): Promise<boolean> {
    if (this.chunks.length > 0 || this.failure || this.suspect) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (arrived: boolean): void => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        this.wake = null;
        resolve(arrived);
      };
      const onAbort = (): void => done(false);
      const timer = setTimeout(() => done(false), ms);
      signal.addEventListener("abort", onAbort, { once: true });
      this.wake = () => done(true);
    });
  }

  private notify(): void {
    this.wake?.();
  }
}

/**
 * Records from `from` in offset order. follow=false stops at the high watermark read at the
 * start; follow=true runs until `signal` aborts. Each call runs its own consumer. An abort
 * ends the read quietly, also while a call to the brokers was waiting out an outage.
 */
export async function* readOrdered(
  source: LogSource,
  from: bigint,
  follow: boolean,
  signal: AbortSignal,
  tuning: ReadTuning,
  onWaiting?: (waiting: boolean) => void,
): AsyncGenerator<OffsetRecord> {
  try {
    yield* readFrom(source, from, follow, signal, tuning, onWaiting);
  } catch (err) {
    if (signal.aborted && isRetriable(err)) return;
    throw err;
  }
}

async function* readFrom(
  source: LogSource,
  from: bigint,
  follow: boolean,
  signal: AbortSignal,
  tuning: ReadTuning,
  onWaiting: ((waiting: boolean) => void) | undefined,
): AsyncGenerator<OffsetRecord> {
  const topic = source.topic;
  const first = await source.offsets();
  if (from < first.low) throw logGap(topic, from, first.low);
  const stopAt = follow ? null : first.high;
  if (stopAt !== null && from >= stopAt) return;
  // Like the journal, a position past the end waits for the log to get there.
  let high = first.high;
  while (from > high) {
    await sleep(Math.min(tuning.stallMs, 1_000), signal);
    if (signal.aborted) return;
    high = (await source.offsets()).high;
  }
  if (signal.aborted) return;

  const feed = new Feed(from, tuning.queueBytes);
  const session = await source.fetch(feed);
  feed.session = session;
  source.sessions.add(session);
  let gapAt = -1n;
  let gapRepeats = 0;
  try {
    for (;;) {
      for (let r = feed.take(); r !== undefined; r = feed.take()) {
        yield r;
        if (stopAt !== null && r.offset + 1n >= stopAt) return;
        if (signal.aborted) return;
      }
      if (feed.failure) throw feed.failure;
      if (signal.aborted) return;
      const arrived = await feed.wait(tuning.stallMs, signal);
      if (signal.aborted) return;
      if (!feed.suspect && arrived) continue;
      const suspect = feed.suspect;
      feed.suspect = false;
      let now: { low: bigint; high: bigint } | null;
      // The brokers not answering for a while is what the caller's progress line reports.
      const slow = setTimeout(() => onWaiting?.(true), SLOW_PROBE_MS);
      try {
        // Offsets retry for as long as kafkajs does; a consumer that gives up meanwhile ends the wait.
        const probe = source.offsets();
        probe.catch(() => {});
        now = await Promise.race([probe, feed.untilFailure()]);
        if (now !== null) onWaiting?.(false);
      } catch (err) {
        // The consumer reports lasting outages itself; the watchdog just tries again later.
        if (isRetriable(err)) continue;
        throw err;
      } finally {
        clearTimeout(slow);
      }
      if (now === null) continue;
      const want = feed.next;
      if (want < now.low) throw logGap(topic, want, now.low);
      if (suspect) {
        gapRepeats = gapAt === want ? gapRepeats + 1 : 1;
        gapAt = want;
        if (gapRepeats >= 3) throw missingOffset(topic, want, now.low);
      }
      if (suspect || want < now.high) session.seek(want);
    }
  } finally {
    source.sessions.release(session);
  }
}

function missingOffset(topic: string, offset: bigint, low: bigint): ReplicateError {
  return new ReplicateError(
    "TRANSPORT_TOPIC",
    `Kafka topic "${topic}" skips offset ${offset} although its log starts at ${low}: the topic is compacted or ` +
      `written with transactions. gs-replicate needs cleanup.policy=delete and its own producer only`,
    { where: `${topic}@${offset}` },
  );
}

/** What KafkaReader needs from kafka.ts besides fetching: the group cursor and shutdown. */
export interface ReaderPort extends LogSource {
  saveCursor(offset: bigint): Promise<void>;
  loadCursor(): Promise<bigint | null>;
  close(): Promise<void>;
}

export class KafkaReader implements LogReader {
  private readonly reads = new Set<AbortController>();
  private closed = false;

  constructor(
    private readonly port: ReaderPort,
    private readonly tuning: ReadTuning = DEFAULT_READ_TUNING,
  ) {}

  async *read(from: bigint, opts: ReadOptions): AsyncGenerator<OffsetRecord> {
    if (this.closed) throw new ReplicateError("INTERNAL", "Kafka reader is closed");
    if (from < 0n) throw new ReplicateError("INTERNAL", `Kafka offset ${from} is negative`);
    const stop = new AbortController();
    const onAbort = (): void => stop.abort();
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    if (opts.signal?.aborted) stop.abort();
    this.reads.add(stop);
    try {
      yield* readOrdered(this.port, from, opts.follow, stop.signal, this.tuning, opts.onWaiting);
    } finally {
      opts.signal?.removeEventListener("abort", onAbort);
      this.reads.delete(stop);
    }
  }

  async endOffset(): Promise<bigint> {
    return (await this.port.offsets()).high;
  }

  saveCursor(offset: bigint): Promise<void> {
    return this.port.saveCursor(offset);
  }

  loadCursor(): Promise<bigint | null> {
    return this.port.loadCursor();
  }

  /** Ends every read in progress and disconnects, once their consumers have left their groups. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const r of this.reads) r.abort();
    await this.port.close();
  }
}
