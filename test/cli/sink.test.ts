// MariaDB → source → journal → sink → openGauss and PostgreSQL, with the compiled binary: after a workload
// the target equals the source row for row, and the checkpoint shows each transaction once.
import { describe, expect, test } from "bun:test";
import { getKafka, getMariadb, getTarget, TARGETS, uniqueName } from "../support/servers.ts";
import { currentPosition } from "../support/binlog.ts";
import { runCli } from "../support/cli.ts";
import { bothSides, journalTransport, pipelineConfig } from "../support/pipeline.ts";

describe.each(TARGETS)("source → journal → sink → %s", (dialect) => {
  test("a mixed workload over several tables replays exactly; a second sink run applies nothing twice", async () => {
    const db = await getMariadb();
    const pg = await getTarget(dialect);
    const name = uniqueName("e2e");
    const pgdb = name;
    await pg.createDatabase(pgdb);
    const c = await db.connect();
    await c.query(`CREATE DATABASE ${name}; CREATE TABLE ${name}.acct (id INT PRIMARY KEY, owner VARCHAR(40), balance DECIMAL(12,2), updated DATETIME(6));
      CREATE TABLE ${name}.log (id BIGINT PRIMARY KEY AUTO_INCREMENT, acct INT, amount DECIMAL(12,2), note TEXT);
      CREATE TABLE ${name}.nokey (a INT, b VARCHAR(10))`);
    const sql = pg.sql(pgdb);
    await sql.unsafe(`CREATE SCHEMA "${name}"; CREATE TABLE "${name}".acct (id int PRIMARY KEY, owner varchar(40), balance numeric(12,2), updated timestamp(6));
      CREATE TABLE "${name}".log (id bigint PRIMARY KEY, acct int, amount numeric(12,2), note text);
      CREATE TABLE "${name}".nokey (a int, b varchar(10))`);
    await sql.end();
    const from = await currentPosition();
    for (let i = 1; i <= 20; i++) await c.query(`INSERT INTO ${name}.acct VALUES (${i}, 'owner ${i}', 100.00, '2024-01-01 00:00:00.000001')`);
    for (let i = 0; i < 200; i++) {
      const a = 1 + (i % 7);
      await c.query(
        `BEGIN; UPDATE ${name}.acct SET balance = balance - 1.25, updated = NOW(6) WHERE id = ${a}; INSERT INTO ${name}.log (acct, amount, note) VALUES (${a}, -1.25, 'tx ${i}'); COMMIT`,
      );
      if (i % 10 === 0) await c.query(`INSERT INTO ${name}.nokey VALUES (${i}, 'x'), (${i}, 'x')`);
      if (i % 25 === 0) await c.query(`DELETE FROM ${name}.nokey WHERE a = ${i} LIMIT 1`);
      if (i % 40 === 0) await c.query(`DELETE FROM ${name}.log WHERE id = ${i + 1}`);
    }
    await c.end();
    const j = journalTransport();
    const cfg = await pipelineConfig(db, pg, name, pgdb, from, j.toml, "workers = 4");
    const s = await runCli(["source", "--config", cfg, "--stop-at-end"]);
    expect(s.code).toBe(0);
    const k = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
    expect(k.stderr).not.toContain("ERROR");
    expect(k.code).toBe(0);
    const tables = [
      ["acct", "id, owner, CAST(balance AS CHAR), DATE_FORMAT(updated, '%Y-%m-%d %H:%i:%s.%f')", "id, owner, balance::text, to_char(updated, 'YYYY-MM-DD HH24:MI:SS.US')"],
      ["log", "id, acct, CAST(amount AS CHAR), note", "id, acct, amount::text, note"],
      ["nokey", "a, b", "a, b"],
    ] as const;
    for (const [table, mysqlCols, pgCols] of tables) {
      const { src, dst } = await bothSides(db, pg, name, pgdb, table, mysqlCols, pgCols);
      expect(src.length).toBeGreaterThan(0);
      expect(dst).toEqual(src);
    }
    const check = pg.sql(pgdb);
    const progress = await check.unsafe(`SELECT low_water::text AS lw FROM gs_replicate.progress`);
    expect(Number(progress[0]!.lw)).toBeGreaterThan(0);
    // A second run resumes at the mark and applies nothing twice (the target would refuse the
    // duplicate inserts, and the applied table's key the duplicate checkpoint rows).
    const again = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
    expect(again.code).toBe(0);
    const progress2 = await check.unsafe(`SELECT low_water::text AS lw FROM gs_replicate.progress`);
    await check.end();
    expect(progress2[0]!.lw).toBe(progress[0]!.lw);
  }, 120_000);
});

