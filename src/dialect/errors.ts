// What a target's error response says about the object it concerns. PostgreSQL (9.3 and later)
// sends the schema, table and constraint as fields of the ErrorResponse; openGauss, which
// branched from PostgreSQL 9.2, sends none of them (seen on 7.0.0-RC2: a duplicate key carries
// only the code, the message and the detail). Code that must know which table refused a row
// therefore gets "unknown" there and has to ask the target instead of guessing from the text.

import { causeChain } from "../errors.ts";

type ViolatedTable = { schema: string | undefined; table: string } | "unknown" | undefined;

interface ServerError {
  code?: unknown;
  schema_name?: unknown;
  table_name?: unknown;
}

/** The error itself, or the server error a ReplicateError wraps. */
function serverError(err: unknown): ServerError | undefined {
  for (const e of causeChain(err)) {
    const code = (e as ServerError).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return e as ServerError;
  }
  return undefined;
}

/** A foreign key refused the statement (SQLSTATE 23503). */
export function foreignKeyViolation(err: unknown): boolean {
  return serverError(err)?.code === "23503";
}

/**
 * The table of a unique violation (SQLSTATE 23505): named when the server said it, "unknown"
 * when the server does not say (openGauss), undefined for any other error.
 */
export function uniqueViolationTable(err: unknown): ViolatedTable {
  const e = serverError(err);
  if (e?.code !== "23505") return undefined;
  if (typeof e.table_name !== "string") return "unknown";
  return { schema: typeof e.schema_name === "string" ? e.schema_name : undefined, table: e.table_name };
}
