// Opens the configured transport: the only place that chooses between journal and Kafka.

import { ReplicateError } from "../errors.ts";
import type { TransportConfig } from "../config/types.ts";
import { openJournalReader, openJournalWriter } from "./journal.ts";
import type { LogReader, LogWriter } from "./types.ts";

export interface OpenOptions {
  onWarning?: (message: string) => void;
}

export async function openLogWriter(t: TransportConfig, opts: OpenOptions = {}): Promise<LogWriter> {
  if (t.kind === "kafka") throw kafkaMissing();
  return openJournalWriter(need(t.journal, "transport.journal"), opts);
}

export async function openLogReader(t: TransportConfig, _opts: OpenOptions = {}): Promise<LogReader> {
  if (t.kind === "kafka") throw kafkaMissing();
  return openJournalReader(need(t.journal, "transport.journal"));
}

// The Kafka transport lands in the next commit; until then it is refused plainly.
function kafkaMissing(): ReplicateError {
  return new ReplicateError("TRANSPORT_KAFKA", 'the Kafka transport is not in this build yet; use [transport] kind = "journal"', { kind: "config" });
}

function need<T>(v: T | undefined, section: string): T {
  if (v === undefined) throw new ReplicateError("CONFIG_MISSING_KEY", `section [${section}] is required by [transport] kind`, { kind: "config", where: section });
  return v;
}
