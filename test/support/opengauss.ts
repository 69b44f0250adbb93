// A real openGauss 7.0 (lite, built for Debian 12) for tests, started once per run through the
// project's shared script `shared/opengauss/opengauss.sh` (unpack, gs_initdb, gs_ctl start as OS
// user omm; SHA256-only login; SYSADMIN user gsr; see the script's header). It runs beside
// PostgreSQL: every suite that touches the target runs on both (test/support/targets.ts).
//
// gs_initdb takes most of a minute here, so a developer may point GSR_OPENGAUSS_DIR at a
// directory where the script already started a server (`opengauss.sh start DIR`): the run then
// uses that server and leaves it running. Without it, the run starts its own and removes it.
//
// A machine that cannot run openGauss (script or Debian libraries missing) fails the run loudly:
// the target is openGauss, and a suite that silently ran on PostgreSQL alone would prove nothing.
//
// Server-side helpers: openGaussServerOn(port) gives a Target's server; hbaFirst() adds pg_hba
// lines for a test's own users (the shared server's `gsr` line is never touched) and undoes them;
// setReloadable() changes a SIGHUP setting, which only a private server may get;
// startPrivateOpenGauss() starts one (TLS and extra listen addresses need a restart there).

import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { spawnSync } from "bun";
import type postgres from "postgres";
import { Secret } from "../../src/config/secret.ts";
import { connectTarget } from "../../src/dialect/connect.ts";

export const OPENGAUSS_USER = "gsr";
export const OPENGAUSS_PASSWORD = "Gsr@pass123";

/** shared/ sits beside the repository (developers) or beside CI's clone; GSR_SHARED overrides. */
export function sharedDir(): string {
  return process.env.GSR_SHARED ?? resolve(import.meta.dir, "../../../shared");
}

function openGaussScript(): string {
  return join(sharedDir(), "opengauss", "opengauss.sh");
}

export interface OpenGaussServer {
  dir: string;
  /** The data directory (pg_hba.conf, postgresql.conf), owned by omm. */
  data: string;
  host: string;
  port: number;
  /** Runs `opengauss.sh gsql DIR args…` (as gsr on database gsrdb unless `-d` says otherwise). */
  gsql(args: string[]): string;
  /** Runs a server tool (gs_ctl, gs_guc…) as omm with the install's environment. */
  asOmm(command: string): { code: number; out: string };
  /**
   * A postgres.js client through the product's own openGauss login. It prints numerics with
   * their leading zero (display_leading_zero) so that tests compare values, not openGauss's
   * Oracle-style ".5".
   */
  sql(database: string, user?: string, password?: string, settings?: Record<string, string>): postgres.Sql;
  pid(): number;
  /** gs_ctl stop -m immediate, then start: a crash-like restart. */
  restartImmediate(): void;
  crash(): void;
  start(): void;
  stop(): void;
}

