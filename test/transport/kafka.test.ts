// The Kafka transport against librdkafka's mock cluster (test/support/kafka-mock.ts).
//
// Facts about the mock that shape these tests: it has no controller, so topic creation and the
// idempotent producer fail there (topics are created through the mock itself, and the writer
// falls back to its plain producer, which these tests therefore exercise); it keeps at most
// 5 MiB per partition, dropping the oldest batches, which is real retention and is used to
// test SINK_LOG_GAP; and a new consumer group waits 3 s before its first assignment, like a
// broker's group.initial.rebalance.delay.ms, so every read() costs about 3 s here.

import { describe, expect, test } from "bun:test";
import type { KafkaConfig } from "../../src/config/types.ts";
import { Secret } from "../../src/config/secret.ts";
import { describeError, ReplicateError } from "../../src/errors.ts";
import { type KafkaOptions, openKafkaReader, openKafkaWriter } from "../../src/transport/kafka.ts";
import type { LogReader, LogRecord, LogWriter, OffsetRecord } from "../../src/log-contract.ts";
import { getKafka, uniqueName } from "../support/servers.ts";

const enc = new TextEncoder();

/** Record i: every third key null, binary values of varying length (some empty). */
function rec(i: number): LogRecord {
  const len = i % 997 === 0 ? 0 : 1 + ((i * 37) % 180);
  const value = new Uint8Array(len);
  for (let j = 0; j < len; j++) value[j] = (i * 131 + j * 7) & 0xff;
  return { key: i % 3 === 0 ? null : enc.encode(`k${i}`), value };
}

function recs(from: number, to: number): LogRecord[] {
  const out: LogRecord[] = [];
  for (let i = from; i < to; i++) out.push(rec(i));
  return out;
}

function sameBytes(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** Every record is rec(offset), offsets consecutive from `from`; reports the first mismatch. */
function expectRecords(got: OffsetRecord[], from: number, to: number): void {
  expect(got.length).toBe(to - from);
  for (let n = 0; n < got.length; n++) {
    const x = got[n] as OffsetRecord;
    const want = rec(from + n);
    if (x.offset !== BigInt(from + n) || !sameBytes(x.record.key, want.key) || !sameBytes(x.record.value, want.value)) {
      throw new Error(`record ${n}: offset ${x.offset}, expected ${from + n} with rec(${from + n})`);
    }
  }
}

function topic(partitions = 1): string {
  const name = uniqueName("gsr_log");
  getKafka().createTopic(name, partitions);
  return name;
}

function config(topicName: string, extra: Partial<KafkaConfig> = {}): KafkaConfig {
  return { brokers: [getKafka().bootstrap], topic: topicName, client_id: "gsr-test", group_id: uniqueName("gsr_group"), create_topic: false, ...extra };
}

const warnings: string[] = [];
const opts: KafkaOptions = { onWarning: (m) => warnings.push(m), stallMs: 2_000 };

async function writeRange(w: LogWriter, from: number, to: number, batch = 500): Promise<void> {
  for (let i = from; i < to; i += batch) await w.append(recs(i, Math.min(to, i + batch)));
  await w.sync();
}

async function readAll(r: LogReader, from = 0n): Promise<OffsetRecord[]> {
  const out: OffsetRecord[] = [];
  for await (const x of r.read(from, { follow: false })) out.push(x);
  return out;
}

async function caught(p: Promise<unknown>): Promise<ReplicateError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ReplicateError) return err;
    throw err;
  }
  throw new Error("expected a ReplicateError");
}

/** Resolves once `cond` holds, polling. */
async function until(cond: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not reached in time");
    await Bun.sleep(20);
  }
}

