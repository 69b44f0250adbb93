// Opens the configured transport: the only place that chooses between journal and Kafka.

import { ReplicateError } from "../errors.ts";
import type { TransportConfig } from "../config/types.ts";
import { openJournalReader, openJournalWriter } from "./journal.ts";
import { openKafkaReader, openKafkaWriter } from "./kafka.ts";
import type { LogReader, LogWriter } from "../log-contract.ts";

interface OpenOptions {
  onWarning?: (message: string) => void;
  /** A stop: Kafka calls still waiting for the brokers give up (retriable errors) once it aborts. */
  signal?: AbortSignal;
}

export async function openLogWriter(t: TransportConfig, opts: OpenOptions = {}): Promise<LogWriter> {
  if (t.kind === "kafka") return openKafkaWriter(need(t.kafka, "transport.kafka"), opts);
  return openJournalWriter(need(t.journal, "transport.journal"), { onWarning: opts.onWarning });
}

export async function openLogReader(t: TransportConfig, opts: OpenOptions = {}): Promise<LogReader> {
  if (t.kind === "kafka") return openKafkaReader(need(t.kafka, "transport.kafka"), opts);
  return openJournalReader(need(t.journal, "transport.journal"), { onWarning: opts.onWarning });
}

/** The log as a progress line names what it waits for. */
export function describeLog(t: TransportConfig): string {
  if (t.kind === "kafka") return `the Kafka brokers (${t.kafka?.brokers.join(", ")}, topic ${t.kafka?.topic})`;
  return `the journal ${t.journal?.dir}`;
}

function need<T>(v: T | undefined, section: string): T {
  if (v === undefined) throw new ReplicateError("CONFIG_MISSING_KEY", `section [${section}] is required by [transport] kind`, { kind: "config", where: section });
  return v;
}
