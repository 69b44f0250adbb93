// Pieces of the Kafka transport that do not need kafkajs itself: turning kafkajs failures into
// ReplicateErrors, the errors the transport raises on its own, small timing helpers, and the
// TimeoutNegativeWarning guard. kafka.ts is the only file that imports kafkajs.

import { isRetriable, ReplicateError } from "../errors.ts";
import { backoff } from "../backoff.ts";

/** Retry schedule handed to kafkajs; ~40 s of attempts before an operation gives up. */
export interface KafkaRetry {
  retries: number;
  initialRetryTime: number;
  maxRetryTime: number;
}

export const DEFAULT_RETRY: KafkaRetry = { retries: 8, initialRetryTime: 300, maxRetryTime: 10_000 };

/** Total time the schedule above may wait, so our own loops can give up on the same horizon. */
export function retryHorizonMs(r: KafkaRetry): number {
  let total = 0;
  let t = r.initialRetryTime;
  for (let i = 0; i < r.retries; i++) {
    total += Math.min(t, r.maxRetryTime);
    t *= 2;
  }
  return total;
}

/** The shape of a kafkajs error, read structurally so this file stays free of kafkajs. */
interface KafkaJsErrorShape {
  name?: unknown;
  message?: unknown;
  type?: unknown;
  retriable?: unknown;
  cause?: unknown;
  code?: unknown;
}

// Failures of the network or of broker availability: waiting can help even after kafkajs has
// used up its own retries (KafkaJSNumberOfRetriesExceeded says retriable=false about itself).
const TRANSIENT_NAMES = new Set([
  "KafkaJSConnectionError",
  "KafkaJSConnectionClosedError",
  "KafkaJSRequestTimeoutError",
  "KafkaJSBrokerNotFound",
  "KafkaJSNoBrokerAvailableError",
  "KafkaJSGroupCoordinatorNotFound",
  "KafkaJSMetadataNotLoaded",
  "KafkaJSTopicMetadataNotLoaded",
  "KafkaJSTimeout",
  "KafkaJSLockTimeout",
]);
// Broker answers that no amount of waiting fixes: credentials, ACLs, sizes.
const PERMANENT_TYPES = new Set([
  "SASL_AUTHENTICATION_FAILED",
  "TOPIC_AUTHORIZATION_FAILED",
  "GROUP_AUTHORIZATION_FAILED",
  "CLUSTER_AUTHORIZATION_FAILED",
  "ILLEGAL_SASL_STATE",
  "UNSUPPORTED_SASL_MECHANISM",
  "MESSAGE_TOO_LARGE",
  "RECORD_LIST_TOO_LARGE",
  "INVALID_RECORD",
  "POLICY_VIOLATION",
]);

function causeChain(err: unknown): KafkaJsErrorShape[] {
  const out: KafkaJsErrorShape[] = [];
  let e: unknown = err;
  while (e !== null && typeof e === "object" && out.length < 8 && !out.includes(e as KafkaJsErrorShape)) {
    out.push(e as KafkaJsErrorShape);
    e = (e as KafkaJsErrorShape).cause;
  }
  return out;
}

/** The kafkajs protocol error type (e.g. UNKNOWN_TOPIC_OR_PARTITION) anywhere in the cause chain. */
function kafkaErrorType(err: unknown): string | undefined {
  for (const e of causeChain(err)) if (typeof e.type === "string") return e.type;
  return undefined;
}

/** Credentials, ACLs, sizes: failures that retrying cannot fix. */
export function permanent(err: unknown): boolean {
  if (err instanceof ReplicateError) return !err.retriable;
  const chain = causeChain(err);
  return chain.some((e) => (typeof e.type === "string" && PERMANENT_TYPES.has(e.type)) || e.name === "KafkaJSSASLAuthenticationError");
}

function transient(err: unknown): boolean {
  if (permanent(err)) return false;
  const chain = causeChain(err);
  return chain.some((e) => (typeof e.name === "string" && TRANSIENT_NAMES.has(e.name)) || e.retriable === true || isRetriable(e));
}

/** Messages of the chain, outermost first, without the repeats kafkajs wrappers produce. */
function chainText(err: unknown): string {
  const parts: string[] = [];
  for (const e of causeChain(err)) {
    const m = typeof e.message === "string" ? e.message : String(e);
    if (m && !parts.some((p) => p.includes(m))) parts.push(m);
  }
  if (parts.length === 0) parts.push(String(err));
  return parts.join(": ");
}

/** A kafkajs failure as TRANSPORT_KAFKA: retriable when it was about reaching the brokers. */
export function kafkaFailure(err: unknown, what: string, brokers: readonly string[]): ReplicateError {
  if (err instanceof ReplicateError) return err;
  const retriable = transient(err);
  const hint = retriable ? "; check that the brokers are up and reachable" : "";
  return new ReplicateError("TRANSPORT_KAFKA", `Kafka ${what} failed (brokers ${brokers.join(", ")}): ${chainText(err)}${hint}`, {
    retriable,
    where: brokers.join(","),
    cause: err,
  });
}

