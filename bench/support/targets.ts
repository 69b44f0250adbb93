// The targets bench/sink.ts measures, behind one interface: a throwaway PostgreSQL 15 or a real
// openGauss 7.0 (its own server, never one reused through GSR_OPENGAUSS_DIR: the bench changes
// its configuration). Both run with fsync=off, which applies equally to replay and native.
//
// The sink logs in as the server's ordinary user (openGauss: gsr, SHA256). sysbench's pgsql
// driver is libpq, which cannot answer openGauss's SHA256 request ("none of the server's SASL
// authentication mechanisms are supported"), so sysbench logs in as its own user whose password
// is stored with an MD5 verifier, through a pg_hba `md5` line for that user placed before the
// others. The verifier is written only while password_encryption_type is 1 (MD5 and SHA256):
// a session SET is refused (the parameter is sighup), ALTER SYSTEM is refused to any user but
// the initial one, so it is set by omm over the local socket, then put back to 2 (the default
// of every other login). With 2 at CREATE USER, libpq fails ("AUTH_REQ_SASL_CONT without
// AUTH_REQ_SASL"). Loading through gsql instead would measure gsql, not sysbench's driver.

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import postgres from "postgres";
import { Secret } from "../../src/config/secret.ts";
import { connectTarget } from "../../src/dialect/connect.ts";
import { startPostgres, type TargetDialect } from "../../test/support/servers.ts";
import { OPENGAUSS_PASSWORD, OPENGAUSS_USER, startOpenGauss, type OpenGaussServer } from "../../test/support/opengauss.ts";

export interface BenchTarget {
  dialect: TargetDialect;
  /** Product and version, e.g. "openGauss 7.0.0-RC2". */
  name: string;
  port: number;
  /** A database for the bench (openGauss: DBCOMPATIBILITY 'PG', where '' is not NULL). */
  createDatabase(name: string): Promise<void>;
  /** A client as the sink's user on `database`, through `port` (default: the server's own). */
  sql(database: string, port?: number): postgres.Sql;
  /** The `[target]` keys of a sink config (no table header). */
  sinkToml(database: string, port: number): string;
  /** sysbench's --pgsql-* flags for `database` through `port`. */
  sysbenchArgs(database: string, port: number): string[];
  /** The role sysbench logs in as (its search_path picks the schema it works on). */
  sysbenchUser: string;
  stop(): Promise<void>;
}

const SYSBENCH_USER = "sbbench";
const SYSBENCH_PASSWORD = "Bench@pass123";

export async function startBenchTarget(dialect: TargetDialect): Promise<BenchTarget> {
  return dialect === "postgresql" ? await benchPostgres() : await benchOpenGauss();
}

async function benchPostgres(): Promise<BenchTarget> {
  const pg = await startPostgres();
  const sql = (database: string, port = pg.port) => postgres({ host: "127.0.0.1", port, user: "postgres", database, max: 4, onnotice: () => {} });
  const admin = sql("postgres");
  let version: string;
  try {
    await admin.unsafe(`CREATE ROLE ${SYSBENCH_USER} LOGIN SUPERUSER`);
    version = String((await admin`SHOW server_version`)[0]!.server_version);
  } finally {
    await admin.end();
  }
  return {
    dialect: "postgresql",
    name: `PostgreSQL ${version}`,
    port: pg.port,
    createDatabase: (name) => pg.createDatabase(name),
    sql,
    sinkToml: (database, port) => `host = "127.0.0.1"\nport = ${port}\nuser = "postgres"\ndatabase = "${database}"\ndialect = "postgresql"`,
    sysbenchArgs: (database, port) => ["--pgsql-host=127.0.0.1", `--pgsql-port=${port}`, `--pgsql-user=${SYSBENCH_USER}`, `--pgsql-db=${database}`],
    sysbenchUser: SYSBENCH_USER,
    stop: () => pg.stop(),
  };
}

