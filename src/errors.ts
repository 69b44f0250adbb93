// One error type for the whole tool. Every failure a DBA can see carries:
//   code       stable identifier, safe to grep for in runbooks (never reworded)
//   retriable  whether waiting and trying again can help (connection drops, deadlocks)
//   where      the position or object concerned (binlog file:pos, GTID, db.table, config key)
//   cause      the underlying error, kept for --debug output
// The CLI maps `kind` to the process exit code, so the mapping lives in one place. Each code's
// meaning, advice and usual exit code are in src/error-codes.ts (docs/errors.md).

import { ERROR_CODES, type ErrorCode } from "./error-codes.ts";

type ErrorKind = "config" | "runtime" | "check";

export type { ErrorCode } from "./error-codes.ts";

interface ErrorOptions {
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
    const exit = ERROR_CODES[code].exit;
    this.kind = options.kind ?? (exit === EXIT.config ? "config" : exit === EXIT.check ? "check" : "runtime");
  }
}

/** Exit codes are part of the CLI contract (docs/usage.md). */
export const EXIT = { ok: 0, runtime: 1, config: 2, check: 3 } as const;

export function exitCodeFor(err: unknown): number {
  if (err instanceof ReplicateError) {
    if (err.kind === "config") return EXIT.config;
    if (err.kind === "check") return EXIT.check;
  }
  return EXIT.runtime;
}

/**
 * How a failure is met, decided here for every caller (the source's reconnects, the sink's
 * workers and statement retries, the Kafka calls):
 *   lost       the session is over or could not be had (socket errors, the drivers' own codes
 *              for a closed connection, SQLSTATE classes 08 and 57P after which the server
 *              closes it): wait, connect again, try again;
 *   retriable  the attempt failed but the session lives (deadlock, serialization failure, lock
 *              not available) or our own error says waiting helps: try again;
 *   permanent  trying again cannot help (a data error, a refusal, a bug): stop and say so.
 * Our own ReplicateError decides for itself: its `retriable` flag is the verdict.
 */
type FailureClass = "lost" | "retriable" | "permanent";

/** Error codes of a session that is over: sockets, postgres.js (CONNECT_TIMEOUT: a server that accepts TCP but does not answer) and mysql2. */
const LOST_CODES = new Set([
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "PROTOCOL_CONNECTION_LOST",
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);

/** SQLSTATEs after which the same statement may succeed in the same session (PostgreSQL and openGauss alike). */
const RETRY_SQLSTATES = new Set(["40001", "40P01", "55P03"]);

export function classify(err: unknown): FailureClass {
  if (err instanceof ReplicateError) {
    if (!err.retriable) return "permanent";
    return connectionLost(err.cause) ? "lost" : "retriable";
  }
  if (connectionLost(err)) return "lost";
  for (const e of causeChain(err)) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && RETRY_SQLSTATES.has(code)) return "retriable";
  }
  return "permanent";
}

/** True for errors worth retrying after a backoff (classify: lost or retriable). */
export function isRetriable(err: unknown): boolean {
  return classify(err) !== "permanent";
}

/** True when the error, or one it wraps, means the session is over (or could not be had). */
export function connectionLost(err: unknown): boolean {
  for (const e of causeChain(err)) {
    const code = (e as { code?: unknown }).code;
    if (typeof code !== "string") continue;
    if (LOST_CODES.has(code) || code.startsWith("08") || code.startsWith("57P")) return true;
  }
  return false;
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
