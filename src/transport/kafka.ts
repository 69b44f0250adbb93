// The Kafka transport: the whole change log in ONE partition of one topic, because Kafka only
// orders records within a partition. The only file of the project that imports kafkajs; the
// ordering and exactly-once rules are in kafka-writer.ts and kafka-reader.ts, which talk to
// kafkajs through the ports built here.
//
// Topic. At open, both sides list the cluster's topics (a metadata request that never creates
// anything, unlike asking for the topic by name, which brokers with auto.create.topics.enable
// answer by creating it with num.partitions). The writer creates a missing topic with one
// partition when create_topic is set; the reader waits for it; an existing topic must have
// exactly one partition (kafka-topic.ts).
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
// When the read ends, its consumer leaves and its group is deleted (forgetGroup).
// The cursor is the committed offset of group_id itself, written through a consumer that joins
// group_id once, stays paused and only commits; loadCursor reads it back with OffsetFetch.
// Operators therefore see the sink's position and lag under group_id with the usual tools.
//
// Errors. kafkajs retries (DEFAULT_RETRY, ~40 s) come first; what is left is TRANSPORT_KAFKA,
// retriable when it was about reaching the brokers. kafkajs's own logging is off (onDebug gets
// it when given). Passwords only go to kafkajs, never into a message.
//
// Stopping. kafkajs cannot cancel a call that is retrying, so every call made for a client
// opened with a signal gives up as soon as that signal aborts (kafka-support.ts abortable()):
// a stop never waits for a broker outage to end.

import { randomUUID } from "node:crypto";
import { type Admin, CompressionTypes, Kafka, logLevel, type Message, type Producer } from "kafkajs";
import type { KafkaConfig } from "../config/types.ts";
import { ReplicateError } from "../errors.ts";
import { DEFAULT_READ_TUNING, type FetchSession, type FetchTarget, KafkaReader, type LogSource, type ReaderPort, readOrdered, type ReadTuning, Sessions } from "./kafka-reader.ts";
import { abortable, DEFAULT_RETRY, guardNegativeTimeouts, kafkaFailure, type KafkaRetry } from "./kafka-support.ts";
import { readyTopic, type TopicAdmin } from "./kafka-topic.ts";
import { type KafkaOptions, saslOptions, tlsOptions } from "./kafka-options.ts";
import { type GroupPort, GroupCursor } from "./kafka-cursor.ts";
import { KafkaWriter, type ProducerPort } from "./kafka-writer.ts";
import type { LogReader, LogRecord, LogWriter } from "../log-contract.ts";

export type { KafkaOptions } from "./kafka-options.ts";

const FETCH_BYTES = 16 << 20;
/** How long the end of a read waits for its group to be deleted. */
const FORGET_GROUP_MS = 3_000;
const DEFAULT_BATCH_BYTES = 900_000;

/** Opens the topic for appending; see the file header for the producer that is chosen. */
export async function openKafkaWriter(config: KafkaConfig, opts: KafkaOptions = {}): Promise<LogWriter> {
  const client = await Client.open(config, opts, true);
  try {
    const sender = await Sender.open(client, opts);
    const topic = config.topic;
    const port: ProducerPort = {
      topic,
      offsets: () => client.offsets(),
      send: (records) => sender.send(records),
      read: (from) => readOrdered(client.source("tail"), from, false, opts.signal ?? new AbortController().signal, client.tuning),
      close: async () => {
        await sender.close();
        await client.close();
      },
    };
    const tuning = { batchBytes: opts.batchBytes ?? DEFAULT_BATCH_BYTES, retry: client.retry, onWarning: opts.onWarning, signal: opts.signal };
    return await KafkaWriter.open(port, tuning);
  } catch (err) {
    await client.close();
    throw err;
  }
}

/** Opens the topic for reading; read() may start as many consumers as it is called. */
export async function openKafkaReader(config: KafkaConfig, opts: KafkaOptions = {}): Promise<LogReader> {
  const client = await Client.open(config, opts, false);
  const cursor = new GroupCursor(groupPort(client));
  const port: ReaderPort = {
    ...client.source("read"),
    // A save joins group_id and retries through an outage; like every call, it gives up on a
    // stop, so that a stopped sink is not held by the brokers being away.
    saveCursor: (offset) => client.guard(cursor.save(offset), "saving the sink's position"),
    loadCursor: () => cursor.load(),
    close: async () => {
      await client.guard(cursor.close(), "closing").catch(() => {});
      await client.close();
    },
  };
  return new KafkaReader(port, client.tuning);
}

/** What `check` needs to know about the topic, read without creating or writing anything. */
interface TopicFacts {
  brokers: number;
  exists: boolean;
  partitions: number;
  /** A missing topic with create_topic set: null when the cluster would create it, else why not. */
  createRefused?: string | null;
}

/**
 * Metadata of the configured topic for `gs-replicate check`. A missing topic is probed with
 * a validate-only CreateTopics request (nothing is created). Few retries: a check reports an
 * unreachable cluster instead of waiting out the transport's ~40 s schedule.
 */
