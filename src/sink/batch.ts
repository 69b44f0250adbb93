// One target transaction as ONE query of the simple protocol:
//
//   BEGIN; INSERT INTO gs_replicate.applied …; EXECUTE gsr_3(E'…', …); EXECUTE gsr_1(…); …; COMMIT
//
// Why: postgres.js spends ~20 µs of the sink's one JS thread per statement (a Query object,
// a Bind, one Sync and ReadyForQuery each, a Result), and the server flushes an answer per
// Sync; with a sysbench transaction at ~4 statements that made the sink CPU-bound on a
// loopback target. One query per transaction costs one string, one write and one answer.
//
// The statements are the precise path's (apply.ts planStatements), prepared on the server
// once per connection (PREPARE gsr_N AS …; parameter types inferred from the statement, as
// for an untyped parameter of the extended protocol) and executed with literal arguments:
// NULL, or an E'…' string with backslashes and quotes escaped (right whatever
// standard_conforming_strings says), which the server converts with the parameter's type
// exactly as it converts an untyped parameter. A byte string is E'\\x<hex>'.
//
// Errors: the caller retries a failed unit on the precise path (applyChanges), which says
// which statement and row failed; a failure here only has to leave nothing applied: the
// first error aborts the transaction and the server skips the rest, COMMIT included.

import type postgres from "postgres";
import { ReplicateError } from "../errors.ts";
import type { Param } from "../dialect/values.ts";
import type { PlannedStatement } from "./apply.ts";
import { appliedInsert, type AppliedRecord } from "./checkpoint.ts";

/** Units whose values exceed this go the precise path: one huge string would double their memory. */
export const MAX_QUERY_CHARS = 4 << 20;

/** What this file needs of a worker connection (worker.ts WorkerConn). */
interface PreparingConn {
  readonly sql: postgres.ReservedSql;
  /** Statement text → name of the statement prepared for it on this connection. */
  readonly prepared: Map<string, string>;
}

/** Rough size of the unit's values as literals, to decide between the paths. */
export function literalChars(statements: PlannedStatement[]): number {
  let n = 0;
  for (const st of statements) {
    for (const p of st.params) n += p === null ? 4 : typeof p === "string" ? p.length + 3 : typeof p === "number" ? 24 : 2 * p.length + 6;
  }
  return n;
}

/**
 * Applies the unit as one query (`hold`: checkpoint.ts holdStatement, first after BEGIN); sends COMMIT too when `commit`, else leaves the transaction
 * open for the caller to commit in its turn. Throws whatever the server said.
 */
export async function applyAsOneQuery(conn: PreparingConn, statements: PlannedStatement[], records: AppliedRecord[], commit: boolean, hold?: string): Promise<void> {
  await prepareAll(conn, statements);
  const parts = ["BEGIN", ...(hold ? [hold] : []), appliedInsert(records, literal).text];
  for (const st of statements) parts.push(execute(conn.prepared.get(st.text)!, st.params));
  if (commit) parts.push("COMMIT");
  // postgres.js answers a multi-statement query with one Result (itself an array of rows,
  // with a command) or, when several statements returned rows, an array of Results; each
  // Result's command is overwritten by the statements after it, so the last one's command
  // is the last statement's.
  const answer = (await conn.sql.unsafe(parts.join(";\n"))) as unknown as { command?: string } & Array<{ command?: string }>;
  const last = typeof answer.command === "string" ? answer.command : answer.at(-1)?.command;
  // An aborted transaction answers COMMIT with ROLLBACK (an error before it was thrown already).
  if (commit && last !== "COMMIT") {
    throw new ReplicateError("TARGET_CONNECTION", `the target answered a COMMIT with ${last ?? "nothing"}`, { retriable: true });
  }
}

/** Names are never reused, so a PREPARE that failed half-way cannot collide with a later one. */
let lastName = 0;

/** Prepares, in one query, the statements this connection has not prepared yet. */
async function prepareAll(conn: PreparingConn, statements: PlannedStatement[]): Promise<void> {
  const fresh = new Map<string, string>();
  for (const st of statements) {
    if (conn.prepared.has(st.text) || fresh.has(st.text)) continue;
    fresh.set(st.text, `gsr_${++lastName}`);
  }
  if (fresh.size === 0) return;
  await conn.sql.unsafe([...fresh].map(([text, name]) => `PREPARE ${name} AS ${text}`).join(";\n"));
  for (const [text, name] of fresh) conn.prepared.set(text, name);
}

function execute(name: string, params: Param[]): string {
  if (params.length === 0) return `EXECUTE ${name}`;
  let s = `EXECUTE ${name}(`;
  for (let i = 0; i < params.length; i++) s += (i === 0 ? "" : ", ") + literal(params[i]!);
  return `${s})`;
}

/** A value as an SQL literal of unknown type (see the file header). */
export function literal(v: Param): string {
  if (v === null) return "NULL";
  if (typeof v === "number") return `'${String(v)}'`;
  if (typeof v !== "string") return `E'\\\\x${v.toString("hex")}'`;
  if (!v.includes("'") && !v.includes("\\")) return `E'${v}'`;
  return `E'${v.replaceAll("\\", "\\\\").replaceAll("'", "''")}'`;
}
