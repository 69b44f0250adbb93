// Session settings the canonical texts (canonical.ts) depend on, one place per side, so that the
// data check and the tests that prove the texts identical run their SQL in the same sessions.

import type postgres from "postgres";
import type { BinlogConnection } from "../binlog/connection.ts";
import type { TargetDialect } from "../dialect/types.ts";
import { sourceTimeoutStatement } from "./data-stop.ts";

/** @param timeoutSeconds the statement timeout of the session ([check] statement_timeout_seconds; 0: none) */
export async function prepareSourceSession(c: BinlogConnection, timeoutSeconds = 0): Promise<void> {
  // TIMESTAMP canonical texts are UTC; a chunk's rows are concatenated before hashing (1 GiB
  // is far above a chunk: chunkRowsFor keeps one near 8 MB).
  await c.query("SET SESSION time_zone = '+00:00', group_concat_max_len = 1073741824");
  if (timeoutSeconds > 0) await c.query(sourceTimeoutStatement(c.info.flavour, timeoutSeconds));
}

/**
 * openGauss behavior_compat_options that change the text of a numeric: without
 * display_leading_zero, 0.125 prints ".125"; hide_tailing_zero and truncate_numeric_tail_zero
 * print DECIMAL(12,3) 1.500 as "1.5". MySQL prints "0.125" and "1.500".
 */
const ADD_OPTIONS = ["display_leading_zero"];
const DROP_OPTIONS = new Set(["hide_tailing_zero", "truncate_numeric_tail_zero"]);

/** The DBA's behavior_compat_options with the canonical texts' needs applied (order kept). */
function compatOptionsFor(current: string): string {
  const kept = current
    .split(",")
    .map((o) => o.trim())
    .filter((o) => o !== "" && !DROP_OPTIONS.has(o.toLowerCase()));
  for (const o of ADD_OPTIONS) if (!kept.some((k) => k.toLowerCase() === o)) kept.push(o);
  return kept.join(",");
}

export async function prepareTargetSession(pg: Pick<postgres.Sql, "unsafe">, dialect: TargetDialect): Promise<void> {
  // Floats print their shortest round-trip digits (PostgreSQL 12+ and openGauss 7 for any value
  // above 0; openGauss's default is 0, which rounds to 15 digits).
  await pg.unsafe("SET extra_float_digits = 3");
  if (dialect === "opengauss") {
    // Only this session's options change; the others the DBA set (server, database or user
    // level) stay as they are.
    const [r] = await pg.unsafe(`SELECT current_setting('behavior_compat_options') AS o`);
    await pg.unsafe(`SELECT set_config('behavior_compat_options', $1, false)`, [compatOptionsFor(String(r?.o ?? ""))]);
  } else {
    // JIT compiles each chunk query anew (the JSON rebuild's estimated cost alone triggers it):
    // seconds of compiling for milliseconds of work. openGauss, and PostgreSQL before 11, have
    // no JIT (and no such setting).
    await pg.unsafe("SET jit = off").catch(() => {});
  }
}