export async function describeTopic(config: KafkaConfig, opts: KafkaOptions = {}): Promise<TopicFacts> {
  const retry = { retries: 1, initialRetryTime: 300, maxRetryTime: 1_000, ...opts.retry };
  const admin = newKafka(config, retry, opts.onDebug).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    const facts: TopicFacts = { brokers: cluster.brokers.length, exists: false, partitions: 0 };
    if (!(await admin.listTopics()).includes(config.topic)) {
      if (config.create_topic) {
        facts.createRefused = await admin.createTopics({ topics: [{ topic: config.topic, numPartitions: 1 }], validateOnly: true }).then(
          () => null,
          (err: unknown) => kafkaFailure(err, `validating the creation of topic "${config.topic}"`, config.brokers).message,
        );
      }
      return facts;
    }
    const meta = await admin.fetchTopicMetadata({ topics: [config.topic] });
    facts.exists = true;
    facts.partitions = meta.topics.find((t) => t.name === config.topic)?.partitions.length ?? 0;
    return facts;
  } catch (err) {
    throw kafkaFailure(err, `reading the metadata of topic "${config.topic}"`, config.brokers);
  } finally {
    await admin.disconnect().catch(() => {});
  }
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
  /** Aborts every call still waiting for the brokers (see "Stopping" above). */
  readonly signal: AbortSignal | undefined;
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
    this.signal = opts.signal;
    this.kafka = newKafka(config, { ...this.retry, factor: 0.2, multiplier: 2 }, opts.onDebug);
    this.admin = this.kafka.admin();
  }

  /** Connected, with the topic ready: created by the writer if need be, waited for by the reader. */
  static async open(config: KafkaConfig, opts: KafkaOptions, writer: boolean): Promise<Client> {
    const c = new Client(config, opts);
    try {
      await c.guard(c.admin.connect(), "connecting to the brokers");
      const plan = { topic: config.topic, brokers: config.brokers, createTopic: config.create_topic, writer, retry: c.retry, signal: c.signal };
      await readyTopic(c.topicAdmin(), plan);
    } catch (err) {
      await c.close();
      throw kafkaFailure(err, `opening topic "${config.topic}"`, config.brokers);
    }
    return c;
  }

  /** `p`, given up once the client's signal aborts. */
  guard<T>(p: Promise<T>, what: string): Promise<T> {
    return abortable(p, this.signal, `${what} (topic "${this.topic}")`);
  }

  private topicAdmin(): TopicAdmin {
    const { admin } = this;
    return {
      topics: () => this.guard(admin.listTopics(), "listing topics"),
      create: (topic) => this.guard(admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true }), "creating the topic"),
      partitions: async (topic) => {
        const meta = await this.guard(admin.fetchTopicMetadata({ topics: [topic] }), "reading the topic's metadata");
        const parts = meta.topics.find((t) => t.name === topic)?.partitions ?? [];
        return { count: parts.length, leader: parts.find((p) => p.partitionId === 0)?.leader ?? -1 };
      },
      offsets: () => this.offsets(),
      brokerCount: async () => (await this.guard(admin.describeCluster(), "describing the cluster")).brokers.length,
    };
  }

  async offsets(): Promise<{ low: bigint; high: bigint }> {
    try {
      const p = (await this.guard(this.admin.fetchTopicOffsets(this.topic), "reading the log's offsets")).find((x) => x.partition === 0);
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
    const groupId = `${this.config.group_id}.${purpose}.${randomUUID()}`;
    const consumer = this.kafka.consumer({
      groupId,
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
    const stop = (): Promise<void> =>
      (stopped ??= consumer.disconnect().then(
        () => this.forgetGroup(groupId),
        () => {},
      ));
    try {
      await this.guard(consumer.connect(), "starting a consumer");
      await this.guard(consumer.subscribe({ topics: [topic], fromBeginning: false }), "starting a consumer");
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

  /**
   * Deletes a read's own group once its consumer has left (best effort, bounded): otherwise
   * every read leaves an empty group on the brokers until offsets.retention ends it.
   */
  private async forgetGroup(groupId: string): Promise<void> {
    await Promise.race([this.admin.deleteGroups([groupId]), Bun.sleep(FORGET_GROUP_MS)]).catch(() => {});
  }

  async close(): Promise<void> {
    await this.guard(this.sessions.closeAll(), "closing").catch(() => {});
    await this.guard(this.admin.disconnect(), "closing").catch(() => {});
  }
}

/** A kafkajs client; kafkajs's TimeoutNegativeWarning is silenced first (kafka-support.ts). */
function newKafka(config: KafkaConfig, retry: KafkaRetry & { factor?: number; multiplier?: number }, debug: ((m: string) => void) | undefined): Kafka {
  guardNegativeTimeouts();
  return new Kafka({
    clientId: config.client_id,
    brokers: [...config.brokers],
    ssl: tlsOptions(config.tls),
    sasl: saslOptions(config.sasl),
    connectionTimeout: 5_000,
    retry,
    logLevel: debug ? logLevel.WARN : logLevel.NOTHING,
    logCreator: () => (entry) => debug?.(`kafkajs ${entry.namespace}: ${entry.log.message}`),
  });
}

function guarded(f: () => void): void {
  try {
    f();
  } catch {
    // The consumer is not running; the read notices through its crash event or its stop.
  }
}

const PRODUCER = { allowAutoTopicCreation: false, maxInFlightRequests: 1, createPartitioner: () => () => 0 };

/** The producer behind the writer's port: idempotent when the cluster allows it. */
class Sender {
  private stale = false;

  private constructor(
    private readonly client: Client,
    private producer: Producer,
    readonly idempotent: boolean,
  ) {}

  static async open(client: Client, opts: KafkaOptions): Promise<Sender> {
    const idempotent = client.kafka.producer({ ...PRODUCER, idempotent: true, retry: client.retry });
    try {
      await client.guard(idempotent.connect(), "connecting the producer");
      return new Sender(client, idempotent, true);
    } catch (idempotentErr) {
      if (client.signal?.aborted) throw idempotentErr;
      await idempotent.disconnect().catch(() => {});
      // retries 0: every produce request is sent once; kafka-writer.ts decides about resending.
      const plain = client.kafka.producer({ ...PRODUCER, retry: { ...client.retry, retries: 0 } });
      try {
        await client.guard(plain.connect(), "connecting the producer");
      } catch (err) {
        throw kafkaFailure(err, "connecting the producer", client.brokers);
      }
      const why = kafkaFailure(idempotentErr, "initialising the idempotent producer", client.brokers).message;
      opts.onWarning?.(`${why}. Writing with a plain producer instead: one request in flight, and the log end checked after every failed send so that nothing is written twice`);
      return new Sender(client, plain, false);
    }
  }

  async send(records: readonly LogRecord[]): Promise<bigint> {
    const { topic, brokers } = this.client;
    const messages: Message[] = records.map((r) => ({ partition: 0, key: r.key ? asBuffer(r.key) : null, value: asBuffer(r.value) }));
    let acks;
    try {
      if (this.stale) await this.client.guard(this.renew(), "renewing the producer");
      acks = await this.client.guard(this.producer.send({ topic, acks: -1, compression: CompressionTypes.None, messages }), "writing");
    } catch (err) {
      // kafkajs rolled its sequence numbers back, but kafka-writer.ts may find the batch written
      // anyway and move on: the next batch would then reuse those numbers and the broker would
      // take it for a duplicate. A new producer id starts clean.
      this.stale = this.idempotent;
      throw kafkaFailure(err, `writing to topic "${topic}"`, brokers);
    }
    const base = acks.find((m) => m.partition === 0)?.baseOffset;
    if (base === undefined) {
      throw new ReplicateError("TRANSPORT_KAFKA", `Kafka acknowledged a write to topic "${topic}" without an offset`, { where: topic });
    }
    return BigInt(base);
  }

  private async renew(): Promise<void> {
    const old = this.producer;
    this.producer = this.client.kafka.producer({ ...PRODUCER, idempotent: true, retry: this.client.retry });
    await old.disconnect().catch(() => {});
    await this.producer.connect();
    this.stale = false;
  }

  async close(): Promise<void> {
    await this.client.guard(this.producer.disconnect(), "closing the producer").catch(() => {});
  }
}

/** kafkajs wants Buffers; this is a view over the caller's bytes, not a copy. */
function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** group_id's operations for the cursor (kafka-cursor.ts). */
function groupPort(client: Client): GroupPort {
  const { topic, config, admin } = client;
  return {
    group: config.group_id,
    brokers: client.brokers,
    retry: client.retry,
    async committed() {
      const [t] = await admin.fetchOffsets({ groupId: config.group_id, topics: [topic] });
      const offset = t?.partitions.find((p) => p.partition === 0)?.offset;
      return offset === undefined || BigInt(offset) < 0n ? null : BigInt(offset);
    },
    async join() {
      const member = client.kafka.consumer({
        groupId: config.group_id,
        allowAutoTopicCreation: false,
        maxBytes: 1024,
        maxBytesPerPartition: 1024,
        // Its idle loop sleeps this long, and leaving the group waits for that loop.
        maxWaitTimeInMs: 500,
        retry: { ...client.retry, restartOnFailure: async () => false },
      });
      let crash: Error | null = null;
      member.on(member.events.CRASH, (e) => {
        crash = e.payload.error;
      });
      const leave = (): Promise<void> => member.disconnect().catch(() => {});
      try {
        await member.connect();
        await member.subscribe({ topics: [topic], fromBeginning: false });
        await member.run({ autoCommit: false, eachBatch: async () => {} });
        if (crash) throw crash;
        member.pause([{ topic }]);
      } catch (err) {
        await leave();
        throw err;
      }
      return { commit: (offset) => member.commitOffsets([{ topic, partition: 0, offset: offset.toString() }]), leave };
    },
  };
}
