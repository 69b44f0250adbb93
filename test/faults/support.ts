// Helpers of the fault tests: long-running gs-replicate processes whose stderr is collected
// while they run, waiting for conditions, a crash-like target restart, and comparisons.
import type { Subprocess } from "bun";
import { BINARY, trackChild } from "../support/cli.ts";
import { bothSides } from "../support/pipeline.ts";
import { currentPosition } from "../support/binlog.ts";
import type { MariaDb, Target } from "../support/servers.ts";

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
  trackChild(proc);
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

/** A crash-like restart of the target; with `downMs`, it stays away that long before it starts again. */
export async function crashRestart(pg: Target, downMs = 0): Promise<void> {
  if (downMs === 0) return pg.restartImmediate();
  await pg.crash();
  await Bun.sleep(downMs);
  await pg.start();
}

/** Whether every table's rows are equal on both sides (bothSides' normalisation). */
export async function sameRows(db: MariaDb, pg: Target, name: string, tables: ReadonlyArray<readonly [string, string, string]>): Promise<boolean> {
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
export async function hotLedger(db: MariaDb, pg: Target, name: string): Promise<{ file: string; pos: number }> {
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

/** Waits until `run`'s stderr matches `re`; fails at once, with its stderr, if the process exited instead. */
export async function untilLine(run: Running, re: RegExp, what: string, ms = 120_000): Promise<void> {
  await until(
    what,
    () => {
      if (re.test(run.stderr())) return true;
      if (run.proc.exitCode !== null) throw new Error(`waiting for ${what}, the process exited ${run.proc.exitCode}:\n${run.stderr()}`);
      return false;
    },
    ms,
  );
}

/** One SIGTERM; the exit code and stderr (stop() sends SIGKILL after 20 s, which shows as a code other than 0). */
export async function terminate(run: Running): Promise<{ code: number; stderr: string; ms: number }> {
  const at = Date.now();
  const r = await run.stop();
  return { ...r, ms: Date.now() - at };
}
