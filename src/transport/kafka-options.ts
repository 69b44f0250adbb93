// Options of the Kafka transport, and the client options built from [transport.kafka]: TLS
// material read from files, SASL credentials. Kept apart from kafka.ts (the only file that
// imports kafkajs); the SASL shape below is what kafkajs accepts for these three mechanisms.

import { readFileSync } from "node:fs";
import type { ConnectionOptions } from "node:tls";
import type { KafkaConfig } from "../config/types.ts";
import { ReplicateError } from "../errors.ts";
import type { KafkaRetry } from "./kafka-support.ts";

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
  /** Once aborted, every call still waiting for the brokers gives up with a retriable error. */
  signal?: AbortSignal;
}

type SaslPassword =
  | { mechanism: "plain"; username: string; password: string }
  | { mechanism: "scram-sha-256"; username: string; password: string }
  | { mechanism: "scram-sha-512"; username: string; password: string };

/** Node TLS options, or undefined for plaintext. rejectUnauthorized follows `verify`. */
export function tlsOptions(tls: KafkaConfig["tls"]): ConnectionOptions | undefined {
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

/** The password is revealed here only, for kafkajs; it never enters a message. */
export function saslOptions(sasl: KafkaConfig["sasl"]): SaslPassword | undefined {
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