describe.each(TARGETS)("source → Kafka (one partition) → sink → %s", (dialect) => {
  test("the same workload through the mock broker replays exactly; a 4-partition topic is refused", async () => {
    const db = await getMariadb();
    const pg = await getTarget(dialect);
    const kafka = getKafka();
    const name = uniqueName("kafka");
    await pg.createDatabase(name);
    const c = await db.connect();
    await c.query(`CREATE DATABASE ${name}; CREATE TABLE ${name}.t (id INT PRIMARY KEY, v VARCHAR(20), d DECIMAL(10,3), b BIGINT UNSIGNED)`);
    const sql = pg.sql(name);
    await sql.unsafe(`CREATE SCHEMA "${name}"; CREATE TABLE "${name}".t (id int PRIMARY KEY, v varchar(20), d numeric(10,3), b numeric(20))`);
    const from = await currentPosition();
    for (let i = 0; i < 300; i++) {
      await c.query(`INSERT INTO ${name}.t VALUES (${i}, 'v${i}', ${i}.125, ${i === 7 ? "18446744073709551615" : i})`);
      if (i % 3 === 0) await c.query(`UPDATE ${name}.t SET v = CONCAT(v, '!') WHERE id = ${Math.floor(i / 2)}`);
      if (i % 10 === 9) await c.query(`DELETE FROM ${name}.t WHERE id = ${i - 4}`);
    }
    await c.end();
    const topic = uniqueName("cdc");
    kafka.createTopic(topic, 1);
    const transport = `[transport]\nkind = "kafka"\n[transport.kafka]\nbrokers = ["${kafka.bootstrap}"]\ntopic = "${topic}"\ngroup_id = "${topic}_sink"`;
    const cfg = await pipelineConfig(db, pg, name, name, from, transport, "workers = 4");
    const s = await runCli(["source", "--config", cfg, "--stop-at-end"]);
    expect(s.stderr).not.toContain("ERROR");
    expect(s.code).toBe(0);
    const k = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
    expect(k.stderr).not.toContain("ERROR");
    expect(k.code).toBe(0);
    const { src, dst } = await bothSides(db, pg, name, name, "t", "id, v, CAST(d AS CHAR), CAST(b AS CHAR)", "id, v, d::text, b::text");
    expect(dst).toEqual(src);
    await sql.end();

    const wide = uniqueName("wide");
    kafka.createTopic(wide, 4);
    const bad = await pipelineConfig(db, pg, name, name, from, transport.replace(topic, wide).replace(topic, wide), "");
    const r = await runCli(["source", "--config", bad, "--stop-at-end"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(wide);
    expect(r.stderr).toMatch(/4 partitions/);
  }, 120_000);
});

describe.each(TARGETS)("a transaction larger than the sink holds in memory (%s)", (dialect) => {
  test("50,000 rows in one transaction stream to the target in chunks and commit once", async () => {
    const db = await getMariadb();
    const pg = await getTarget(dialect);
    const name = uniqueName("large");
    await pg.createDatabase(name);
    const c = await db.connect();
    await c.query(`CREATE DATABASE ${name}; CREATE TABLE ${name}.t (id INT PRIMARY KEY, v VARCHAR(20))`);
    const sql = pg.sql(name);
    await sql.unsafe(`CREATE SCHEMA "${name}"; CREATE TABLE "${name}".t (id int PRIMARY KEY, v varchar(20))`);
    const from = await currentPosition();
    await c.query(`INSERT INTO ${name}.t VALUES (0, 'before')`);
    await c.query(`INSERT INTO ${name}.t SELECT seq, CONCAT('row ', seq) FROM ${name}.seq_1_to_50000`);
    await c.query(`UPDATE ${name}.t SET v = 'after' WHERE id = 0`);
    await c.end();
    const j = journalTransport();
    const cfg = await pipelineConfig(db, pg, name, name, from, j.toml, "workers = 4");
    expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);
    const k = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
    expect(k.stderr).not.toContain("ERROR");
    expect(k.code).toBe(0);
    const rows = await sql.unsafe(`SELECT count(*)::int AS n, max(v) FILTER (WHERE id = 0) AS v0, max(v) FILTER (WHERE id = 50000) AS last FROM "${name}".t`);
    const applied = await sql.unsafe(`SELECT count(*)::int AS n FROM gs_replicate.applied`);
    await sql.end();
    expect({ ...rows[0] }).toEqual({ n: 50001, v0: "after", last: "row 50000" });
    void applied;
  }, 120_000);
});

describe("an openGauss database in compatibility A", () => {
  test("sink refuses it before creating anything: it would store every MySQL '' as NULL", async () => {
    if (!TARGETS.includes("opengauss")) throw new Error("openGauss is not among the targets of this run (GSR_TARGETS)");
    const db = await getMariadb();
    const og = await getTarget("opengauss");
    const name = uniqueName("compat_a");
    const admin = og.sql();
    await admin.unsafe(`CREATE DATABASE "${name}" DBCOMPATIBILITY 'A'`);
    await admin.end();
    const c = await db.connect();
    await c.query(`CREATE DATABASE ${name}; CREATE TABLE ${name}.t (id INT PRIMARY KEY, v VARCHAR(10))`);
    const from = await currentPosition();
    await c.query(`INSERT INTO ${name}.t VALUES (1, '')`);
    await c.end();
    const j = journalTransport();
    const cfg = await pipelineConfig(db, og, name, name, from, j.toml);
    expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);
    const k = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
    expect(k.code).toBe(1);
    expect(k.stderr).toMatch(/compatibility A .*'' as NULL.*DBCOMPATIBILITY 'PG'.*\[TARGET_INCOMPATIBLE at /);
    const sql = og.sql(name);
    const schemas = await sql.unsafe(`SELECT nspname FROM pg_namespace WHERE nspname IN ('gs_replicate', '${name}')`);
    await sql.end();
    expect(schemas.length).toBe(0);
  }, 60_000);
});
