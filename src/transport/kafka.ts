// The Kafka transport: the whole change log in ONE partition of one topic, because Kafka only
// orders records within a partition. The only file of the project that imports kafkajs; the
// ordering and exactly-once rules are in kafka-writer.ts and kafka-reader.ts, which talk to
// kafkajs through the ports built here.
//
// Topic. At open, both sides list the cluster's topics (a metadata request that never creates
// anything, unlike asking for the topic by name, which brokers with auto.create.topics.enable
// answer by creating it with num.partitions). A missing topic is created with one partition
// when create_topic is set, otherwise refused; an existing topic must have exactly one
// partition.
//
// Writer. acks=all, no compression (records are small AVRO payloads; one knob less), one
// request in flight. The idempotent producer is used when the cluster grants a producer id;
// otherwise (no controller, as on librdkafka's mock cluster, or an ACL without IdempotentWrite)
// a plain producer with kafkajs retries off takes over, and kafka-writer.ts's offset checks
// keep the log free of duplicates. onWarning says which.
//
// Reader. kafkajs has no assign(), so every read() runs its own consumer in a group of its own
// (`<group_id>.read.<uuid>`, so that ACLs on the group_id prefix cover it): nothing else ever
// joins it, so it never rebalances away, and kafka-reader.ts re-seeks it whenever it (re)joins.
// A new group costs group.initial.rebalance.delay.ms (3 s by default) before the first record.
// The cursor is the committed offset of group_id itself, written through a consumer that joins
// group_id once, stays paused and only commits; loadCursor reads it back with OffsetFetch.
// Operators therefore see the sink's position and lag under group_id with the usual tools.
//
// Errors. kafkajs retries (DEFAULT_RETRY, ~40 s) come first; what is left is TRANSPORT_KAFKA,
// retriable when it was about reaching the brokers. kafkajs's own logging is off (onDebug gets
// it when given). Passwords only go to kafkajs, never into a message.

import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import type { ConnectionOptions } from "node:tls";
import { type Admin, CompressionTypes, type Consumer, Kafka, logLevel, type Message, type Producer, type SASLOptions } from "kafkajs";
import type { KafkaConfig } from "../config/types.ts";
import { ReplicateError } from "../errors.ts";
import { DEFAULT_READ_TUNING, type FetchSession, type FetchTarget, KafkaReader, type LogSource, type ReaderPort, readOrdered, type ReadTuning, Sessions } from "./kafka-reader.ts";
import {
  backoffMs,
  DEFAULT_RETRY,
  guardNegativeTimeouts,
  kafkaFailure,
  type KafkaRetry,
  permanent,
  retryHorizonMs,
  sleep,
  topicMissing,
  topicNotCreated,
  topicPartitions,
} from "./kafka-support.ts";
import { KafkaWriter, type ProducerPort } from "./kafka-writer.ts";
import type { LogReader, LogRecord, LogWriter } from "./types.ts";

export interface KafkaOptions {
  onWarning?: (message: string) => void;
  /** kafkajs's own WARN and ERROR log lines; dropped when absent. */
  onDebug?: (message: string) => void;
  /** kafkajs retry schedule (and the horizon of our own retry loops). */
  retry?: Partial<KafkaRetry>;
  /** Largest produce request, in record bytes; keep it under the topic's max.message.bytes. */
  batchBytes?: number;
  /** Reader: longest fetch long-poll, i.e. the follow-mode latency when idle. */
  maxWaitMs?: number;
  /** Reader watchdog and queue bound (kafka-reader.ts). */
  stallMs?: number;
  queueBytes?: number;
}

const FETCH_BYTES = 16 << 20;
const DEFAULT_BATCH_BYTES = 900_000;

