// Real servers for tests, each on a free loopback port in its own temporary directory:
// MariaDB 10.11 with the binlog on, the two targets — a real openGauss 7.0 (opengauss.ts) and
// PostgreSQL 15 — and librdkafka's mock Kafka cluster. The machine's default instances on
// 3306/5432 are never touched.
//
// getMariadb()/getTarget()/getKafka() start each server once per `bun test` run (all test
// files share one process) and the preload's afterAll stops them; tests isolate themselves
// by database, schema and topic names. A process 'exit' hook kills whatever is left even if
// the run is aborted. Suites that touch the target run once per dialect of TARGETS.

import { chmodSync, chownSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync, type Subprocess } from "bun";
import mysql from "mysql2/promise";
import postgres from "postgres";
import { connectTarget } from "../../src/dialect/connect.ts";
import { startKafkaMock, type KafkaMock } from "./kafka-mock.ts";
import { OPENGAUSS_PASSWORD, OPENGAUSS_USER, startOpenGauss, type OpenGaussServer } from "./opengauss.ts";

export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

function run(cmd: string[], what: string): string {
  const r = spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${what} failed (exit ${r.exitCode}): ${r.stderr.toString()}${r.stdout.toString()}`);
  return r.stdout.toString();
}

async function waitFor(what: string, ms: number, probe: () => Promise<unknown>): Promise<void> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      await probe();
      return;
    } catch (err) {
      last = err;
      await Bun.sleep(100);
    }
  }
  throw new Error(`${what} not ready after ${ms} ms: ${String(last)}`);
}

/** True while the process exists and is not a zombie (a daemon's zombie may linger unreaped in a container). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- MariaDB

export interface MariaDb {
  host: string;
  port: number;
  user: string;
  password: string;
  datadir: string;
  pid(): number;
  /** Extra server options given at start (to restart identically). */
  args: string[];
  connect(database?: string): Promise<mysql.Connection>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

interface MariaDbOptions {
  /** Replace the binlog options (e.g. [] for a server without binlog, or STATEMENT format). */
  binlogArgs?: string[];
  extraArgs?: string[];
  /**
   * Serve TLS with this certificate and key (PEM files); `requireSecure` refuses plain
   * connections. The helper's own connect() then uses TLS (without verification: it is a
   * test client, the code under test does the verifying).
   */
  tls?: { cert: string; key: string; ca?: string; requireSecure?: boolean };
}

const DEFAULT_BINLOG_ARGS = ["--log-bin=binlog", "--binlog-format=ROW", "--binlog-row-image=FULL", "--binlog-row-metadata=FULL", "--gtid-strict-mode=ON"];

function mkdirOf(dir: string): string {
  mkdirSync(dir, { recursive: true });
  return dir;
}

export async function startMariadb(opts: MariaDbOptions = {}): Promise<MariaDb> {
  const datadir = mkdtempSync(join(tmpdir(), "gsr-mariadb-"));
  run(["mariadb-install-db", "--no-defaults", `--datadir=${datadir}`, "--user=root", "--auth-root-authentication-method=normal", "--skip-test-db"], "mariadb-install-db");
  const port = await freePort();
  const args = [
    "--no-defaults",
    "--user=root",
    `--datadir=${datadir}`,
    `--port=${port}`,
    "--bind-address=127.0.0.1",
    `--socket=${join(datadir, "mysqld.sock")}`,
    `--pid-file=${join(datadir, "mysqld.pid")}`,
    `--log-error=${join(datadir, "error.log")}`,
    // Its own temporary files' directory: with /tmp shared, a check's temporary table vanished
    // under a server while other servers started ("Error on delete of '/tmp/#sql-temptable…'").
    `--tmpdir=${mkdirOf(join(datadir, "tmp"))}`,
    "--server-id=1",
    "--innodb-buffer-pool-size=64M",
    "--innodb-log-file-size=48M",
    "--skip-name-resolve",
    "--max-allowed-packet=64M",
    ...(opts.binlogArgs ?? DEFAULT_BINLOG_ARGS).map((a) => (a === "--log-bin=binlog" ? `--log-bin=${join(datadir, "binlog")}` : a)),
    ...(opts.tls
      ? [
          `--ssl-cert=${opts.tls.cert}`,
          `--ssl-key=${opts.tls.key}`,
          ...(opts.tls.ca ? [`--ssl-ca=${opts.tls.ca}`] : []),
          ...(opts.tls.requireSecure ? ["--require-secure-transport=ON"] : []),
        ]
      : []),
    ...(opts.extraArgs ?? []),
  ];
  let proc: Subprocess | undefined;
  const ssl = opts.tls ? { rejectUnauthorized: false } : undefined;
  const connect = (database?: string) => mysql.createConnection({ host: "127.0.0.1", port, user: "root", password: "", database, multipleStatements: true, ssl });
  const start = async () => {
    proc = Bun.spawn(["mariadbd", ...args], { stdout: "ignore", stderr: "ignore" });
    track(proc.pid);
    await waitFor(`MariaDB on port ${port} (log: ${join(datadir, "error.log")})`, 30_000, async () => {
      if (proc?.exitCode !== null) throw new Error(`mariadbd exited with ${proc?.exitCode}`);
      const c = await connect();
      await c.end();
    });
  };
  const stopProc = async () => {
    if (!proc || proc.exitCode !== null) return;
    proc.kill("SIGTERM");
    const timer = setTimeout(() => proc?.kill("SIGKILL"), 20_000);
    await proc.exited;
    clearTimeout(timer);
    untrack(proc.pid);
  };
  await start();
  return {
    host: "127.0.0.1",
    port,
    user: "root",
    password: "",
    datadir,
    args,
    pid: () => proc?.pid ?? -1,
    connect,
    restart: async () => {
      await stopProc();
      await start();
    },
    stop: async () => {
      await stopProc();
      rmSync(datadir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------- PostgreSQL

export type TargetDialect = "postgresql" | "opengauss";

/** A target server of either dialect, as the suites use it. */
export interface Target {
  dialect: TargetDialect;
  host: string;
  port: number;
  user: string;
  /** The user's password (none for the trust-login PostgreSQL). */
  password?: string;
  pid(): number;
  /** A postgres.js client for `database` (default "postgres"); closed by the caller. */
  sql(database?: string): postgres.Sql;
  /** A client made as the sink makes its own (src/dialect/connect.ts: login, temporals and JSON as text). */
  productSql(database: string): postgres.Sql;
  /** A database for one test (on openGauss in PG compatibility, where '' is not NULL). */
  createDatabase(name: string): Promise<void>;
  /** An immediate (crash-like) stop and a start, for fault tests. */
  restartImmediate(): Promise<void>;
  /** An immediate (crash-like) stop: every connection cut, no checkpoint. */
  crash(): Promise<void>;
  /** Starts the server again after crash(). */
  start(): Promise<void>;
  /** Stops it for good (a shared server: at the end of the run). */
  stop(): Promise<void>;
  /** The `[target]` keys that reach this server's `database` (no table header). */
  targetToml(database: string): string;
}

export interface Postgres extends Target {
  datadir: string;
}

const PG_BIN = (() => {
  try {
    const versions = readdirSync("/usr/lib/postgresql").sort();
    const latest = versions.at(-1);
    if (latest) return join("/usr/lib/postgresql", latest, "bin");
  } catch {}
  return "";
})();
const pgTool = (name: string) => (PG_BIN ? join(PG_BIN, name) : name);

interface PostgresOptions {
  /**
   * Serve TLS with this certificate and key (PEM files, copied into the cluster's directory
   * because the server reads them as the postgres user and wants the key 0600). The helper's
   * own sql() then uses TLS without verification.
   */
  ssl?: { cert: string; key: string; /** CA of client certificates (ssl_ca_file), for `cert` logins. */ ca?: string };
  /** pg_hba.conf lines placed before initdb's (first match wins), e.g. to demand a password. */
  hba?: string[];
}

export async function startPostgres(options: PostgresOptions = {}): Promise<Postgres> {
  // initdb refuses to run as root, so the cluster belongs to the postgres user.
  const base = mkdtempSync(join(tmpdir(), "gsr-pg-"));
  const uid = Number(run(["id", "-u", "postgres"], "id -u postgres").trim());
  const gid = Number(run(["id", "-g", "postgres"], "id -g postgres").trim());
  chownSync(base, uid, gid);
  const datadir = join(base, "data");
  const asPg = (cmd: string[]) => ["runuser", "-u", "postgres", "--", ...cmd];
  run(asPg([pgTool("initdb"), "-D", datadir, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"]), "initdb");
  if (options.hba?.length) {
    const hbaFile = join(datadir, "pg_hba.conf");
    writeFileSync(hbaFile, `${options.hba.join("\n")}\n${readFileSync(hbaFile, "utf8")}`);
  }
  let sslOpts = "";
  if (options.ssl) {
    const own = (from: string, name: string, mode: number) => {
      const to = join(base, name);
      copyFileSync(from, to);
      chownSync(to, uid, gid);
      chmodSync(to, mode);
      return to;
    };
    sslOpts = ` -c ssl=on -c ssl_cert_file=${own(options.ssl.cert, "server.crt", 0o644)} -c ssl_key_file=${own(options.ssl.key, "server.key", 0o600)}`;
    if (options.ssl.ca) sslOpts += ` -c ssl_ca_file=${own(options.ssl.ca, "client-ca.crt", 0o644)}`;
  }
  const port = await freePort();
  const opts = `-p ${port} -k ${base} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200 -c shared_buffers=128MB${sslOpts}`;
  const start = () => run(asPg([pgTool("pg_ctl"), "-D", datadir, "-o", opts, "-l", join(base, "log"), "-w", "-t", "60", "start"]), "pg_ctl start");
  start();
  const pid = () => {
    try {
      return Number(readFileSync(join(datadir, "postmaster.pid"), "utf8").split("\n")[0]);
    } catch {
      return -1;
    }
  };
  track(pid(), () => spawnSync(asPg([pgTool("pg_ctl"), "-D", datadir, "-m", "immediate", "stop"])));
  const sql = (database = "postgres") => postgres({ host: "127.0.0.1", port, user: "postgres", database, max: 4, onnotice: () => {}, ssl: options.ssl ? "require" : false });
  return {
    dialect: "postgresql",
    host: "127.0.0.1",
    port,
    user: "postgres",
    datadir,
    targetToml: (database) => `host = "127.0.0.1"\nport = ${port}\nuser = "postgres"\ndatabase = "${database}"\ndialect = "postgresql"`,
    productSql: (database) => connectTarget({ host: "127.0.0.1", port, user: "postgres", database, dialect: "postgresql", schema_mapping: {}, tls: { mode: "disabled" } }, 2),
    pid,
    sql,
    async createDatabase(name) {
      const s = sql();
      try {
        await s.unsafe(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
      } finally {
        await s.end();
      }
    },
    // The server log goes to a file: without -l the restarted postmaster keeps pg_ctl's stdout
    // open and a synchronous wait for pg_ctl lasts about two minutes.
    async restartImmediate() {
      run(asPg([pgTool("pg_ctl"), "-D", datadir, "-o", opts, "-l", join(base, "log"), "-m", "immediate", "-w", "restart"]), "pg_ctl restart");
    },
    async crash() {
      run(asPg([pgTool("pg_ctl"), "-D", datadir, "-m", "immediate", "-w", "stop"]), "pg_ctl stop -m immediate");
    },
    async start() {
      start();
    },
    async stop() {
      const p = pid();
      run(asPg([pgTool("pg_ctl"), "-D", datadir, "-m", "fast", "-w", "stop"]), "pg_ctl stop");
      // pg_ctl returns once postmaster.pid is gone; the postmaster itself exits a moment later.
      for (let i = 0; i < 100 && isAlive(p); i++) await Bun.sleep(50);
      untrack(p);
      rmSync(base, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------- shared instances

let mariadb: Promise<MariaDb> | undefined;
let pg: Promise<Postgres> | undefined;
let og: Promise<Target> | undefined;
let kafka: KafkaMock | undefined;

/**
 * The target dialects every target suite runs on: both. GSR_TARGETS=postgresql narrows a
 * developer's loop (run-tests.ts then says loudly that openGauss was not tested); CI ignores it.
 */
export const TARGETS: TargetDialect[] = (() => {
  const all: TargetDialect[] = ["opengauss", "postgresql"];
  const want = process.env.CI ? undefined : process.env.GSR_TARGETS;
  if (!want) return all;
  return all.filter((d) => want.split(",").includes(d));
})();

export function getTarget(dialect: TargetDialect): Promise<Target> {
  return dialect === "postgresql" ? getPostgres() : getOpenGauss();
}

export function getOpenGauss(): Promise<Target> {
  og ??= Promise.resolve().then(() => openGaussTarget(startOpenGauss()));
  return og;
}

function openGaussTarget(server: OpenGaussServer): Target {
  untrackOpenGauss = server;
  return {
    dialect: "opengauss",
    host: server.host,
    port: server.port,
    user: OPENGAUSS_USER,
    password: OPENGAUSS_PASSWORD,
    pid: server.pid,
    sql: (database = "postgres") => server.sql(database),
    productSql: (database) => server.sql(database, OPENGAUSS_USER, OPENGAUSS_PASSWORD, {}),
    async createDatabase(name) {
      const s = server.sql("postgres");
      try {
        await s.unsafe(`CREATE DATABASE "${name.replace(/"/g, '""')}" DBCOMPATIBILITY 'PG'`);
      } finally {
        await s.end();
      }
    },
    restartImmediate: async () => server.restartImmediate(),
    crash: async () => server.crash(),
    start: async () => server.start(),
    stop: async () => server.stop(),
    targetToml: (database) =>
      `host = "127.0.0.1"\nport = ${server.port}\nuser = "${OPENGAUSS_USER}"\npassword = "${OPENGAUSS_PASSWORD}"\ndatabase = "${database}"\ndialect = "opengauss"`,
  };
}
let untrackOpenGauss: OpenGaussServer | undefined;

