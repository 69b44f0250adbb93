// The producing half of the Kafka transport, written against a small port (kafka.ts plugs the
// kafkajs producer into it).
//
// Order. Appends are chained: one produce request is in flight at a time, so a retry can never
// overtake a later batch, with or without the idempotent producer. A batch is cut into
// requests of at most batchBytes (the broker refuses record batches over the topic's
// max.message.bytes, 1 MiB by default). append() resolves once the broker acknowledged every
// request (acks=all), so the caller's await is the backpressure and memory stays bounded.
//
// Exactly once. Every acknowledgement is checked against the offset this writer expects next;
// a difference means someone else writes to the topic, and is reported, never absorbed. When a
// send fails (connection lost, broker down), the request may or may not have been appended:
// with a single writer the high watermark tells which, so the writer compares it with the
// offset it expected and either resends or counts the batch as written. That keeps the log
// free of duplicates even without the idempotent producer. The one case it cannot see is a
// request the broker still appends after the check (a timed-out request stuck in a live
// broker); the next acknowledgement's offset check then reports it instead of going silent.

import { isRetriable, ReplicateError } from "../errors.ts";
import { backoffMs, type KafkaRetry, retryHorizonMs, sleep, unexpectedOffset } from "./kafka-support.ts";
import type { LogRecord, LogWriter, OffsetRecord } from "../log-contract.ts";

export interface ProducerPort {
  readonly topic: string;
  /** Produces `records` to partition 0 in one request; resolves with the base offset the broker assigned. */
  send(records: readonly LogRecord[]): Promise<bigint>;
  offsets(): Promise<{ low: bigint; high: bigint }>;
  /** Records from `from` up to the high watermark as of the call. */
  read(from: bigint): AsyncIterable<OffsetRecord>;
  close(): Promise<void>;
}

interface WriterTuning {
  /** Upper bound of one produce request's record bytes. */
  batchBytes: number;
  retry: KafkaRetry;
  onWarning?: (message: string) => void;
  /** A stop: a failed send is then not retried (the restarted source reads the log's tail). */
  signal?: AbortSignal;
}

// Per-record overhead inside a v2 record batch (varint lengths, deltas, attributes), rounded up.
const RECORD_OVERHEAD = 32;

function recordBytes(r: LogRecord): number {
  return r.value.byteLength + (r.key?.byteLength ?? 0) + RECORD_OVERHEAD;
}

export class KafkaWriter implements LogWriter {
  private acked: bigint;
  private queued = 0n;
  private chain: Promise<void> = Promise.resolve();
  private failed: unknown = null;
  private closed = false;

  private constructor(
    private readonly port: ProducerPort,
    private readonly tuning: WriterTuning,
    end: bigint,
  ) {
    this.acked = end;
  }

  static async open(port: ProducerPort, tuning: WriterTuning): Promise<KafkaWriter> {
    const { high } = await port.offsets();
    return new KafkaWriter(port, tuning, high);
  }

  append(records: LogRecord[]): Promise<void> {
    if (this.closed) return Promise.reject(new ReplicateError("INTERNAL", "Kafka writer is closed"));
    if (this.failed) return Promise.reject(this.failed);
    if (records.length === 0) return this.chain.then(() => this.check());
    this.queued += BigInt(records.length);
    const run = this.chain.then(() => this.sendAll(records));
    this.chain = run.catch((err: unknown) => {
      this.failed ??= err;
    });
    return run;
  }

  /** append() already waits for the broker's acknowledgement; this waits for appends still chained. */
  async sync(): Promise<void> {
    await this.chain;
    this.check();
  }

  async tail(max: number): Promise<OffsetRecord[]> {
    await this.sync();
    if (max <= 0) return [];
    const { low, high } = await this.port.offsets();
    if (high !== this.acked) throw unexpectedOffset(this.port.topic, this.acked, high, "the log end moved while this writer was idle");
    let from = high - BigInt(max);
    if (from < low) from = low;
    const out: OffsetRecord[] = [];
    if (from >= high) return out;
    for await (const r of this.port.read(from)) {
      if (r.offset >= high) break;
      out.push(r);
    }
    if (out.length !== Number(high - from)) {
      throw new ReplicateError("TRANSPORT_KAFKA", `Kafka topic "${this.port.topic}": read ${out.length} records of ${from}..${high}`, {
        retriable: true,
        where: `${this.port.topic}@${from}`,
      });
    }
    return out;
  }

  endOffset(): bigint {
    return this.acked + this.queued;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.chain;
    await this.port.close();
  }

  private check(): void {
    if (this.failed) throw this.failed;
  }

  private async sendAll(records: LogRecord[]): Promise<void> {
    let remaining = BigInt(records.length);
    try {
      this.check();
      let start = 0;
      while (start < records.length) {
        // At least one record per request, however large: the broker is the judge of that.
        let end = start + 1;
        let bytes = recordBytes(records[start] as LogRecord);
        while (end < records.length && bytes + recordBytes(records[end] as LogRecord) <= this.tuning.batchBytes) {
          bytes += recordBytes(records[end] as LogRecord);
          end++;
        }
        const chunk = start === 0 && end === records.length ? records : records.slice(start, end);
        await this.sendChunk(chunk);
        const n = BigInt(chunk.length);
        this.acked += n;
        this.queued -= n;
        remaining -= n;
        start = end;
      }
    } finally {
      // Records of a failed append are not queued any more: the writer is broken from here on.
      this.queued -= remaining;
    }
  }

  private async sendChunk(chunk: readonly LogRecord[]): Promise<void> {
    const topic = this.port.topic;
    const base = this.acked;
    const n = BigInt(chunk.length);
    const giveUpAt = Date.now() + retryHorizonMs(this.tuning.retry);
    let attempt = 0;
    for (;;) {
      let failure: unknown;
      try {
        const got = await this.port.send(chunk);
        if (got !== base) throw unexpectedOffset(topic, base, got, "the broker appended this writer's batch elsewhere");
        return;
      } catch (err) {
        if (!isRetriable(err)) throw err;
        failure = err;
      }
      // Did the failed request land? With one writer the high watermark answers exactly.
      for (;;) {
        if (Date.now() > giveUpAt || this.tuning.signal?.aborted) throw failure;
        await sleep(backoffMs(attempt++, this.tuning.retry), this.tuning.signal);
        if (this.tuning.signal?.aborted) throw failure;
        let high: bigint;
        try {
          ({ high } = await this.port.offsets());
        } catch (err) {
          if (!isRetriable(err)) throw err;
          failure = err;
          continue;
        }
        if (high === base) break;
        if (high === base + n) {
          this.tuning.onWarning?.(`Kafka topic "${topic}": offsets ${base}..${base + n - 1n} were written although the send failed; not sent again`);
          return;
        }
        throw unexpectedOffset(topic, base, high, "after a failed send the log end is not where this writer left it");
      }
    }
  }
}
