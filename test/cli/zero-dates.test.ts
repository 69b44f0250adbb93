// Issue 13 (5): a WordPress-style schema (NOT NULL datetime columns defaulting to the MySQL zero
// date, rows that hold it) replicates with no intervention under one setting chosen before the
// migration, [sink] zero_date = "null": the columns the sink creates take NULL where MySQL had a
// zero date, and `check --data` counts those NULLs as the zero dates they stand for. With the
// default ("error") the stop says what to do about a row already in the log.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { runDataCheck, type TableReport } from "../../src/check/data.ts";
import { setLogLevel } from "../../src/runtime/log.ts";
import { loadConfig } from "../../src/config/load.ts";
import { ReplicateError } from "../../src/errors.ts";
import { currentPosition } from "../support/binlog.ts";
import { runCli } from "../support/cli.ts";
import { journalTransport, pipelineConfig } from "../support/pipeline.ts";
import { getMariadb, getTarget, TARGETS, uniqueName } from "../support/servers.ts";

setLogLevel("error");

const POSTS = `CREATE TABLE posts (
  ID BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  post_date DATETIME NOT NULL DEFAULT '0000-00-00 00:00:00',
  post_modified DATETIME NOT NULL DEFAULT '0000-00-00 00:00:00',
  post_title TEXT NOT NULL,
  published DATE NOT NULL,
  stamp TIMESTAMP NOT NULL DEFAULT '0000-00-00 00:00:00'
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`;

// Zero dates in primary-key columns: a key column cannot hold NULL, so the all-zero date is
// stored as -infinity there (it sorts first, as MySQL's zero date does). The updates and the
// delete find their rows by that key; the rows with id 3 move onto and off the zero date.
const KEYED = `CREATE TABLE kd (d DATE NOT NULL PRIMARY KEY, v INT);
CREATE TABLE kt (id INT NOT NULL, t DATETIME(3) NOT NULL, s TIMESTAMP NOT NULL DEFAULT '0000-00-00 00:00:00', other DATE NOT NULL, v INT, PRIMARY KEY (id, t, s));
INSERT INTO kd VALUES ('0000-00-00', 1), ('2024-01-01', 2), ('1000-01-01', 3);
UPDATE kd SET v = 10 WHERE d = '0000-00-00';
INSERT INTO kt VALUES (1, '0000-00-00 00:00:00', '0000-00-00 00:00:00', '0000-00-00', 1), (1, '2024-05-01 10:00:00.5', '0000-00-00 00:00:00', '2024-05-01', 2),
  (2, '0000-00-00 00:00:00', '2024-01-01 00:00:00', '0000-00-00', 3), (3, '1970-01-02 00:00:00', '2024-01-02 00:00:00', '2024-01-02', 4), (4, '2024-01-03 00:00:00', '2024-01-03 00:00:00', '2024-01-03', 5);
UPDATE kt SET v = 7 WHERE id = 1 AND t = 0;
DELETE FROM kt WHERE id = 2;
UPDATE kt SET t = '0000-00-00 00:00:00' WHERE id = 3;
UPDATE kt SET s = '0000-00-00 00:00:00' WHERE id = 4;
UPDATE kt SET s = '2024-01-04 00:00:00' WHERE id = 4`;

interface Report {
  passed: boolean;
  tables: Array<{ table: string; status: string; rows: number; missing: Array<Record<string, string>>; different: Array<{ key: Record<string, string>; columns: string[] }> }>;
}

/** The data check in process, with `chunkRows` rows per key range (1: every key is a boundary). */
async function checkInProcess(cfg: string, chunkRows: number): Promise<TableReport[]> {
  let text = "";
  const run = { config: loadConfig(cfg, "check").config, json: true, secrets: [], write: async (t: string) => void (text = t), chunkRows };
  try {
    return byTable(await runDataCheck(run));
  } catch (err) {
    if (!(err instanceof ReplicateError) || err.code !== "CHECK_FAILED") throw err;
    return byTable((JSON.parse(text) as { tables: TableReport[] }).tables);
  }
}

const byTable = (reports: TableReport[]) => reports.sort((a, b) => a.table.localeCompare(b.table));

