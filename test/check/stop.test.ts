// A `check --data` that is interrupted or runs too long leaves no query behind (issue 14, item
// 7). A table with a text key is compared by one scan per side (bucketed), which on a million
// rows runs for seconds on both servers: long enough to be interrupted in the middle.
//  - SIGTERM mid-query: the binary exits promptly (exit 1, CHECK_INTERRUPTED, never 0: an
//    interrupted check has not passed) and neither MariaDB's PROCESSLIST nor the target's
//    pg_stat_activity shows a query of it shortly after. Before, the process died at once and
//    both servers ran its scans on to the end.
//  - [check] statement_timeout_seconds: a scan longer than it is stopped by the server that
//    runs it, and the table's ERROR names the side and the key.
import { describe, expect, test } from "bun:test";
import { writeConfig } from "../support/cli.ts";
import { getMariadb, getTarget, type MariaDb, type Target, TARGETS, uniqueName } from "../support/servers.ts";
import { runCli } from "../support/cli.ts";
import { spawnCli, until } from "../faults/support.ts";

const ROWS = 1_000_000;
const TABLE = "(k VARCHAR(40) PRIMARY KEY, v VARCHAR(200) NOT NULL)";

const show = (label: string, text: string) => {
  if (process.env.SHOW) console.log(`--- ${label}\n${text}`);
};

/** The source databases, made once for both targets: `big` with ROWS rows, and `small` with 10. */
let sourceReady: Promise<{ big: string; small: string }> | undefined;
function sourceTables(db: MariaDb): Promise<{ big: string; small: string }> {
  sourceReady ??= (async () => {
    const big = uniqueName("stopbig");
    const small = `${big}_small`;
    const c = await db.connect();
    try {
      await c.query(`CREATE DATABASE ${big}; USE ${big}; CREATE TABLE big ${TABLE}; INSERT INTO big SELECT CONCAT('key-', seq), REPEAT('x', 150) FROM seq_1_to_${ROWS}`);
      await c.query(`CREATE DATABASE ${small}; USE ${small}; CREATE TABLE big ${TABLE}; INSERT INTO big SELECT CONCAT('key-', seq), REPEAT('x', 150) FROM seq_1_to_10`);
    } finally {
      await c.end();
    }
    return { big, small };
  })();
  return sourceReady;
}

/** Target database `name` with schema `schema` holding `big` with `rows` rows. */
async function targetTable(pg: Target, name: string, schema: string, rows: number): Promise<void> {
  await pg.createDatabase(name);
  const s = pg.sql(name);
  try {
    await s.unsafe(`CREATE SCHEMA "${schema}"; CREATE TABLE "${schema}".big (k varchar(40) PRIMARY KEY, v varchar(200) NOT NULL)`);
    if (rows > 0) await s.unsafe(`INSERT INTO "${schema}".big SELECT 'key-' || g, repeat('x', 150) FROM generate_series(1, ${rows}) g`);
  } finally {
    await s.end();
  }
}

function checkToml(db: MariaDb, pg: Target, source: string, targetDb: string, extra = ""): string {
  return writeConfig(`
[source]
port = ${db.port}
user = "root"
password = ""
databases = ["${source}"]

[target]
${pg.targetToml(targetDb)}
${extra}

[log]
progress_seconds = 1
`);
}

/** Queries on MariaDB reading `db`.big, other than this test's own. */
async function sourceQueries(db: MariaDb, database: string): Promise<string[]> {
  const c = await db.connect();
  try {
    const [rows] = (await c.query("SELECT ID AS id, INFO AS info FROM information_schema.PROCESSLIST WHERE COMMAND = 'Query' AND ID <> CONNECTION_ID() AND INFO LIKE ?", [
      `%${database}%big%`,
    ])) as unknown as [Array<{ id: number; info: string }>];
    return rows.map((r) => `${r.id}: ${r.info.slice(0, 120)}`);
  } finally {
    await c.end();
  }
}