/** Opens the topic for appending; see the file header for the producer that is chosen. */
export async function openKafkaWriter(config: KafkaConfig, opts: KafkaOptions = {}): Promise<LogWriter> {
  const client = await Client.open(config, opts);
  try {
    const producer = await openProducer(client, opts);
    const topic = config.topic;
    const port: ProducerPort = {
      topic,
      offsets: () => client.offsets(),
      send: (records) => send(client, producer, records),
      read: (from) => readOrdered(client.source("tail"), from, false, new AbortController().signal, client.tuning),
      close: async () => {
        await producer.disconnect().catch(() => {});
        await client.close();
      },
    };
    return await KafkaWriter.open(port, { batchBytes: opts.batchBytes ?? DEFAULT_BATCH_BYTES, retry: client.retry, onWarning: opts.onWarning });
  } catch (err) {
    await client.close();
    throw err;
  }
}

/** Opens the topic for reading; read() may start as many consumers as it is called. */
export async function openKafkaReader(config: KafkaConfig, opts: KafkaOptions = {}): Promise<LogReader> {
  const client = await Client.open(config, opts);
  const cursor = new Cursor(client);
  const port: ReaderPort = {
    ...client.source("read"),
    saveCursor: (offset) => cursor.save(offset),
    loadCursor: () => cursor.load(),
    close: async () => {
      await cursor.close();
      await client.close();
    },
  };
  return new KafkaReader(port, client.tuning);
}

/** One kafkajs client plus an admin connection, with the topic verified. */
class Client {
  readonly topic: string;
  readonly brokers: readonly string[];
  readonly retry: KafkaRetry;
  readonly tuning: ReadTuning;
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly sessions = new Sessions();
  private readonly maxWaitMs: number;

  private constructor(
    readonly config: KafkaConfig,
    opts: KafkaOptions,
  ) {
    this.topic = config.topic;
    this.brokers = config.brokers;
    this.retry = { ...DEFAULT_RETRY, ...opts.retry };
    this.tuning = { stallMs: opts.stallMs ?? DEFAULT_READ_TUNING.stallMs, queueBytes: opts.queueBytes ?? DEFAULT_READ_TUNING.queueBytes };
    this.maxWaitMs = opts.maxWaitMs ?? 500;
    guardNegativeTimeouts();
    const debug = opts.onDebug;
    this.kafka = new Kafka({
      clientId: config.client_id,
      brokers: [...config.brokers],
      ssl: tlsOptions(config.tls),
      sasl: saslOptions(config.sasl),
      connectionTimeout: 5_000,
      retry: { ...this.retry, factor: 0.2, multiplier: 2 },
      logLevel: debug ? logLevel.WARN : logLevel.NOTHING,
      logCreator: () => (entry) => debug?.(`kafkajs ${entry.namespace}: ${entry.log.message}`),
    });
    this.admin = this.kafka.admin();
  }

  static async open(config: KafkaConfig, opts: KafkaOptions): Promise<Client> {
    const c = new Client(config, opts);
    try {
      await c.admin.connect();
      await c.ensureTopic();
    } catch (err) {
      await c.close();
      throw kafkaFailure(err, `opening topic "${config.topic}"`, config.brokers);
    }
    return c;
  }

  private async ensureTopic(): Promise<void> {
    const { topic, admin } = this;
    if (!(await admin.listTopics()).includes(topic)) {
      if (!this.config.create_topic) throw topicMissing(topic, this.brokers);
      try {
        await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
      } catch (err) {
        throw topicNotCreated(topic, err);
      }
    }
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    const partitions = meta.topics.find((t) => t.name === topic)?.partitions.length ?? 0;
    if (partitions !== 1) throw topicPartitions(topic, partitions);
  }

  async offsets(): Promise<{ low: bigint; high: bigint }> {
    try {
      const p = (await this.admin.fetchTopicOffsets(this.topic)).find((x) => x.partition === 0);
      if (!p) throw new ReplicateError("TRANSPORT_TOPIC", `Kafka topic "${this.topic}" has no partition 0`, { where: this.topic });
      return { low: BigInt(p.low), high: BigInt(p.high) };
    } catch (err) {
      throw kafkaFailure(err, `reading the offsets of topic "${this.topic}"`, this.brokers);
    }
  }

  /** Offsets and consumers for kafka-reader.ts; `purpose` names the consumers' groups. */
  source(purpose: string): LogSource {
    return { topic: this.topic, sessions: this.sessions, offsets: () => this.offsets(), fetch: (target) => this.fetch(target, purpose) };
  }

