// Helpers of the fault tests: long-running gs-replicate processes whose stderr is collected
// while they run, waiting for conditions, a crash-like PostgreSQL restart, and comparisons.
import { dirname, join } from "node:path";
import { readdirSync } from "node:fs";
import type { Subprocess } from "bun";
import { BINARY } from "../support/cli.ts";
import { bothSides } from "../support/pipeline.ts";
import { currentPosition } from "../support/binlog.ts";
import type { MariaDb, Postgres } from "../support/servers.ts";

export interface Running {
  proc: Subprocess<"ignore", "ignore", "pipe">;
  /** stderr so far */
  stderr(): string;
  /** SIGTERM, then the exit code and all of stderr. */
  stop(): Promise<{ code: number; stderr: string }>;
}

/** Starts `gs-replicate <args>` in the background, collecting its stderr. */
export function spawnCli(args: string[]): Running {
  const proc = Bun.spawn([BINARY, ...args], { stdin: "ignore", stdout: "ignore", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
  let text = "";
  const dec = new TextDecoder();
  const pump = (async () => {
    for await (const chunk of proc.stderr) text += dec.decode(chunk, { stream: true });
  })();
  return {
    proc,
    stderr: () => text,
    async stop() {
      if (proc.exitCode === null) proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 20_000);
      const code = await proc.exited;
      clearTimeout(timer);
      await pump;
      return { code, stderr: text };
    },
  };
}

/** Polls `cond` until it holds; fails naming `what` after `ms`. */
export async function until(what: string, cond: () => Promise<boolean> | boolean, ms = 60_000, every = 200): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await Bun.sleep(every);
  }
}

/**
 * pg_ctl restart -m immediate (a crash: no checkpoint, every connection cut), as
 * Postgres.restartImmediate() means it, with the server log going to a file: without -l the
 * restarted postmaster keeps pg_ctl's stdout open and a synchronous wait for pg_ctl lasts
 * about two minutes. With `downMs`, the server stays away that long before it starts again.
 */
export async function crashRestart(pg: Postgres, downMs = 0): Promise<void> {
  if (downMs === 0) return pgCtl(pg, "restart");
  await pgCtl(pg, "stop");
  await Bun.sleep(downMs);
  await pgCtl(pg, "start");
}

/** pg_ctl stop -m immediate, start, or restart -m immediate of a test server; the log goes to a file. */
export async function pgCtl(pg: Postgres, action: "stop" | "start" | "restart"): Promise<void> {
  const base = dirname(pg.datadir);
  const opts = `-p ${pg.port} -k ${base} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200 -c shared_buffers=128MB`;
  const args = action === "stop" ? ["-m", "immediate", "-w", "stop"] : ["-o", opts, "-l", join(base, "log"), ...(action === "restart" ? ["-m", "immediate"] : []), "-w", "-t", "60", action];
  const p = Bun.spawn(["runuser", "-u", "postgres", "--", pgCtlPath(), "-D", pg.datadir, ...args], { stdout: "pipe", stderr: "pipe" });
  const [code, out, err] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
  if (code !== 0) throw new Error(`pg_ctl ${action} failed (exit ${code}): ${err}${out}`);
}

function pgCtlPath(): string {
  try {
    const v = readdirSync("/usr/lib/postgresql").sort().at(-1);
    if (v) return join("/usr/lib/postgresql", v, "bin", "pg_ctl");
  } catch {}
  return "pg_ctl";
}

/** Whether every table's rows are equal on both sides (bothSides' normalisation). */
export async function sameRows(db: MariaDb, pg: Postgres, name: string, tables: ReadonlyArray<readonly [string, string, string]>): Promise<boolean> {
  for (const [table, m, p] of tables) {
    const { src, dst } = await bothSides(db, pg, name, name, table, m, p).catch(() => ({ src: [1], dst: [] as unknown[] }));
    if (JSON.stringify(src) !== JSON.stringify(dst)) return false;
  }
  return true;
}

/** The id of MariaDB's binlog dump thread serving gs-replicate, or null. */
export async function dumpThread(db: MariaDb): Promise<number | null> {
  const c = await db.connect();
  try {
    const [rows] = (await c.query("SHOW PROCESSLIST")) as unknown as [Array<{ Id: number; Command: string }>];
    return rows.find((r) => /binlog dump/i.test(r.Command))?.Id ?? null;
  } finally {
    await c.end();
  }
}

/** The message of an error line "[CODE at …]" the binary printed, for assertions that show it. */
export function errorLine(stderr: string): string {
  return stderr.split("\n").find((l) => /\[[A-Z_]+( at [^\]]*)?\]\s*$/.test(l)) ?? stderr.slice(-2000);
}

/** The tables of hotLedger(), as sameRows compares them. */
export const HOT_LEDGER = [
  ["hot", "id, n", "id, n"],
  ["ledger", "id, hot_id", "id, hot_id"],
] as const;

/**
 * Database `name` on the source with hot (10 counter rows) and ledger (insert-only), and the
 * same tables empty on the target (as a full copy taken before the rows would have). Returns
 * the binlog position before the hot rows, where source starts.
 */
export async function hotLedger(db: MariaDb, pg: Postgres, name: string): Promise<{ file: string; pos: number }> {
  await pg.createDatabase(name);
  const c = await db.connect();
  try {
    await c.query(`CREATE DATABASE ${name}; CREATE TABLE ${name}.hot (id INT PRIMARY KEY, n INT NOT NULL); CREATE TABLE ${name}.ledger (id INT PRIMARY KEY, hot_id INT)`);
    const sql = pg.sql(name);
    await sql.unsafe(`CREATE SCHEMA "${name}"; CREATE TABLE "${name}".hot (id int PRIMARY KEY, n int NOT NULL); CREATE TABLE "${name}".ledger (id int PRIMARY KEY, hot_id int)`);
    await sql.end();
    const from = await currentPosition(db);
    await c.query(`INSERT INTO ${name}.hot VALUES ${Array.from({ length: 10 }, (_, i) => `(${i}, 0)`).join(",")}`);
    return from;
  } finally {
    await c.end();
  }
}
