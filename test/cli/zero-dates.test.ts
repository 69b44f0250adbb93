// Issue 13 (5): a WordPress-style schema (NOT NULL datetime columns defaulting to the MySQL zero
// date, rows that hold it) replicates with no intervention under one setting chosen before the
// migration, [sink] zero_date = "null": the columns the sink creates take NULL where MySQL had a
// zero date, and `check --data` counts those NULLs as the zero dates they stand for. With the
// default ("error") the stop says what to do about a row already in the log.
import { describe, expect, test } from "bun:test";
import { currentPosition } from "../support/binlog.ts";
import { runCli } from "../support/cli.ts";
import { journalTransport, pipelineConfig } from "../support/pipeline.ts";
import { getMariadb, getTarget, TARGETS, uniqueName } from "../support/servers.ts";

const POSTS = `CREATE TABLE posts (
  ID BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  post_date DATETIME NOT NULL DEFAULT '0000-00-00 00:00:00',
  post_modified DATETIME NOT NULL DEFAULT '0000-00-00 00:00:00',
  post_title TEXT NOT NULL,
  published DATE NOT NULL,
  stamp TIMESTAMP NOT NULL DEFAULT '0000-00-00 00:00:00'
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`;

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
    await c.query(`INSERT INTO posts (post_date, post_modified, post_title, published, stamp) VALUES ('2024-05-01 10:00:00', '2024-05-02 11:00:00', 'hello', '2024-05-01', '2024-05-01 10:00:00')`);
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
    expect(rows.map((r) => ({ ...r }) as Record<string, unknown>)).toEqual([{ id: 1, d: null }, { id: 2, d: "2024-01-02" }]);
  }, 120_000);
});