/** Active queries on the target reading schema.big, other than this test's own. */
async function targetQueries(pg: Target, database: string, schema: string): Promise<string[]> {
  const s = pg.sql(database);
  try {
    const rows = await s.unsafe(`SELECT pid::text AS pid, state, query FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND state <> 'idle' AND query LIKE $1`, [
      `%"${schema}".%big%`,
    ]);
    return rows.map((r) => `${r.pid} ${r.state}: ${String(r.query).slice(0, 120)}`);
  } finally {
    await s.end();
  }
}

describe.each(TARGETS)("check --data leaves no query running (%s, issue 14 item 7)", (dialect) => {
  test("SIGTERM mid-scan: exit 1 (CHECK_INTERRUPTED) within seconds, and no query of the check left on either server", async () => {
    const db = await getMariadb();
    const pg = await getTarget(dialect);
    const { big } = await sourceTables(db);
    const targetDb = uniqueName("stoptgt");
    await targetTable(pg, targetDb, big, ROWS);
    const check = spawnCli(["check", "--config", checkToml(db, pg, big, targetDb), "--data"]);
    try {
      // Both scans under way: the moment to interrupt them.
      await until(
        "the check's scans running on both servers",
        async () => {
          if (check.proc.exitCode !== null) throw new Error(`check exited ${check.proc.exitCode} before its scans were seen:\n${check.stderr()}`);
          return (await sourceQueries(db, big)).length > 0 && (await targetQueries(pg, targetDb, big)).length > 0;
        },
        120_000,
        100,
      );
      const at = Date.now();
      check.proc.kill("SIGTERM");
      const code = await Promise.race([check.proc.exited, Bun.sleep(10_000).then(() => "still running 10 s after SIGTERM")]);
      const ms = Date.now() - at;
      const r = await check.stop();
      show("check", `${ms} ms, exit ${code}\n${r.stderr}`);
      // Shortly after the exit, nothing of the check runs on either server (before the fix both
      // scans ran on for many seconds).
      let left: { source: string[]; target: string[] } = { source: [], target: [] };
      await until(
        "the check's queries to be gone",
        async () => {
          left = { source: await sourceQueries(db, big), target: await targetQueries(pg, targetDb, big) };
          return left.source.length === 0 && left.target.length === 0;
        },
        3_000,
        100,
      ).catch(() => undefined);
      expect(left).toEqual({ source: [], target: [] });
      expect({ code, interrupted: r.stderr.includes("CHECK_INTERRUPTED") }).toEqual({ code: 1, interrupted: true });
    } finally {
      await check.stop();
    }
  }, 600_000);

  test("[check] statement_timeout_seconds: a longer scan is stopped by the server running it, and the table's ERROR names the side and the key", async () => {
    const db = await getMariadb();
    const pg = await getTarget(dialect);
    const { big, small } = await sourceTables(db);
    const timeout = "[check]\nstatement_timeout_seconds = 1";
    // The source's scan is the long one: the target's table is empty.
    const emptyDb = uniqueName("stopempty");
    await targetTable(pg, emptyDb, big, 0);
    const slowSource = await runCli(["check", "--config", checkToml(db, pg, big, emptyDb, timeout), "--data"], { timeoutMs: 120_000 });
    show("source timeout", slowSource.stdout + slowSource.stderr);
    expect(slowSource.code).toBe(3);
    expect(slowSource.stdout).toMatch(/ERROR +\S+\.big: cannot compare: a query on the source .*\[check\] statement_timeout_seconds = 1/);
    expect(await sourceQueries(db, big)).toEqual([]);
    // The target's scan is the long one: ten rows on the source, a million on the target.
    const fullDb = uniqueName("stopfull");
    await targetTable(pg, fullDb, small, ROWS);
    const slowTarget = await runCli(["check", "--config", checkToml(db, pg, small, fullDb, timeout), "--data"], { timeoutMs: 120_000 });
    show("target timeout", slowTarget.stdout + slowTarget.stderr);
    expect(slowTarget.code).toBe(3);
    expect(slowTarget.stdout).toMatch(/ERROR +\S+\.big: cannot compare: a query on the target .*\[check\] statement_timeout_seconds = 1/);
    expect(await targetQueries(pg, fullDb, small)).toEqual([]);
  }, 600_000);
});