describe.each(TARGETS)("MySQL zero dates (%s)", (dialect) => {
  test('zero_date = "null": the sink creates the table so that zero dates fit, rows replicate, check --data passes', async () => {
    const db = await getMariadb();
    const target = await getTarget(dialect);
    const name = uniqueName("zerodates");
    await target.createDatabase(name);
    const from = await currentPosition();
    const c = await db.connect();
    await c.query(`SET SESSION sql_mode = ''; CREATE DATABASE ${name}; USE ${name}; ${POSTS}`);
    await c.query(`INSERT INTO posts (post_title, published) VALUES ('draft', '0000-00-00')`);
    await c.query(
      `INSERT INTO posts (post_date, post_modified, post_title, published, stamp) VALUES ('2024-05-01 10:00:00', '2024-05-02 11:00:00', 'hello', '2024-05-01', '2024-05-01 10:00:00')`,
    );
    await c.query(`ALTER TABLE posts ADD COLUMN post_date_gmt DATETIME NOT NULL DEFAULT '0000-00-00 00:00:00' AFTER post_date`);
    await c.query(`UPDATE posts SET post_modified = '0000-00-00 00:00:00', post_date_gmt = '2024-05-01 08:00:00' WHERE post_title = 'hello'`);
    await c.end();
    const cfg = await pipelineConfig(db, target, name, name, from, journalTransport().toml, 'zero_date = "null"');
    expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);
    const k = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
    expect(k.stderr).not.toContain("ERROR");
    expect(k.code).toBe(0);
    expect(k.stderr).toMatch(/NOT NULL of column posts\.post_date: .*zero_date/);
    const sql = target.sql(name);
    const rows = await sql.unsafe(
      `SELECT post_title, to_char(post_date, 'YYYY-MM-DD HH24:MI:SS') AS d, to_char(post_date_gmt, 'YYYY-MM-DD HH24:MI:SS') AS g, to_char(post_modified, 'YYYY-MM-DD HH24:MI:SS') AS m, to_char(published, 'YYYY-MM-DD') AS p FROM "${name}".posts ORDER BY "ID"`,
    );
    await sql.end();
    expect(rows.map((r) => ({ ...r }) as Record<string, unknown>)).toEqual([
      { post_title: "draft", d: null, g: null, m: null, p: null },
      { post_title: "hello", d: "2024-05-01 10:00:00", g: "2024-05-01 08:00:00", m: null, p: "2024-05-01" },
    ]);
    const check = await runCli(["check", "--config", cfg, "--data"]);
    expect(check.stdout).toContain("passed");
    expect(check.code).toBe(0);
  }, 120_000);

  test('zero_date = "error" (the default): the stop names the row and says how to go on with a row already in the log', async () => {
    const db = await getMariadb();
    const target = await getTarget(dialect);
    const name = uniqueName("zerostop");
    await target.createDatabase(name);
    const from = await currentPosition();
    const c = await db.connect();
    await c.query(`SET SESSION sql_mode = ''; CREATE DATABASE ${name}; USE ${name}; CREATE TABLE t (id INT PRIMARY KEY, d DATE NOT NULL); INSERT INTO t VALUES (1, '0000-00-00')`);
    await c.end();
    const cfg = await pipelineConfig(db, target, name, name, from, journalTransport().toml);
    expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);
    const k = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
    expect(k.code).toBe(1);
    expect(k.stderr).toContain("'0000-00-00'");
    expect(k.stderr).toContain('set [sink] zero_date = "null"');
    expect(k.stderr).not.toContain("fix the row on the source");
  }, 120_000);

  test('zero_date = "null" into a NOT NULL column made by hand: the stop says to let the column take NULL, and doing so works', async () => {
    const db = await getMariadb();
    const target = await getTarget(dialect);
    const name = uniqueName("zerohand");
    await target.createDatabase(name);
    const c = await db.connect();
    await c.query(`SET SESSION sql_mode = ''; CREATE DATABASE ${name}; USE ${name}; CREATE TABLE t (id INT PRIMARY KEY, d DATE NOT NULL)`);
    const sql = target.sql(name);
    await sql.unsafe(`CREATE SCHEMA "${name}"; CREATE TABLE "${name}".t (id int PRIMARY KEY, d date NOT NULL)`);
    const from = await currentPosition();
    await c.query(`INSERT INTO t VALUES (1, '0000-00-00'), (2, '2024-01-02')`);
    await c.end();
    const cfg = await pipelineConfig(db, target, name, name, from, journalTransport().toml, 'zero_date = "null"');
    expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);
    const k = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
    expect(k.code).toBe(1);
    expect(k.stderr).toMatch(/NOT NULL but the row has NULL there.*DROP NOT NULL.*then restart the sink.*\[TARGET_DATA at /);
    await sql.unsafe(`ALTER TABLE "${name}".t ALTER COLUMN d DROP NOT NULL`);
    const again = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
    expect(again.code).toBe(0);
    const rows = await sql.unsafe(`SELECT id, to_char(d, 'YYYY-MM-DD') AS d FROM "${name}".t ORDER BY id`);
    await sql.end();
    expect(rows.map((r) => ({ ...r }) as Record<string, unknown>)).toEqual([
      { id: 1, d: null },
      { id: 2, d: "2024-01-02" },
    ]);
  }, 120_000);

  test('zero_date = "null": a zero date in a primary-key column is stored as -infinity; updates and deletes by that key apply; check --data counts it as the zero date', async () => {
    const db = await getMariadb();
    const target = await getTarget(dialect);
    const name = uniqueName("zerokey");
    await target.createDatabase(name);
    const from = await currentPosition();
    const c = await db.connect();
    await c.query(`SET SESSION sql_mode = ''; CREATE DATABASE ${name}; USE ${name}; ${KEYED}`);
    await c.end();
    const j = journalTransport();
    const cfg = await pipelineConfig(db, target, name, name, from, j.toml, 'zero_date = "null"');
    expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);
    const k = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
    expect(k.stderr).not.toContain("ERROR");
    expect(k.code).toBe(0);
    const sql = target.sql(name);
    const kd = await sql.unsafe(`SELECT d::text AS d, v FROM "${name}".kd ORDER BY d`);
    expect(kd.map((r) => ({ ...r }) as Record<string, unknown>)).toEqual([
      { d: "-infinity", v: 10 },
      { d: "1000-01-01", v: 3 },
      { d: "2024-01-01", v: 2 },
    ]);
    const kt = await sql.unsafe(
      `SELECT id, t = '-infinity' AS t0, s = '-infinity' AS s0, to_char(s AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS s, to_char(other, 'YYYY-MM-DD') AS other, v FROM "${name}".kt ORDER BY id, t, s`,
    );
    expect(kt.map((r) => ({ ...r }) as Record<string, unknown>)).toEqual([
      { id: 1, t0: true, s0: true, s: null, other: null, v: 7 },
      { id: 1, t0: false, s0: true, s: null, other: "2024-05-01", v: 2 },
      { id: 3, t0: true, s0: false, s: "2024-01-02", other: "2024-01-02", v: 4 },
      { id: 4, t0: false, s0: false, s: "2024-01-04", other: "2024-01-03", v: 5 },
    ]);

    const clean = await runCli(["check", "--config", cfg, "--data"]);
    expect(clean.stdout).toContain(`equal   ${name}.kd: 3 rows`);
    expect(clean.stdout).toContain(`equal   ${name}.kt: 4 rows`);
    expect(clean.code).toBe(0);
    // One row per key range: every zero-date key is a range boundary on both servers.
    expect((await checkInProcess(cfg, 1)).map((t) => [t.table, t.status, t.rows])).toEqual([
      [`${name}.kd`, "equal", 3],
      [`${name}.kt`, "equal", 4],
    ]);

    await sql.unsafe(`UPDATE "${name}".kd SET v = 99 WHERE d = '-infinity'`);
    await sql.unsafe(`DELETE FROM "${name}".kt WHERE id = 3`);
    const repair = join(j.dir, "..", "repair.sql");
    const damaged = await runCli(["check", "--config", cfg, "--data", "--json", "--repair-sql", repair]);
    expect(damaged.code).toBe(3);
    const report = JSON.parse(damaged.stdout) as Report;
    const byName = new Map(report.tables.map((t) => [t.table, t]));
    expect(byName.get(`${name}.kd`)!.different).toEqual([{ key: { d: "0000-00-00" }, columns: ["v"] }]);
    expect(byName.get(`${name}.kt`)!.missing).toEqual([{ id: "3", t: "0000-00-00 00:00:00.000000", s: "2024-01-02 00:00:00.000000" }]);
    expect((await checkInProcess(cfg, 1)).map((t) => [t.table, t.status])).toEqual([
      [`${name}.kd`, "differs"],
      [`${name}.kt`, "differs"],
    ]);
    // The repair statements give the key back as -infinity.
    const one = await sql.reserve();
    await one.unsafe(readFileSync(repair, "utf8"));
    one.release();
    const back = await sql.unsafe(`SELECT count(*)::int AS n FROM "${name}".kt WHERE id = 3 AND t = '-infinity'`);
    await sql.end();
    expect(back[0]!.n).toBe(1);
    const repaired = await runCli(["check", "--config", cfg, "--data"]);
    expect(repaired.code).toBe(0);
  }, 120_000);

  test('zero_date = "null": an invalid date that is not the zero date in a primary-key column stops, saying what the operator can do', async () => {
    const db = await getMariadb();
    const target = await getTarget(dialect);
    const name = uniqueName("badkey");
    await target.createDatabase(name);
    const from = await currentPosition();
    const c = await db.connect();
    await c.query(
      `SET SESSION sql_mode = 'ALLOW_INVALID_DATES'; CREATE DATABASE ${name}; USE ${name}; CREATE TABLE t (d DATE NOT NULL PRIMARY KEY, v INT); INSERT INTO t VALUES ('2024-02-30', 1)`,
    );
    await c.end();
    const cfg = await pipelineConfig(db, target, name, name, from, journalTransport().toml, 'zero_date = "null"');
    expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);
    const k = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
    expect(k.code).toBe(1);
    expect(k.stderr).toContain(`invalid date '2024-02-30' in primary-key column ${name}.t.d`);
    expect(k.stderr).toMatch(/correct the key on the source.*fresh migration.*\[TARGET_DATA at /s);
    expect(k.stderr).not.toContain("DROP NOT NULL");
    expect(k.stderr).not.toContain('set [sink] zero_date = "null"');
  }, 120_000);

  test('zero_date = "null": ADD PRIMARY KEY on a date column that held zero dates (stored as NULL) makes them -infinity; check --data passes', async () => {
    const db = await getMariadb();
    const target = await getTarget(dialect);
    const name = uniqueName("addkey");
    await target.createDatabase(name);
    const from = await currentPosition();
    const c = await db.connect();
    await c.query(`SET SESSION sql_mode = ''; CREATE DATABASE ${name}; USE ${name};
      CREATE TABLE visits (store INT NOT NULL, day DATE NOT NULL DEFAULT '0000-00-00', n INT);
      INSERT INTO visits (store, n) VALUES (1, 5); INSERT INTO visits VALUES (1, '2024-01-02', 7), (2, '0000-00-00', 3);
      ALTER TABLE visits ADD PRIMARY KEY (store, day);
      INSERT INTO visits VALUES (3, '0000-00-00', 1); UPDATE visits SET n = 6 WHERE store = 1 AND day = '0000-00-00'`);
    await c.end();
    const cfg = await pipelineConfig(db, target, name, name, from, journalTransport().toml, 'zero_date = "null"');
    expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);
    const k = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
    expect({ code: k.code, errors: k.stderr.split("\n").filter((l) => l.includes("ERROR")) }).toEqual({ code: 0, errors: [] });
    const t = target.sql(name);
    const rows = await t.unsafe(`SELECT store, day::text AS day, n FROM "${name}".visits ORDER BY store, day`);
    await t.end();
    expect(rows.map((r) => `${r.store} ${r.day} ${r.n}`)).toEqual(["1 -infinity 6", "1 2024-01-02 7", "2 -infinity 3", "3 -infinity 1"]);
    const check = await runCli(["check", "--config", cfg, "--data"]);
    expect({ code: check.code, out: check.code === 0 ? "" : check.stdout + check.stderr }).toEqual({ code: 0, out: "" });
  }, 120_000);
});
