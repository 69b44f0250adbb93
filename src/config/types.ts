// The typed configuration, as produced by load.ts from the file described by schema.ts.

import type { Secret } from "./secret.ts";

export type TlsMode = "disabled" | "required" | "verify-ca" | "verify-full";

export interface TlsConfig {
  mode: TlsMode;
  ca?: string;
  cert?: string;
  key?: string;
}

export interface SourceConfig {
  host: string;
  port: number;
  user: string;
  password?: Secret;
  server_id: number;
  flavor: "auto" | "mysql" | "mariadb";
  server_name: string;
  databases: string[];
  start: string;
  heartbeat_seconds: number;
  tls: TlsConfig;
}

export interface JournalConfig {
  dir: string;
  segment_mib: number;
}

export interface KafkaConfig {
  brokers: string[];
  topic: string;
  client_id: string;
  group_id: string;
  create_topic: boolean;
  sasl?: { mechanism: "plain" | "scram-sha-256" | "scram-sha-512"; username: string; password?: Secret };
  tls?: { enabled: boolean; ca?: string; cert?: string; key?: string; verify: boolean };
}

export interface TransportConfig {
  kind: "journal" | "kafka";
  journal?: JournalConfig;
  kafka?: KafkaConfig;
}

export interface TargetConfig {
  host: string;
  port: number;
  user: string;
  password?: Secret;
  database: string;
  dialect: "opengauss" | "postgresql";
  schema_mapping: Record<string, string>;
  tls: TlsConfig;
}

export interface SinkConfig {
  workers: number;
  preserve_commit_order: boolean;
  group_transactions: number;
  on_error: "stop";
  unresponsive_seconds: number;
  zero_date: "error" | "null";
  untranslatable: "record" | "stop";
}

export interface CopyConfig {
  parallel: number;
  chunk_rows: number;
  snapshot: "auto" | "lock-free" | "lock";
  lock_timeout_seconds: number;
}

export interface CheckConfig {
  statement_timeout_seconds: number;
}

export interface LogConfig {
  level: "error" | "warn" | "info" | "debug";
  progress_seconds: number;
  format: "plain" | "json";
}

export interface MetricsConfig {
  listen: string;
}

export interface Config {
  source?: SourceConfig;
  transport?: TransportConfig;
  target?: TargetConfig;
  sink: SinkConfig;
  copy: CopyConfig;
  check: CheckConfig;
  log: LogConfig;
  /** Absent: no metrics served. */
  metrics?: MetricsConfig;
}