export function getMariadb(): Promise<MariaDb> {
  mariadb ??= startMariadb();
  return mariadb;
}
export function getPostgres(): Promise<Postgres> {
  pg ??= startPostgres();
  return pg;
}
export function getKafka(): KafkaMock {
  kafka ??= startKafkaMock();
  return kafka;
}

export async function stopAllServers(): Promise<void> {
  const m = mariadb;
  const p = pg;
  const o = og;
  mariadb = pg = og = undefined;
  untrackOpenGauss = undefined;
  await Promise.allSettled([m?.then((s) => s.stop()), p?.then((s) => s.stop()), o?.then((s) => s.stop())]);
  kafka?.stop();
  kafka = undefined;
}

/** Unique, identifier-safe name for a test's database/schema/topic. */
let counter = 0;
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${++counter}_${Math.floor(Math.random() * 1e6)}`;
}

// Last-resort cleanup when the run is aborted before afterAll.
const live = new Map<number, (() => void) | undefined>();
function track(pid: number, kill?: () => void): void {
  live.set(pid, kill);
}
function untrack(pid: number): void {
  live.delete(pid);
}
process.on("exit", () => {
  try {
    untrackOpenGauss?.stop();
  } catch {}
  for (const [pid, kill] of live) {
    try {
      if (kill) kill();
      else process.kill(pid, "SIGKILL");
    } catch {}
  }
});
