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

import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
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

export function openGaussScript(): string {
  return join(sharedDir(), "opengauss", "opengauss.sh");
}

export interface OpenGaussServer {
  dir: string;
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
  let dir: string;
  let owned = false;
  if (reuse && existsSync(join(reuse, "port"))) {
    dir = reuse;
  } else {
    // The script chmods DIR 755 so that omm can reach it; a mkdtemp parent stays 700, so the
    // server directory lives directly under the temporary directory.
    dir = mkdtempSync(join(tmpdir(), "gsr-opengauss-"));
    owned = true;
    const out = sh(["bash", script, "start", dir], "opengauss.sh start");
    if (!/OPENGAUSS=127\.0\.0\.1:\d+/.test(out)) throw new Error(`opengauss.sh start printed no OPENGAUSS= line: ${out}`);
  }
  const port = Number(readFileSync(join(dir, "port"), "utf8").trim());
  const install = join(dir, "install");
  const env = `export GAUSSHOME=${install} PATH=${install}/bin:$PATH LD_LIBRARY_PATH=${install}/lib;`;
  const asOmm = (command: string) => {
    const r = spawnSync(["runuser", "-u", "omm", "--", "bash", "-c", `${env} ${command}`], { stdout: "pipe", stderr: "pipe" });
    return { code: r.exitCode ?? -1, out: r.stdout.toString() + r.stderr.toString() };
  };
  const data = join(dir, "data");
  const server: OpenGaussServer = {
    dir,
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
      if (!owned) return;
      sh(["bash", script, "stop", dir], "opengauss.sh stop");
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}
