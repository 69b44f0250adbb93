// One error type for the whole tool. Every failure a DBA can see carries:
//   code       stable identifier, safe to grep for in runbooks (never reworded)
//   retriable  whether waiting and trying again can help (connection drops, deadlocks)
//   where      the position or object concerned (binlog file:pos, GTID, db.table, config key)
//   cause      the underlying error, kept for --debug output
// The CLI maps `kind` to the process exit code, so the mapping lives in one place.

export type ErrorKind = "config" | "runtime" | "check";

export type ErrorCode =
  // configuration and usage (exit 2)
  | "CONFIG_UNREADABLE"
  | "CONFIG_SYNTAX"
  | "CONFIG_MISSING_KEY"
  | "CONFIG_WRONG_TYPE"
  | "CONFIG_BAD_VALUE"
  | "CONFIG_UNKNOWN_KEY"
  | "CONFIG_SECRET_UNREADABLE"
  | "USAGE"
  // binlog reading
  | "BINLOG_TRUNCATED"
  | "BINLOG_CHECKSUM"
  | "BINLOG_UNKNOWN_EVENT"
  | "BINLOG_BAD_VALUE"
  | "BINLOG_UNSUPPORTED"
  | "BINLOG_SCHEMA_MISSING"
  | "SOURCE_CONNECTION"
  | "SOURCE_SERVER_ERROR"
  | "SOURCE_POSITION_PURGED"
  | "SOURCE_POSITION_UNKNOWN"
  // events and transports
  | "AVRO_NAME"
  | "AVRO_ENCODE"
  | "TRANSPORT_TOPIC"
  | "TRANSPORT_KAFKA"
  | "JOURNAL_CORRUPT"
  /** Not an error: logged when a torn write after the last sync is cut from the journal's end. */
  | "JOURNAL_TORN_TAIL"
  | "JOURNAL_IO"
  // sink and target
  | "TARGET_CONNECTION"
  | "TARGET_UNRESPONSIVE"
  | "TARGET_AUTH"
  | "TARGET_DATA"
  | "TARGET_DDL_INCOMPATIBLE"
  | "TARGET_CHECKPOINT"
  | "TARGET_INCOMPATIBLE"
  | "SINK_LOG_GAP"
  | "SINK_ALREADY_RUNNING"
  // check
  | "CHECK_FAILED"
  | "CHECK_INTERRUPTED"
  | "INTERNAL";

export interface ErrorOptions {
  retriable?: boolean;
  where?: string;
  cause?: unknown;
  kind?: ErrorKind;
}

export class ReplicateError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly where: string | undefined;
  readonly kind: ErrorKind;

  constructor(code: ErrorCode, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ReplicateError";
    this.code = code;
    this.retriable = options.retriable ?? false;
    this.where = options.where;
    this.kind = options.kind ?? (code.startsWith("CONFIG_") || code === "USAGE" ? "config" : "runtime");
  }
}

/** Exit codes are part of the CLI contract (README "Exit codes"). */
export const EXIT = { ok: 0, runtime: 1, config: 2, check: 3 } as const;

export function exitCodeFor(err: unknown): number {
  if (err instanceof ReplicateError) {
    if (err.kind === "config") return EXIT.config;
    if (err.kind === "check") return EXIT.check;
  }
  return EXIT.runtime;
}

/** True for errors worth retrying after a backoff: ours that say so, and socket-level failures. */
export function isRetriable(err: unknown): boolean {
  if (err instanceof ReplicateError) return err.retriable;
  const code = (err as { code?: unknown } | null)?.code;
  return (
    typeof code === "string" &&
    ["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "PROTOCOL_CONNECTION_LOST", "EHOSTUNREACH"].includes(code)
  );
}

/** The error and the causes it wraps (ReplicateError's `cause`, postgres.js's), nearest first, at most four deep. */
export function* causeChain(err: unknown): Generator<object> {
  for (let e: unknown = err, depth = 0; e && typeof e === "object" && depth < 4; e = (e as { cause?: unknown }).cause, depth++) yield e;
}

/** "message [CODE at where]" — the one-line form printed by the CLI. */
export function describeError(err: unknown): string {
  if (err instanceof ReplicateError) {
    return `${err.message} [${err.code}${err.where ? ` at ${err.where}` : ""}]`;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}
