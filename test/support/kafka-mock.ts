// A Kafka-protocol broker for tests: librdkafka's mock cluster (Debian librdkafka1), driven
// through bun:ffi. It runs on librdkafka's threads inside this process and listens on a
// loopback port, so kafkajs here and the gs-replicate binary in a child process both reach it.
//
// The mock has no controller: admin calls (createTopics, fetchTopicMetadata through admin)
// and kafkajs's idempotent producer fail there, and auto-created topics get 4 partitions.
// So tests create their one-partition topics here, and the product's own "create the topic"
// path is exercised against this gap explicitly (see transport tests).

import { dlopen, FFIType, ptr, type Pointer } from "bun:ffi";

const LIB_CANDIDATES = ["librdkafka.so.1", "/usr/lib/x86_64-linux-gnu/librdkafka.so.1", "/usr/lib/aarch64-linux-gnu/librdkafka.so.1"];

function openLib() {
  let lastError: unknown;
  for (const path of LIB_CANDIDATES) {
    try {
      return dlopen(path, {
        rd_kafka_conf_new: { args: [], returns: FFIType.ptr },
        rd_kafka_conf_set: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i32 },
        rd_kafka_new: { args: [FFIType.i32, FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.ptr },
        rd_kafka_destroy: { args: [FFIType.ptr], returns: FFIType.void },
        rd_kafka_mock_cluster_new: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.ptr },
        rd_kafka_mock_cluster_destroy: { args: [FFIType.ptr], returns: FFIType.void },
        rd_kafka_mock_cluster_bootstraps: { args: [FFIType.ptr], returns: FFIType.cstring },
        rd_kafka_mock_topic_create: { args: [FFIType.ptr, FFIType.ptr, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
        rd_kafka_mock_broker_set_down: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
        rd_kafka_mock_broker_set_up: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
      });
    } catch (err) {
      lastError = err;
    }
  }
  throw new Error(`cannot load librdkafka (apt-get install librdkafka1): ${String(lastError)}`);
}

const cstr = (s: string) => Buffer.from(`${s}\0`, "utf8");

export interface KafkaMock {
  /** "127.0.0.1:PORT" */
  bootstrap: string;
  createTopic(name: string, partitions?: number): void;
  brokerDown(brokerId?: number): void;
  brokerUp(brokerId?: number): void;
  stop(): void;
}

export function startKafkaMock(brokers = 1): KafkaMock {
  const lib = openLib().symbols;
  const conf = lib.rd_kafka_conf_new();
  const errstr = Buffer.alloc(512);
  // The handle only hosts the mock cluster; it never connects anywhere itself.
  for (const [k, v] of [
    ["bootstrap.servers", "127.0.0.1:1"],
    ["log_level", "0"],
  ] as const) {
    if (lib.rd_kafka_conf_set(conf, ptr(cstr(k)), ptr(cstr(v)), ptr(errstr), BigInt(errstr.length)) !== 0) {
      throw new Error(`rd_kafka_conf_set ${k}: ${errstr.toString("utf8").replace(/\0.*$/s, "")}`);
    }
  }
  const rk = lib.rd_kafka_new(0 /* RD_KAFKA_PRODUCER */, conf, ptr(errstr), BigInt(errstr.length));
  if (!rk) throw new Error(`rd_kafka_new: ${errstr.toString("utf8").replace(/\0.*$/s, "")}`);
  const mc = lib.rd_kafka_mock_cluster_new(rk, brokers) as Pointer | null;
  if (!mc) throw new Error("rd_kafka_mock_cluster_new failed");
  const bootstrap = String(lib.rd_kafka_mock_cluster_bootstraps(mc));
  let stopped = false;
  return {
    bootstrap,
    createTopic(name, partitions = 1) {
      const err = lib.rd_kafka_mock_topic_create(mc, ptr(cstr(name)), partitions, 1);
      if (err !== 0) throw new Error(`rd_kafka_mock_topic_create(${name}) failed with error ${err}`);
    },
    brokerDown(id = 1) {
      lib.rd_kafka_mock_broker_set_down(mc, id);
    },
    brokerUp(id = 1) {
      lib.rd_kafka_mock_broker_set_up(mc, id);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      lib.rd_kafka_mock_cluster_destroy(mc);
      lib.rd_kafka_destroy(rk);
    },
  };
}
