// An openGauss database has a compatibility mode, fixed by CREATE DATABASE … DBCOMPATIBILITY and
// never changeable afterwards. It decides whether MySQL data can be stored exactly. Measured on
// openGauss 7.0.0-RC2 (test/check/compat.test.ts proves each on the real server):
//
//   A  (Oracle; the default of CREATE DATABASE)  '' is stored as NULL; char(n)/varchar(n) count
//      bytes; length(char(n)) counts the padding; split_part() and lpad() return NULL for ''.
//      MySQL's empty strings would silently become NULL: refused.
//   C  (Teradata)  '' stays ''; char(n)/varchar(n) count bytes, length(char(n)) counts the
//      padding. The mapped types (nvarchar2(n), character(4n), src/dialect/types.ts) hold any
//      MySQL value, so data is stored exactly; tables made by hand with varchar(n) may refuse
//      multibyte values (loudly: the sink stops on the row).
//   B  (MySQL, here without the dolphin plugin) and PG  '' stays '', lengths count characters.
//
// PostgreSQL has no such modes. A server without sql_compatibility under dialect "opengauss" is
// not openGauss: nothing to refuse about the data, but worth saying (a caveat).
//
// The rest of what the product relies on, as openGauss 7.0.0-RC2 does it (each proven by a suite
// that runs on both targets): writable CTEs (`WITH w AS (UPDATE … RETURNING 1) SELECT …`, the
// sink's row-count check) and PREPARE/EXECUTE with E'' literals (the one-query path) behave as on
// PostgreSQL; there is no `INSERT … ON CONFLICT` (the product never upserts: exactly-once comes
// from the checkpoint), no `cardinality()`, no `jsonb || jsonb`; integer `/` yields a double;
// names longer than 63 bytes are cut as on PostgreSQL (ddl-names.ts shortens them first); error
// responses name no schema or table (errors.ts); sequences cannot be renamed and CREATE TABLE …
// LIKE turns an owned-sequence default into a serial column (ddl-catalog.ts, ddl-table.ts);
// numerics print without a leading zero and floats with 15 digits unless the session says
// otherwise (connect.ts, check/data-sessions.ts); the login is SHA256 (opengauss-*.ts).

import type postgres from "postgres";
import type { TargetDialect } from "./types.ts";

export interface CompatibilityProblem {
  /** What the database does that MySQL data does not survive. */
  found: string;
  /** What the DBA does about it. */
  fix: string;
}

export interface TargetCompatibility {
  /** openGauss: sql_compatibility ("A", "B", "C", "PG"); PostgreSQL: null. */
  mode: string | null;
  /** openGauss: opengauss_version() ("7.0.0-RC2"); null on PostgreSQL or a build without it. */
  version: string | null;
  /** Set when MySQL data cannot be stored exactly in this database. */
  problem: CompatibilityProblem | null;
  /** Set when data is stored exactly but something still deserves a look (mode C, not openGauss). */
  caveat: string | null;
}

type Sql = Pick<postgres.Sql, "unsafe">;

/**
 * Why MySQL data cannot be stored exactly in the connected target database, or null when it
 * can. The sink refuses to start on such a database; `check` reports it as target.compatibility.
 */
export async function targetCompatibilityProblem(sql: Sql, dialect: TargetDialect): Promise<CompatibilityProblem | null> {
  return (await targetCompatibility(sql, dialect)).problem;
}

export async function targetCompatibility(sql: Sql, dialect: TargetDialect): Promise<TargetCompatibility> {
  if (dialect === "postgresql") return { mode: null, version: null, problem: null, caveat: null };
  const [r] = await sql.unsafe(
    `SELECT current_database() AS db,
            (SELECT setting FROM pg_settings WHERE name = 'sql_compatibility') AS mode,
            EXISTS (SELECT 1 FROM pg_proc WHERE proname = 'opengauss_version') AS has_version`,
  );
  const db = String(r?.db);
  const mode = r?.mode === null || r?.mode === undefined ? null : String(r.mode).toUpperCase();
  const version = r?.has_version ? String((await sql.unsafe(`SELECT opengauss_version() AS v`))[0]?.v ?? "") || null : null;
  const recreate = `create the target database with CREATE DATABASE "${db.replace(/"/g, '""')}_pg" DBCOMPATIBILITY 'PG' (or 'B'; a database's compatibility cannot be changed), create the schemas and tables there, load the full copy there and point [target] database at it`;
  if (mode === null) {
    // Not openGauss (PostgreSQL, which keeps '' and counts characters): the data is stored
    // exactly, the dialect is just not the server's. Tests log in to PostgreSQL this way.
    return {
      mode,
      version,
      problem: null,
      caveat: `database "${db}" has no sql_compatibility setting: the server is not openGauss, but [target] dialect is "opengauss"`,
    };
  }
  if (mode === "A") {
    return {
      mode,
      version,
      caveat: null,
      problem: {
        found: `database "${db}" is in openGauss compatibility A (Oracle): it stores '' as NULL, so MySQL's empty strings would become NULL, and char(n)/varchar(n) count bytes, not characters`,
        fix: recreate,
      },
    };
  }
  if (mode === "B" || mode === "PG") return { mode, version, problem: null, caveat: null };
  if (mode === "C") {
    return {
      mode,
      version,
      problem: null,
      caveat: `database "${db}" is in openGauss compatibility C: '' stays '', but char(n)/varchar(n) count bytes, so tables made by hand with varchar(n) may refuse multibyte values (the mapped nvarchar2(n) and character(4n) hold them)`,
    };
  }
  return {
    mode,
    version,
    caveat: null,
    problem: { found: `database "${db}" is in openGauss compatibility ${mode}, which gs-replicate does not know`, fix: recreate },
  };
}