describe("kafka transport", () => {
  test("10,000 records round trip in order, offsets 0..N-1, null keys and binary values", async () => {
    const t = topic();
    const w = await openKafkaWriter(config(t), opts);
    expect(w.endOffset()).toBe(0n);
    await writeRange(w, 0, 10_000);
    expect(w.endOffset()).toBe(10_000n);
    await w.close();
    // The mock has no controller, so the writer said it fell back from the idempotent producer.
    expect(warnings.some((m) => m.includes("idempotent"))).toBe(true);

    const r = await openKafkaReader(config(t), opts);
    expect(await r.endOffset()).toBe(10_000n);
    const got = await readAll(r);
    expectRecords(got, 0, 10_000);
    expect(got[0]?.record.value).toBeInstanceOf(Uint8Array);
    expect(Buffer.isBuffer(got[1]?.record.value)).toBe(false);
    await r.close();
  }, 60_000);

  test("a reopened writer continues the offsets; a reader starts exactly where asked", async () => {
    const t = topic();
    const w1 = await openKafkaWriter(config(t), opts);
    await writeRange(w1, 0, 1_500, 250);
    await w1.close();
    const w2 = await openKafkaWriter(config(t), opts);
    expect(w2.endOffset()).toBe(1_500n);
    // Appends not awaited one by one still land in call order; endOffset counts them at once.
    const pending = [w2.append(recs(1_500, 1_600)), w2.append(recs(1_600, 1_650)), w2.append(recs(1_650, 1_700))];
    expect(w2.endOffset()).toBe(1_700n);
    await Promise.all(pending);
    await w2.sync();
    expect(w2.endOffset()).toBe(1_700n);
    await w2.close();

    const r = await openKafkaReader(config(t), opts);
    expectRecords(await readAll(r, 1_234n), 1_234, 1_700);
    // At or past the end, a non-following read ends at once.
    expect(await readAll(r, 1_700n)).toEqual([]);
    expect(await readAll(r, 5_000n)).toEqual([]);
    await r.close();
  }, 60_000);

  test("tail(n) returns exactly the last n records, oldest first", async () => {
    const t = topic();
    // Small produce requests, so that appends are split and the tail spans several of them.
    const w = await openKafkaWriter(config(t), { ...opts, batchBytes: 8_000 });
    expect(await w.tail(10)).toEqual([]);
    // Uneven append sizes, so the tail starts in the middle of a produce batch.
    let n = 0;
    for (const size of [1, 7, 500, 333, 1000, 2, 1157]) {
      await w.append(recs(n, n + size));
      n += size;
    }
    expect(n).toBe(3_000);
    expectRecords(await w.tail(100), 2_900, 3_000);
    expectRecords(await w.tail(1), 2_999, 3_000);
    expectRecords(await w.tail(10_000), 0, 3_000);
    expect(await w.tail(0)).toEqual([]);
    await w.close();
  }, 60_000);

  test("follow mode delivers later appends and ends when the signal aborts", async () => {
    const t = topic();
    const w = await openKafkaWriter(config(t), opts);
    await writeRange(w, 0, 100);
    const r = await openKafkaReader(config(t), opts);
    const ac = new AbortController();
    const got: OffsetRecord[] = [];
    const done = (async () => {
      for await (const x of r.read(50n, { follow: true, signal: ac.signal })) got.push(x);
    })();
    await until(() => got.length === 50);
    await writeRange(w, 100, 400, 100);
    await until(() => got.length === 350);
    ac.abort();
    await done;
    expectRecords(got, 50, 400);
    await w.close();
    await r.close();
  }, 60_000);

  test("broker down during append and during a following read: nothing lost, nothing doubled", async () => {
    const mock = getKafka();
    const t = topic();
    const w = await openKafkaWriter(config(t), opts);
    const r = await openKafkaReader(config(t), opts);
    const ac = new AbortController();
    const got: OffsetRecord[] = [];
    const reading = (async () => {
      for await (const x of r.read(0n, { follow: true, signal: ac.signal })) got.push(x);
    })();
    await writeRange(w, 0, 1_000, 100);
    await until(() => got.length === 1_000);

    mock.brokerDown();
    const up = Bun.sleep(3_000).then(() => mock.brokerUp());
    // These appends start while the broker is down and finish after it is back.
    await writeRange(w, 1_000, 3_000, 100);
    await up;
    expect(w.endOffset()).toBe(3_000n);
    await until(() => got.length >= 3_000);
    ac.abort();
    await reading;
    expectRecords(got, 0, 3_000);
    await w.close();
    await r.close();
    const r2 = await openKafkaReader(config(t), opts);
    expectRecords(await readAll(r2), 0, 3_000);
    await r2.close();
  }, 90_000);

  test("a topic with 4 partitions is refused with TRANSPORT_TOPIC naming the fix", async () => {
    const t = topic(4);
    for (const open of [openKafkaWriter, openKafkaReader]) {
      const err = await caught(open(config(t), opts));
      expect(err.code).toBe("TRANSPORT_TOPIC");
      expect(err.message).toContain(t);
      expect(err.message).toContain("4 partitions");
      expect(err.message).toContain("--partitions 1");
    }
  }, 60_000);

  test("a missing topic is refused when create_topic is off, reported when creation fails, and waited for by a reader", async () => {
    const t = uniqueName("gsr_missing");
    const err = await caught(openKafkaWriter(config(t), opts));
    expect({ code: err.code, retriable: err.retriable }).toEqual({ code: "TRANSPORT_TOPIC", retriable: false });
    expect(err.message).toContain(`"${t}" does not exist`);
    expect(err.message).toContain("create_topic");
    expect(err.message).toContain(`kafka-topics.sh --bootstrap-server ${getKafka().bootstrap} --create --topic ${t} --partitions 1 --replication-factor 1`);
    // The mock cannot create topics (no controller): the error says to create it by hand.
    const err2 = await caught(openKafkaWriter(config(t, { create_topic: true }), opts));
    expect(err2.code).toBe("TRANSPORT_TOPIC");
    expect(err2.message).toContain("create it by hand with exactly one partition");
    // Only the writer creates topics: a reader is early, and says so with an error it may wait out.
    const err3 = await caught(openKafkaReader(config(t, { create_topic: true }), opts));
    expect({ code: err3.code, retriable: err3.retriable }).toEqual({ code: "TRANSPORT_TOPIC", retriable: true });
    expect(err3.message).toContain("does not exist yet");
  }, 60_000);

  test("records deleted by retention give SINK_LOG_GAP, never a silent skip", async () => {
    // The mock keeps 5 MiB per partition: 7 MB of records push the oldest out.
    const t = topic();
    const w = await openKafkaWriter(config(t), opts);
    const big = (i: number): LogRecord => ({ key: null, value: new Uint8Array(1_000).fill(i & 0xff) });
    for (let i = 0; i < 7_000; i += 500) await w.append(Array.from({ length: 500 }, (_, j) => big(i + j)));
    await w.close();
    const r = await openKafkaReader(config(t), opts);
    const err = await caught(readAll(r, 0n));
    expect(err.code).toBe("SINK_LOG_GAP");
    expect(err.message).toMatch(/offset 0\b/);
    expect(err.message).toMatch(/earliest offset available is [1-9]\d*/);
    await r.close();
  }, 60_000);

  test("a reader that falls behind retention delivers everything before the gap, then SINK_LOG_GAP", async () => {
    const t = topic();
    const w = await openKafkaWriter(config(t), opts);
    const big = (i: number): LogRecord => ({ key: null, value: new Uint8Array(1_000).fill(i & 0xff) });
    await w.append(Array.from({ length: 100 }, (_, i) => big(i)));
    // A tiny queue: the consumer pauses after the first batch while the caller holds off.
    const r = await openKafkaReader(config(t), { ...opts, queueBytes: 16_000, stallMs: 1_000 });
    const it = r.read(0n, { follow: true })[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.done ? null : first.value.offset).toBe(0n);
    for (let i = 100; i < 7_100; i += 500) await w.append(Array.from({ length: 500 }, (_, j) => big(i + j)));
    let next = 1n;
    const err = await caught(
      (async () => {
        for (let x = await it.next(); !x.done; x = await it.next()) {
          if (x.value.offset !== next) throw new Error(`offset ${x.value.offset}, expected ${next}`);
          next++;
        }
      })(),
    );
    expect(next).toBe(100n);
    expect(err.code).toBe("SINK_LOG_GAP");
    expect(err.message).toMatch(/offset 100\b/);
    await w.close();
    await r.close();
  }, 60_000);

  test("the cursor is the group's committed offset", async () => {
    const t = topic();
    const cfg = config(t);
    const r = await openKafkaReader(cfg, opts);
    expect(await r.loadCursor()).toBeNull();
    await r.saveCursor(42n);
    expect(await r.loadCursor()).toBe(42n);
    await r.saveCursor(43n);
    await r.close();
    const again = await openKafkaReader(cfg, opts);
    expect(await again.loadCursor()).toBe(43n);
    await again.close();
  }, 60_000);

  test("when kafkajs's retries run out, append and read fail with a retriable TRANSPORT_KAFKA; a reopened writer resumes", async () => {
    const mock = getKafka();
    const t = topic();
    const quick: KafkaOptions = { ...opts, retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 200 } };
    const w = await openKafkaWriter(config(t), quick);
    await writeRange(w, 0, 300, 100);
    const r = await openKafkaReader(config(t), quick);
    const got: OffsetRecord[] = [];
    // caught() right away: the read may fail before the append does.
    const reading = caught(
      (async () => {
        for await (const x of r.read(0n, { follow: true })) got.push(x);
      })(),
    );
    await until(() => got.length === 300);
    mock.brokerDown();
    try {
      const appendErr = await caught(w.append(recs(300, 400)));
      expect(appendErr.code).toBe("TRANSPORT_KAFKA");
      expect(appendErr.retriable).toBe(true);
      expect(appendErr.message).toContain(mock.bootstrap);
      // The writer stays broken: its state is unknown until it is reopened.
      expect((await caught(w.append(recs(300, 400)))).code).toBe("TRANSPORT_KAFKA");
      const readErr = await reading;
      expect(readErr.code).toBe("TRANSPORT_KAFKA");
      expect(readErr.retriable).toBe(true);
    } finally {
      mock.brokerUp();
    }
    await w.close();
    await r.close();
    const w2 = await openKafkaWriter(config(t), opts);
    expect(w2.endOffset()).toBe(300n);
    expectRecords(await w2.tail(3), 297, 300);
    await w2.close();
  }, 60_000);

  test("TLS files are read at open; a SASL password never shows in an error", async () => {
    const t = topic();
    const tlsErr = await caught(openKafkaWriter(config(t, { tls: { enabled: true, ca: "/nonexistent/ca.pem", verify: true } }), opts));
    expect(tlsErr.code).toBe("CONFIG_BAD_VALUE");
    expect(tlsErr.where).toBe("transport.kafka.tls.ca");
    // The mock speaks no SASL, so this fails; the message must not carry the password.
    const sasl = { mechanism: "scram-sha-512" as const, username: "gsr", password: new Secret("hunter2-kafka") };
    const saslErr = await caught(openKafkaReader(config(t, { sasl }), { ...opts, retry: { retries: 1, initialRetryTime: 50, maxRetryTime: 100 } }));
    expect(saslErr.code).toBe("TRANSPORT_KAFKA");
    expect(describeError(saslErr)).not.toContain("hunter2");
  }, 60_000);

  test("unreachable brokers give a retriable TRANSPORT_KAFKA naming them", async () => {
    const cfg = { ...config("whatever"), brokers: ["127.0.0.1:1"] };
    const err = await caught(openKafkaWriter(cfg, { ...opts, retry: { retries: 1, initialRetryTime: 50, maxRetryTime: 100 } }));
    expect(err.code).toBe("TRANSPORT_KAFKA");
    expect(err.retriable).toBe(true);
    expect(err.message).toContain("127.0.0.1:1");
  }, 60_000);
});