  /** A consumer in a group of its own, delivering partition 0 to `target` from target.position(). */
  async fetch(target: FetchTarget, purpose: string): Promise<FetchSession> {
    const { topic } = this;
    const consumer = this.kafka.consumer({
      groupId: `${this.config.group_id}.${purpose}.${randomUUID()}`,
      allowAutoTopicCreation: false,
      maxBytes: FETCH_BYTES,
      maxBytesPerPartition: FETCH_BYTES,
      maxWaitTimeInMs: this.maxWaitMs,
      // A crash after kafkajs's retries ends the read with a retriable error instead of a silent restart.
      retry: { ...this.retry, restartOnFailure: async () => false },
    });
    const seek = (offset: bigint): void => {
      try {
        consumer.seek({ topic, partition: 0, offset: offset.toString() });
      } catch {
        // Not running (crashed or stopping): nothing to position.
      }
    };
    consumer.on(consumer.events.GROUP_JOIN, () => seek(target.position()));
    consumer.on(consumer.events.CRASH, (e) => target.onError(kafkaFailure(e.payload.error, `reading topic "${topic}"`, this.brokers)));
    let stopped: Promise<void> | null = null;
    const stop = (): Promise<void> => (stopped ??= consumer.disconnect().catch(() => {}));
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: false });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: true,
        eachBatch: async ({ batch }) => {
          if (batch.partition === 0) target.onBatch(batch.messages);
        },
      });
    } catch (err) {
      await stop();
      throw kafkaFailure(err, `starting a consumer of topic "${topic}"`, this.brokers);
    }
    const partitions = [{ topic, partitions: [0] }];
    return {
      seek,
      pause: () => guarded(() => consumer.pause(partitions)),
      resume: () => guarded(() => consumer.resume(partitions)),
      stop,
    };
  }

  async close(): Promise<void> {
    await this.sessions.closeAll();
    await this.admin.disconnect().catch(() => {});
  }
}

function guarded(f: () => void): void {
  try {
    f();
  } catch {
    // The consumer is not running; the read notices through its crash event or its stop.
  }
}

async function openProducer(client: Client, opts: KafkaOptions): Promise<Producer> {
  const common = { allowAutoTopicCreation: false, maxInFlightRequests: 1, createPartitioner: () => () => 0 };
  const idempotent = client.kafka.producer({ ...common, idempotent: true, retry: client.retry });
  try {
    await idempotent.connect();
    return idempotent;
  } catch (idempotentErr) {
    await idempotent.disconnect().catch(() => {});
    // retries 0: every produce request is sent once; kafka-writer.ts decides about resending.
    const plain = client.kafka.producer({ ...common, retry: { ...client.retry, retries: 0 } });
    try {
      await plain.connect();
    } catch (err) {
      throw kafkaFailure(err, "connecting the producer", client.brokers);
    }
    const why = kafkaFailure(idempotentErr, "initialising the idempotent producer", client.brokers).message;
    opts.onWarning?.(
      `${why}. Writing with a plain producer instead: one request in flight, and the log end checked after every failed send so that nothing is written twice`,
    );
    return plain;
  }
}

async function send(client: Client, producer: Producer, records: readonly LogRecord[]): Promise<bigint> {
  const messages: Message[] = records.map((r) => ({ partition: 0, key: r.key ? asBuffer(r.key) : null, value: asBuffer(r.value) }));
  let acks;
  try {
    acks = await producer.send({ topic: client.topic, acks: -1, compression: CompressionTypes.None, messages });
  } catch (err) {
    throw kafkaFailure(err, `writing to topic "${client.topic}"`, client.brokers);
  }
  const base = acks.find((m) => m.partition === 0)?.baseOffset;
  if (base === undefined) {
    throw new ReplicateError("TRANSPORT_KAFKA", `Kafka acknowledged a write to topic "${client.topic}" without an offset`, { where: client.topic });
  }
  return BigInt(base);
}

/** kafkajs wants Buffers; this is a view over the caller's bytes, not a copy. */
function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** The sink's cursor: the committed offset of group_id (see the file header). */
class Cursor {
  private member: Promise<Consumer> | null = null;