/**
 * The command that creates the topic as gs-replicate needs it, runnable as printed: Kafka 2.2+
 * tools reach the cluster with --bootstrap-server, and a replication factor above the number
 * of brokers is refused, so it is the brokers the cluster has, at most 3.
 */
export function createTopicCommand(topic: string, bootstrap: readonly string[], brokers: number): string {
  const factor = Math.max(1, Math.min(3, brokers));
  return `kafka-topics.sh --bootstrap-server ${bootstrap.join(",")} --create --topic ${topic} --partitions 1 --replication-factor ${factor}`;
}

export function topicMissing(topic: string, brokers: readonly string[], command: string): ReplicateError {
  return new ReplicateError(
    "TRANSPORT_TOPIC",
    `Kafka topic "${topic}" does not exist on ${brokers.join(", ")}: create it with exactly one partition ` + `(${command}) or set [transport.kafka] create_topic = true`,
    { where: topic },
  );
}

/** The sink found no topic yet: `source` creates it (create_topic) when it starts. Retriable: the sink waits. */
export function topicNotYet(topic: string, brokers: readonly string[], command: string, createTopic: boolean): ReplicateError {
  const how = createTopic ? "start gs-replicate source, which creates it," : `create it with exactly one partition (${command}),`;
  return new ReplicateError("TRANSPORT_TOPIC", `Kafka topic "${topic}" does not exist yet on ${brokers.join(", ")}: ${how} or correct [transport.kafka] topic`, {
    where: topic,
    retriable: true,
  });
}

export function topicPartitions(topic: string, partitions: number, command: string): ReplicateError {
  return new ReplicateError(
    "TRANSPORT_TOPIC",
    `Kafka topic "${topic}" has ${partitions} partitions; gs-replicate needs exactly 1, because Kafka orders records only ` +
      `within a partition. Delete the topic and recreate it with one partition (${command}), or use another topic name`,
    { where: topic },
  );
}

export function topicNotCreated(topic: string, err: unknown, command: string): ReplicateError {
  return new ReplicateError("TRANSPORT_TOPIC", `could not create Kafka topic "${topic}" (${chainText(err)}); create it by hand with exactly one partition (${command})`, {
    where: topic,
    cause: err,
  });
}

/** A new topic not served yet by the broker asked (creation completes asynchronously across the cluster). */
export function topicSettling(err: unknown): boolean {
  const t = kafkaErrorType(err);
  return t === "UNKNOWN_TOPIC_OR_PARTITION" || t === "LEADER_NOT_AVAILABLE" || t === "NOT_LEADER_FOR_PARTITION";
}

/** The log no longer holds `requested`: retention deleted it before the sink read it. */
export function logGap(topic: string, requested: bigint, earliest: bigint): ReplicateError {
  return new ReplicateError(
    "SINK_LOG_GAP",
    `Kafka topic "${topic}" no longer holds offset ${requested}: the earliest offset available is ${earliest} ` +
      `(retention deleted the rest). The records in between are lost to this sink; re-synchronise the target ` +
      `and raise retention.ms / retention.bytes on the topic`,
    { where: `${topic}@${requested}` },
  );
}

/** The log moved in a way one writer cannot explain. */
export function unexpectedOffset(topic: string, expected: bigint, found: bigint, context: string): ReplicateError {
  return new ReplicateError(
    "TRANSPORT_KAFKA",
    `Kafka topic "${topic}": ${context}: expected offset ${expected}, found ${found}. Is another gs-replicate source ` +
      `writing to this topic? Stop it, then restart this source (it resumes from the tail of the log)`,
    { where: `${topic}@${expected}` },
  );
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/**
 * `p`, or a retriable TRANSPORT_KAFKA error as soon as `signal` aborts: kafkajs's own retries
 * (~40 s while the brokers are away) cannot be cancelled, and a stop must not wait for them.
 * What `p` does later is ignored; the process is on its way out.
 */
export function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined, what: string): Promise<T> {
  if (!signal) return p;
  p.catch(() => {});
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new ReplicateError("TRANSPORT_KAFKA", `stopped while ${what}`, { retriable: true }));
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** kafkajs's retry settings as a backoff schedule, ±20% jitter; `attempt` counts from 0. */
export function backoffMs(attempt: number, r: KafkaRetry): number {
  return backoff(attempt + 1, { firstMs: r.initialRetryTime, maxMs: r.maxRetryTime, jitter: 0.2 });
}

// kafkajs's request queue arms setTimeout with (throttledUntil - now), which is hugely negative
// when it is not throttled; Bun then prints a TimeoutNegativeWarning on stderr that a user
// cannot act on, and a 'warning' listener does not stop Bun from printing it. Clamping negative
// delays to 1 ms is exactly what the runtime does anyway, minus the warning. A Proxy keeps every
// property of the original function (promisify hooks and the like).
let timeoutGuarded = false;
export function guardNegativeTimeouts(): void {
  if (timeoutGuarded) return;
  timeoutGuarded = true;
  globalThis.setTimeout = new Proxy(globalThis.setTimeout, {
    apply(target, thisArg, args: unknown[]) {
      if (typeof args[1] === "number" && args[1] < 0) args[1] = 1;
      return Reflect.apply(target, thisArg, args);
    },
  });
}
