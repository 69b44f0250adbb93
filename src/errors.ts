// One error type for the whole tool. Every failure a DBA can see carries:
//   code       stable identifier, safe to grep for in runbooks (never reworded)
//   retriable  whether waiting and trying again can help (connection drops, deadlocks)
//   where      the position or object concerned (binlog file:pos, GTID, db.table, config key)
//   cause      the underlying error, kept for --debug output
// The CLI maps `kind` to the process exit code, so the mapping lives in one place. Each code's
// meaning, advice and usual exit code are in src/error-codes.ts (README "Error codes").

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
  return typeof code === "string" && ["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "PROTOCOL_CONNECTION_LOST", "EHOSTUNREACH"].includes(code);
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
