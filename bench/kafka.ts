// Kafka transport throughput on librdkafka's mock cluster: `bun bench/kafka.ts [records]`.
// 200-byte values with 16-byte keys, appended in batches of 1000 with a sync() after each (as
// `source` does at transaction boundaries), then read back and checked. Prints figures only.
//
// The mock keeps only 5 MiB per partition, so the records are spread over topics of ROUND
// records each (well under 5 MiB) and every topic is read back separately. A new consumer
// group waits 3 s for its first assignment (group.initial.rebalance.delay.ms on a real
// broker); that wait is reported apart from the read rate. The mock also returns a single
// produce batch per fetch, which a real broker does not: real-cluster reads should be faster.
//
// Measured here (shared machine, runs vary by about 2x): write 63k-123k records/s (14-27 MB/s),
// read 190k-345k records/s (41-75 MB/s), 3.0 s before the first record of each read().

import { openKafkaReader, openKafkaWriter } from "../src/transport/kafka.ts";
import type { KafkaConfig } from "../src/config/types.ts";
import type { LogRecord } from "../src/log-contract.ts";
import { startKafkaMock } from "../test/support/kafka-mock.ts";

const total = Number(process.argv[2] ?? 200_000);
const BATCH = 1000;
const ROUND = 10_000;
const VALUE_BYTES = 200;
const KEY_BYTES = 16;
const payload = KEY_BYTES + VALUE_BYTES;

const batch: LogRecord[] = Array.from({ length: BATCH }, (_, i) => ({
  key: new Uint8Array(KEY_BYTES).fill(i & 0xff),
  value: new Uint8Array(VALUE_BYTES).map((_, j) => (i * 31 + j) & 0xff),
}));

function report(what: string, records: number, ms: number, extra = ""): void {
  const s = ms / 1000;
  console.log(
    `${what.padEnd(5)} ${records.toLocaleString("en")} records in ${s.toFixed(2)} s: ` +
      `${Math.round(records / s).toLocaleString("en")} records/s, ${((records * payload) / 1e6 / s).toFixed(1)} MB/s ` +
      `(${payload}-byte key+value)${extra}`,
  );
}

const mock = startKafkaMock();
try {
  const config = (topic: string): KafkaConfig => ({
    brokers: [mock.bootstrap],
    topic,
    client_id: "gsr-bench",
    group_id: "gsr-bench",
    create_topic: false,
  });
  const topics: string[] = [];
  for (let n = 0; n < total; n += ROUND) {
    const t = `gsr_bench_${process.pid}_${topics.length}`;
    mock.createTopic(t, 1);
    topics.push(t);
  }

  let writeMs = 0;
  let written = 0;
  for (const t of topics) {
    const w = await openKafkaWriter(config(t));
    const want = Math.min(ROUND, total - written);
    const start = performance.now();
    for (let n = 0; n < want; n += BATCH) {
      await w.append(n + BATCH <= want ? batch : batch.slice(0, want - n));
      await w.sync();
    }
    writeMs += performance.now() - start;
    written += want;
    await w.close();
  }
  report("write", written, writeMs, ", batches of 1000, acks=all, plain producer (the mock has no idempotence)");

  let readMs = 0;
  let joinMs = 0;
  let read = 0;
  for (const t of topics) {
    const r = await openKafkaReader(config(t));
    const want = Math.min(ROUND, total - read);
    const asked = performance.now();
    let first = 0;
    let last = 0;
    let expected = 0n;
    for await (const x of r.read(0n, { follow: false })) {
      if (expected === 0n) first = performance.now();
      if (x.offset !== expected || x.record.value.length !== VALUE_BYTES) throw new Error(`${t}: bad record at ${expected}`);
      expected++;
      last = performance.now();
    }
    readMs += last - first;
    joinMs += first - asked;
    if (Number(expected) !== want) throw new Error(`${t}: read ${expected} records, expected ${want}`);
    read += want;
    await r.close();
  }
  report("read", read, readMs, `; plus ${(joinMs / topics.length / 1000).toFixed(1)} s per read() before the first record (group join)`);
} finally {
  mock.stop();
}