async function benchOpenGauss(): Promise<BenchTarget> {
  const reuse = process.env.GSR_OPENGAUSS_DIR;
  delete process.env.GSR_OPENGAUSS_DIR;
  let og: OpenGaussServer;
  try {
    og = startOpenGauss();
  } finally {
    if (reuse !== undefined) process.env.GSR_OPENGAUSS_DIR = reuse;
  }
  try {
    await prepareSysbenchLogin(og);
  } catch (err) {
    og.stop();
    throw err;
  }
  const sql = (database: string, port = og.port) =>
    connectTarget(
      { host: "127.0.0.1", port, user: OPENGAUSS_USER, password: new Secret(OPENGAUSS_PASSWORD), database, dialect: "opengauss", schema_mapping: {}, tls: { mode: "disabled" } },
      4,
    );
  const version = ommSql(og, "SELECT opengauss_version()");
  return {
    dialect: "opengauss",
    name: `openGauss ${version}`,
    port: og.port,
    createDatabase: async (name) => {
      const s = sql("postgres");
      try {
        await s.unsafe(`CREATE DATABASE ${name} DBCOMPATIBILITY 'PG'`);
      } finally {
        await s.end();
      }
    },
    sql,
    sinkToml: (database, port) =>
      `host = "127.0.0.1"\nport = ${port}\nuser = "${OPENGAUSS_USER}"\npassword = "${OPENGAUSS_PASSWORD}"\ndatabase = "${database}"\ndialect = "opengauss"`,
    sysbenchArgs: (database, port) => [
      "--pgsql-host=127.0.0.1",
      `--pgsql-port=${port}`,
      `--pgsql-user=${SYSBENCH_USER}`,
      `--pgsql-password=${SYSBENCH_PASSWORD}`,
      `--pgsql-db=${database}`,
    ],
    sysbenchUser: SYSBENCH_USER,
    stop: async () => og.stop(),
  };
}

/** One statement as the initial user over the local socket; its single value, trimmed. */
function ommSql(og: OpenGaussServer, statement: string): string {
  const quoted = `'${statement.replace(/'/g, `'\\''`)}'`;
  const r = og.asOmm(`gsql -d postgres -p ${og.port} -t -A -c ${quoted}`);
  if (r.code !== 0) throw new Error(`gsql as omm: ${statement}: ${r.out}`);
  return r.out.trim();
}

/** ALTER SYSTEM reaches new sessions once the postmaster has reloaded: wait for it. */
async function alterSystem(og: OpenGaussServer, name: string, value: string): Promise<void> {
  ommSql(og, `ALTER SYSTEM SET ${name} = ${value}`);
  for (let i = 0; i < 100; i++) {
    if (ommSql(og, `SHOW ${name}`) === value) return;
    await Bun.sleep(100);
  }
  throw new Error(`openGauss: ${name} is not ${value} 10 s after ALTER SYSTEM`);
}

async function prepareSysbenchLogin(og: OpenGaussServer): Promise<void> {
  await alterSystem(og, "fsync", "off");
  await alterSystem(og, "password_encryption_type", "1");
  ommSql(og, `CREATE USER ${SYSBENCH_USER} WITH SYSADMIN PASSWORD '${SYSBENCH_PASSWORD}'`);
  await alterSystem(og, "password_encryption_type", "2");
  const hba = join(og.dir, "data", "pg_hba.conf");
  writeFileSync(hba, `host all ${SYSBENCH_USER} 127.0.0.1/32 md5\n${readFileSync(hba, "utf8")}`);
  const r = og.asOmm(`gs_ctl reload -D ${join(og.dir, "data")}`);
  if (r.code !== 0) throw new Error(`gs_ctl reload: ${r.out}`);
  // postgres.js answers an MD5 request as libpq does: proof that sysbench will get in.
  let last: unknown;
  for (let i = 0; i < 50; i++) {
    const s = postgres({ host: "127.0.0.1", port: og.port, user: SYSBENCH_USER, password: SYSBENCH_PASSWORD, database: "postgres", max: 1, onnotice: () => {} });
    try {
      await s`SELECT 1`;
      return;
    } catch (err) {
      last = err;
      await Bun.sleep(200);
    } finally {
      await s.end();
    }
  }
  throw new Error(`openGauss: ${SYSBENCH_USER} cannot log in with MD5 after the pg_hba reload: ${String(last)}`);
}