  constructor(private readonly client: Client) {}

  async save(offset: bigint): Promise<void> {
    const { topic, brokers, config } = this.client;
    const giveUpAt = Date.now() + retryHorizonMs(this.client.retry);
    for (let attempt = 0; ; attempt++) {
      let failure: unknown;
      try {
        const member = await (this.member ??= this.join());
        await member.commitOffsets([{ topic, partition: 0, offset: offset.toString() }]);
        // kafkajs returns without committing when the member has stopped running: read it back.
        if ((await this.load()) === offset) return;
        failure = new ReplicateError("TRANSPORT_KAFKA", `Kafka did not keep offset ${offset} for group "${config.group_id}"`, { retriable: true });
      } catch (err) {
        failure = err;
      }
      // A rebalance (another sink on the same group), a crash or an outage: start over with a fresh member.
      await this.close();
      if (permanent(failure) || Date.now() > giveUpAt) throw kafkaFailure(failure, `saving the cursor of group "${config.group_id}"`, brokers);
      await sleep(backoffMs(attempt, this.client.retry));
    }
  }

  async load(): Promise<bigint | null> {
    const { admin, topic, brokers, config } = this.client;
    try {
      const [t] = await admin.fetchOffsets({ groupId: config.group_id, topics: [topic] });
      const offset = t?.partitions.find((p) => p.partition === 0)?.offset;
      return offset === undefined || BigInt(offset) < 0n ? null : BigInt(offset);
    } catch (err) {
      throw kafkaFailure(err, `loading the cursor of group "${config.group_id}"`, brokers);
    }
  }

  /** Joins group_id with a member that never fetches; it exists to commit. */
  private async join(): Promise<Consumer> {
    const { topic, config, retry } = this.client;
    const member = this.client.kafka.consumer({
      groupId: config.group_id,
      allowAutoTopicCreation: false,
      maxBytes: 1024,
      maxBytesPerPartition: 1024,
      // Its idle loop sleeps this long, and leaving the group waits for that loop.
      maxWaitTimeInMs: 500,
      retry: { ...retry, restartOnFailure: async () => false },
    });
    let crash: Error | null = null;
    member.on(member.events.CRASH, (e) => {
      crash = e.payload.error;
    });
    try {
      await member.connect();
      await member.subscribe({ topics: [topic], fromBeginning: false });
      await member.run({ autoCommit: false, eachBatch: async () => {} });
      if (crash) throw crash;
      member.pause([{ topic }]);
      return member;
    } catch (err) {
      await member.disconnect().catch(() => {});
      throw err;
    }
  }

  async close(): Promise<void> {
    const member = this.member;
    this.member = null;
    if (member) await (await member.catch(() => null))?.disconnect().catch(() => {});
  }
}

function tlsOptions(tls: KafkaConfig["tls"]): ConnectionOptions | undefined {
  if (!tls?.enabled) return undefined;
  const out: ConnectionOptions = { rejectUnauthorized: tls.verify };
  const ca = readPem(tls.ca, "ca");
  const cert = readPem(tls.cert, "cert");
  const key = readPem(tls.key, "key");
  if (ca) out.ca = [ca];
  if (cert) out.cert = cert;
  if (key) out.key = key;
  return out;
}

function readPem(path: string | undefined, key: string): Buffer | undefined {
  if (!path) return undefined;
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ReplicateError("CONFIG_BAD_VALUE", `cannot read the Kafka TLS ${key} file ${path}: ${(err as Error).message}`, {
      kind: "config",
      where: `transport.kafka.tls.${key}`,
      cause: err,
    });
  }
}

function saslOptions(sasl: KafkaConfig["sasl"]): SASLOptions | undefined {
  if (!sasl) return undefined;
  const username = sasl.username;
  const password = sasl.password?.reveal() ?? "";
  switch (sasl.mechanism) {
    case "plain":
      return { mechanism: "plain", username, password };
    case "scram-sha-256":
      return { mechanism: "scram-sha-256", username, password };
    case "scram-sha-512":
      return { mechanism: "scram-sha-512", username, password };
  }
}