function sh(cmd: string[], what: string): string {
  const r = spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${what} failed (exit ${r.exitCode}): ${r.stderr.toString()}${r.stdout.toString()}`);
  return r.stdout.toString();
}

export function startOpenGauss(): OpenGaussServer {
  const script = openGaussScript();
  if (!existsSync(script)) {
    throw new Error(`openGauss test server: ${script} is missing (set GSR_SHARED to the folder holding opengauss/opengauss.sh)`);
  }
  const reuse = process.env.GSR_OPENGAUSS_DIR;
  if (reuse && existsSync(join(reuse, "port"))) return serverAt(reuse, false);
  const server = serverAt(initServer(), true);
  limitOpenFiles(server);
  return server;
}

/**
 * openGauss runs every session as a thread of one process, and each thread may keep
 * max_files_per_process files open (default 1000), all against the process's one limit. The
 * script starts the server through runuser, whose soft limit is 1024: under the 300-table dump
 * test (test/cli/real-dump.test.ts) the server stopped with PANIC "Too many open files".
 * Restarted here with the hard limit (asOmm) and 200 files per session.
 */
function limitOpenFiles(server: OpenGaussServer): void {
  const file = join(server.data, "postgresql.conf");
  writeFileSync(file, `${readFileSync(file, "utf8")}\nmax_files_per_process = 200\n`);
  const r = server.asOmm(`gs_ctl restart -D ${server.data} -Z single_node -l ${server.data}/server.log -w -t 120`);
  if (r.code !== 0) throw new Error(`gs_ctl restart failed: ${r.out}`);
}

/** A fresh server directory with the script's server running in it (unpacked, initdb, started). */
function initServer(): string {
  // The script chmods DIR 755 so that omm can reach it; a mkdtemp parent stays 700, so the
  // server directory lives directly under the temporary directory.
  const dir = mkdtempSync(join(tmpdir(), "gsr-opengauss-"));
  // Unpacking the 150 MB install takes a while: a private server borrows the reused one's.
  const reuse = process.env.GSR_OPENGAUSS_DIR;
  if (reuse && existsSync(join(reuse, "install", "bin", "gaussdb"))) symlinkSync(resolve(reuse, "install"), join(dir, "install"));
  const out = sh(["bash", openGaussScript(), "start", dir], "opengauss.sh start");
  if (!/OPENGAUSS=127\.0\.0\.1:\d+/.test(out)) throw new Error(`opengauss.sh start printed no OPENGAUSS= line: ${out}`);
  return dir;
}

const byPort = new Map<number, OpenGaussServer>();

/** The server behind a Target of dialect opengauss (getOpenGauss()), for its server-side tools. */
export function openGaussServerOn(port: number): OpenGaussServer {
  const s = byPort.get(port);
  if (!s) throw new Error(`no openGauss test server started on port ${port}`);
  return s;
}

function serverAt(dir: string, owned: boolean): OpenGaussServer {
  const script = openGaussScript();
  const port = Number(readFileSync(join(dir, "port"), "utf8").trim());
  const install = join(dir, "install");
  // runuser starts omm's shell with a soft open-files limit of 1024, which one openGauss
  // process (a thread per session) exhausts under a schema of a few hundred tables: every
  // server tool runs with the hard limit instead (see limitOpenFiles).
  const env = `ulimit -Sn "$(ulimit -Hn)"; export GAUSSHOME=${install} PATH=${install}/bin:$PATH LD_LIBRARY_PATH=${install}/lib;`;
  const asOmm = (command: string) => {
    const r = spawnSync(["runuser", "-u", "omm", "--", "bash", "-c", `${env} ${command}`], { stdout: "pipe", stderr: "pipe" });
    return { code: r.exitCode ?? -1, out: r.stdout.toString() + r.stderr.toString() };
  };
  const data = join(dir, "data");
  const server: OpenGaussServer = {
    dir,
    data,
    host: "127.0.0.1",
    port,
    gsql: (args) => sh(["bash", script, "gsql", dir, ...args], `gsql ${args.join(" ")}`),
    asOmm,
    sql: (database, user = OPENGAUSS_USER, password = OPENGAUSS_PASSWORD, settings = { behavior_compat_options: "display_leading_zero" }) =>
      connectTarget(
        {
          host: "127.0.0.1",
          port,
          user,
          password: new Secret(password),
          database,
          dialect: "opengauss",
          schema_mapping: {},
          tls: { mode: "disabled" },
        },
        4,
        settings,
      ),
    pid: () => {
      try {
        return Number(readFileSync(join(data, "postmaster.pid"), "utf8").split("\n")[0]);
      } catch {
        return -1;
      }
    },
    restartImmediate: () => {
      server.crash();
      server.start();
    },
    crash: () => {
      const r = asOmm(`gs_ctl stop -D ${data} -m immediate`);
      if (r.code !== 0) throw new Error(`gs_ctl stop -m immediate failed: ${r.out}`);
    },
    start: () => {
      const r = asOmm(`gs_ctl start -D ${data} -Z single_node -l ${data}/server.log -w -t 120`);
      if (r.code !== 0) throw new Error(`gs_ctl start failed: ${r.out}`);
    },
    stop: () => {
      if (!owned || !byPort.has(port)) return;
      byPort.delete(port);
      sh(["bash", script, "stop", dir], "opengauss.sh stop");
      rmSync(dir, { recursive: true, force: true });
    },
  };
  byPort.set(port, server);
  return server;
}

// ---------------------------------------------------------------- server-side settings

/**
 * Places `lines` before the server's own pg_hba.conf lines (first match wins) and reloads; resolves
 * once the postmaster uses them (gs_get_hba_conf() lists what new sessions are checked against).
 * Returns the undo. On the shared server only lines for the test's own users belong here.
 */
export async function hbaFirst(server: OpenGaussServer, lines: string[]): Promise<() => Promise<void>> {
  const file = join(server.data, "pg_hba.conf");
  // Writing over the existing file keeps its owner (omm) and mode.
  writeFileSync(file, `${lines.join("\n")}\n${readFileSync(file, "utf8")}`);
  await reloadUntil(server, "pg_hba.conf", async (sql) => hbaLoaded(sql, lines, true));
  return async () => {
    const kept = readFileSync(file, "utf8").split("\n");
    for (const l of lines) {
      const at = kept.indexOf(l);
      if (at >= 0) kept.splice(at, 1);
    }
    writeFileSync(file, kept.join("\n"));
    await reloadUntil(server, "pg_hba.conf", async (sql) => hbaLoaded(sql, lines, false));
  };
}

async function hbaLoaded(sql: postgres.Sql, lines: string[], present: boolean): Promise<boolean> {
  const rows = await sql.unsafe("SELECT type, users, address, method FROM gs_get_hba_conf()");
  const loaded = new Set(rows.map((r) => [r.type, r.users, r.address ?? "", r.method].join(" ")));
  return lines.every((l) => {
    const [type, , users, address, method] = l.trim().split(/\s+/);
    return loaded.has([type, users?.replace(/^"|"$/g, ""), address, method].join(" ")) === present;
  });
}

/** Sets a SIGHUP parameter with gs_guc reload; resolves once new sessions see `value`. */
export async function setReloadable(server: OpenGaussServer, name: string, value: string): Promise<void> {
  const r = server.asOmm(`gs_guc reload -D ${server.data} -c "${name}=${value}"`);
  if (r.code !== 0) throw new Error(`gs_guc reload ${name}=${value} failed: ${r.out}`);
  await reloadUntil(server, name, async (sql) => (await sql.unsafe(`SELECT current_setting('${name}') AS v`))[0]?.v === value, false);
}

async function reloadUntil(server: OpenGaussServer, what: string, done: (sql: postgres.Sql) => Promise<boolean>, signal = true): Promise<void> {
  if (signal) {
    const r = server.asOmm(`gs_ctl reload -D ${server.data}`);
    if (r.code !== 0) throw new Error(`gs_ctl reload failed: ${r.out}`);
  }
  // Each probe is a new session: the postmaster rereads the files shortly after SIGHUP.
  for (let i = 0; i < 100; i++) {
    const sql = server.sql("postgres");
    try {
      if (await done(sql)) return;
    } finally {
      await sql.end();
    }
    await Bun.sleep(100);
  }
  throw new Error(`openGauss on port ${server.port} did not take the new ${what} within 10 s`);
}

// ---------------------------------------------------------------- a private server

interface PrivateOpenGaussOptions {
  /** PEM files: served as server.crt / server.key, and `ca` as cacert.pem (the CA of client certificates). */
  ssl?: { cert: string; key: string; ca?: string };
  /** Addresses to listen on besides 127.0.0.1 (e.g. 127.0.0.2, a name no test certificate lists). */
  listen?: string[];
  /** pg_hba.conf lines placed before the script's. */
  hba?: string[];
}

/**
 * A server of the test's own, for what the shared one must not get: TLS (ssl and its files need
 * a restart) and global settings such as password_encryption_type. stop() removes it.
 */
export function startPrivateOpenGauss(options: PrivateOpenGaussOptions = {}): OpenGaussServer {
  const server = serverAt(initServer(), true);
  const conf: string[] = [];
  const own = (from: string, name: string) => {
    const to = join(server.data, name);
    copyFileSync(from, to);
    // openGauss, like PostgreSQL, refuses a key others can read; the server runs as omm.
    const r = spawnSync(["chown", "omm:omm", to]);
    if (r.exitCode !== 0) throw new Error(`chown omm ${to} failed`);
    chmodSync(to, 0o600);
  };
  if (options.ssl) {
    own(options.ssl.cert, "server.crt");
    own(options.ssl.key, "server.key");
    conf.push("ssl = on", "ssl_cert_file = 'server.crt'", "ssl_key_file = 'server.key'");
    if (options.ssl.ca) {
      own(options.ssl.ca, "cacert.pem");
      conf.push("ssl_ca_file = 'cacert.pem'");
    }
  }
  if (options.listen?.length) conf.push(`listen_addresses = '${["127.0.0.1", ...options.listen].join(",")}'`);
  if (options.hba?.length) {
    const hba = join(server.data, "pg_hba.conf");
    writeFileSync(hba, `${options.hba.join("\n")}\n${readFileSync(hba, "utf8")}`);
  }
  if (conf.length) {
    const file = join(server.data, "postgresql.conf");
    writeFileSync(file, `${readFileSync(file, "utf8")}\n${conf.join("\n")}\n`);
    const r = server.asOmm(`gs_ctl restart -D ${server.data} -Z single_node -l ${server.data}/server.log -w -t 120`);
    if (r.code !== 0) throw new Error(`gs_ctl restart failed: ${r.out}`);
  } else if (options.hba?.length) {
    server.asOmm(`gs_ctl reload -D ${server.data}`);
  }
  // An aborted run still stops it (the preload's afterAll does not know this server).
  process.once("exit", () => {
    try {
      server.stop();
    } catch {}
  });
  return server;
}

// ---------------------------------------------------------------- logins

/** What password_encryption_type = 0 stores, and CREATE USER takes as already encrypted: "md5" + md5(password + user). */
export function md5Secret(user: string, password: string): string {
  return `md5${createHash("md5")
    .update(password + user)
    .digest("hex")}`;
}

/**
 * The first authentication request the server sends `user` (a StartupMessage 3.51 on a raw
 * socket, nothing answered, so no failed attempt is counted): the request code, and for code 10
 * the stored method that follows it.
 */
export async function authRequest(port: number, user: string, host = "127.0.0.1"): Promise<{ code: number; method?: number }> {
  const params = Buffer.from(`user\0${user}\0database\0postgres\0\0`);
  const head = Buffer.alloc(8);
  head.writeInt32BE(8 + params.length, 0);
  head.writeInt32BE((3 << 16) | 51, 4);
  return await new Promise((resolve, reject) => {
    const s = connect({ host, port }, () => s.write(Buffer.concat([head, params])));
    let got = Buffer.alloc(0);
    s.on("data", (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length < 13) return;
      s.destroy();
      if (got[0] !== 0x52) return reject(new Error(`expected an authentication request, got '${String.fromCharCode(got[0]!)}': ${got.toString("latin1", 5)}`));
      const code = got.readInt32BE(5);
      resolve(code === 10 ? { code, method: got.readInt32BE(9) } : { code });
    });
    s.on("error", reject);
  });
}
