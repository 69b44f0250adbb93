// Opens the configured transport: the only place that chooses between journal and Kafka.

import { ReplicateError } from "../errors.ts";
import type { TransportConfig } from "../config/types.ts";
import { openJournalReader, openJournalWriter } from "./journal.ts";
import { openKafkaReader, openKafkaWriter } from "./kafka.ts";
import type { LogReader, LogWriter } from "./types.ts";

export interface OpenOptions {
  onWarning?: (message: string) => void;
}

export async function openLogWriter(t: TransportConfig, opts: OpenOptions = {}): Promise<LogWriter> {
  if (t.kind === "kafka") return openKafkaWriter(need(t.kafka, "transport.kafka"), opts);
  return openJournalWriter(need(t.journal, "transport.journal"), opts);
}

export async function openLogReader(t: TransportConfig, opts: OpenOptions = {}): Promise<LogReader> {
  if (t.kind === "kafka") return openKafkaReader(need(t.kafka, "transport.kafka"), opts);
  return openJournalReader(need(t.journal, "transport.journal"));
}

function need<T>(v: T | undefined, section: string): T {
  if (v === undefined) throw new ReplicateError("CONFIG_MISSING_KEY", `section [${section}] is required by [transport] kind`, { kind: "config", where: section });
  return v;
}
