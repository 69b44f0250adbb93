// Issue 13 (6): objects the target does not get are said so, once, in one place. A table with
// SPATIAL and FULLTEXT indexes is created without them; a trigger that writes audit rows is not
// created on the target (its rows arrive from the binlog: the audit table must match the
// source's exactly, not hold them twice); views and routines are recorded. Every such object is
// in gs_replicate.skipped_objects, written with its DDL, listed by `check` with what to do at
// cutover; a DROP on the source removes it. Under untranslatable = "stop" the sink stops at the
// first one, and restarted with "record" it goes on from there, recording each object once.
import { describe, expect, test } from "bun:test";
import { currentPosition } from "../support/binlog.ts";
import { runCli } from "../support/cli.ts";
import { journalTransport, pipelineConfig } from "../support/pipeline.ts";
import { getMariadb, getTarget, TARGETS, uniqueName } from "../support/servers.ts";
import { writeFileSync, readFileSync } from "node:fs";
import { dumpOf, mariadbClient } from "../support/mariadb-tools.ts";

interface Check {
  id: string;
  status: string;
  object?: string;
  found: string;
  fix?: string;
}

describe.each(TARGETS)("objects the target does not get (%s)", (dialect) => {
  test("recorded once with their DDL across a stop and a restart, listed by check, removed when dropped; a trigger's rows arrive once", async () => {
    const db = await getMariadb();
    const target = await getTarget(dialect);
    const name = uniqueName("objects");
    await target.createDatabase(name);
    const from = await currentPosition();
    const c = await db.connect();
    await c.query(`CREATE DATABASE ${name}; USE ${name}`);
    await c.query(`CREATE TABLE audit (id INT AUTO_INCREMENT PRIMARY KEY, place_id INT NOT NULL)`);
    await c.query(`CREATE TABLE place (id INT PRIMARY KEY, g POINT NOT NULL, note TEXT, SPATIAL INDEX sp (g), FULLTEXT KEY ft (note))`);
    await c.query(`CREATE TRIGGER place_audit AFTER INSERT ON place FOR EACH ROW INSERT INTO audit (place_id) VALUES (NEW.id)`);
    const [[{ gtid: triggerGtid }]] = (await c.query("SELECT @@gtid_binlog_pos AS gtid")) as unknown as [[{ gtid: string }]];
    await c.query(`INSERT INTO place VALUES (1, ST_GeomFromText('POINT(1 1)'), 'one'), (2, ST_GeomFromText('POINT(2 2)'), 'two')`);
    await c.query(`CREATE VIEW place_names AS SELECT id, note FROM place`);
    await c.query(`CREATE PROCEDURE touch() UPDATE place SET note = 'x' WHERE id = 0`);
    await c.end();
    const cfg = await pipelineConfig(db, target, name, name, from, journalTransport().toml, 'untranslatable = "stop"');
    expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);

    // "stop": the CREATE TABLE itself stops (its SPATIAL index), nothing of it applied.
    const stop = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
    expect(stop.code).toBe(1);
    expect(stop.stderr).toContain("SPATIAL index sp of place");
    expect(stop.stderr).toContain('[sink] untranslatable = "stop"');
    const sql = target.sql(name);
    const tables = async () =>
      [...(await sql.unsafe(`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`, [name]))].map((r) => r.t as string);
    expect(await tables()).toEqual(["audit"]);
    expect([...(await sql.unsafe(`SELECT count(*)::int AS n FROM gs_replicate.skipped_objects`))][0]!.n).toBe(0);

    // Restarted with the default, it goes on from the same statement.
    writeFileSync(cfg, readFileSync(cfg, "utf8").replace('untranslatable = "stop"', ""));
    const run = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
    expect(run.stderr).not.toContain("ERROR");
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/recorded, not applied: index \S+\.place sp .*PostGIS.*at cutover: .*GiST/);
    expect(run.stderr).toMatch(/recorded, not applied: trigger \S+\.place place_audit .*at cutover: /);
    expect(run.stderr).toMatch(/DDL not applied \(no target statement\): CREATE DEFINER=\S+ TRIGGER place_audit/);
    expect(run.stderr).not.toMatch(/DDL applied: CREATE DEFINER=\S+ TRIGGER/);
    expect(await tables()).toEqual(["audit", "place"]);
    // The trigger is not on the target, and its audit rows arrived once, from the binlog.
    expect(
      [
        ...(await sql.unsafe(
          `SELECT count(*)::int AS n FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = $1 AND NOT g.tgisinternal`,
          [name],
        )),
      ][0]!.n,
    ).toBe(0);
    expect([...(await sql.unsafe(`SELECT string_agg(place_id::text, ',' ORDER BY id) AS a FROM "${name}".audit`))][0]!.a).toBe("1,2");
    const recorded = async () =>
      [...(await sql.unsafe(`SELECT kind || ' ' || table_name || ' ' || object_name AS k, gtid FROM gs_replicate.skipped_objects WHERE schema_name = $1 ORDER BY 1`, [name]))].map(
        (r) => ({ k: r.k as string, gtid: r.gtid as string }),
      );
    expect((await recorded()).map((r) => r.k)).toEqual(["index place ft", "index place sp", "procedure  touch", "trigger place place_audit", "view  place_names"]);
    expect((await recorded()).find((r) => r.k.startsWith("trigger"))!.gtid).toBe(triggerGtid);

    const check = await runCli(["check", "--config", cfg, "--json"]);
    const doc = JSON.parse(check.stdout) as { checks: Check[] };
    const listed = doc.checks.filter((x) => x.id === "target.skipped_objects");
    expect(listed[0]!.status).toBe("warn");
    expect(listed[0]!.found).toContain("5 object(s)");
    expect(
      listed
        .slice(1)
        .map((x) => x.object)
        .sort(),
    ).toEqual([`${name}.place.ft`, `${name}.place.place_audit`, `${name}.place.sp`, `${name}.place_names`, `${name}.touch`]);
    const trigger = listed.find((x) => x.object === `${name}.place.place_audit`)!;
    expect(trigger.found).toContain(`GTID ${triggerGtid}`);
    expect(trigger.fix).toContain("caught up");

    // Dropped on the source: gone from the record, in the same transaction as the DDL.
    const c2 = await db.connect();
    await c2.query(`USE ${name}; DROP VIEW place_names; DROP INDEX ft ON place; DROP TRIGGER place_audit; INSERT INTO place VALUES (3, ST_GeomFromText('POINT(3 3)'), 'three')`);
    await c2.end();
    expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);
    const again = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
    expect(again.stderr).not.toContain("ERROR");
    expect(again.code).toBe(0);
    expect((await recorded()).map((r) => r.k)).toEqual(["index place sp", "procedure  touch"]);
    expect([...(await sql.unsafe(`SELECT count(*)::int AS n FROM "${name}".audit`))][0]!.n).toBe(2);
    await sql.end();
  }, 180_000);

  test("a dump's stand-in views (created, dropped, then created for real) are logged once each, as check lists them", async () => {
    const db = await getMariadb();
    const target = await getTarget(dialect);
    const name = uniqueName("standin");
    const stage = `${name}_stage`;
    await target.createDatabase(name);
    const c = await db.connect();
    await c.query(`CREATE DATABASE ${stage}; USE ${stage}; CREATE TABLE t (id INT PRIMARY KEY, note VARCHAR(20)); INSERT INTO t VALUES (1, 'one')`);
    // A view on a view: the dump needs the stand-in of the first to create the second.
    await c.query(`CREATE VIEW notes AS SELECT id, note FROM t; CREATE VIEW notes_upper AS SELECT id, UPPER(note) AS n FROM notes`);
    const dump = await dumpOf(db, stage);
    await c.query(`DROP DATABASE ${stage}`);
    const from = await currentPosition();
    await c.query(`CREATE DATABASE ${name}`);
    await c.end();
    await mariadbClient(db, [name], dump);
    const cfg = await pipelineConfig(db, target, name, name, from, journalTransport().toml);
    expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);
    const run = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
    expect(run.stderr).not.toContain("ERROR");
    expect(run.code).toBe(0);
    // The dump wrote a stand-in for each view (columns of NULLs), dropped it and created the view.
    expect(dump).toMatch(/CREATE VIEW `notes` AS SELECT\s+NULL AS `id`/);
    const logged = [...run.stderr.matchAll(/recorded, not applied: view (\S+) /g)].map((m) => m[1]!);
    expect(logged.sort()).toEqual([`${name}.notes`, `${name}.notes_upper`]);
    expect(run.stderr).toContain(`CREATE VIEW ${name}.notes: a dump's stand-in for the view`);
    const check = JSON.parse((await runCli(["check", "--config", cfg, "--json"])).stdout) as { checks: Check[] };
    const listed = check.checks.filter((x) => x.id === "target.skipped_objects").slice(1);
    expect(listed.map((x) => x.object).sort()).toEqual([`${name}.notes`, `${name}.notes_upper`]);
    expect(listed.map((x) => x.found).join(" ")).not.toContain("stand-in");
  }, 180_000);

  test("MariaDB's JSON written as LONGTEXT … CHECK (json_valid(…)) by ALTER TABLE ADD, MODIFY and CHANGE is jsonb on the target, no CHECK recorded; check --data passes", async () => {
    const db = await getMariadb();
    const target = await getTarget(dialect);
    const name = uniqueName("jsonalter");
    await target.createDatabase(name);
    const from = await currentPosition();
    const c = await db.connect();
    await c.query(`CREATE DATABASE ${name}; USE ${name}; CREATE TABLE d (id INT PRIMARY KEY, a LONGTEXT, b LONGTEXT); INSERT INTO d VALUES (1, '{"x": 1}', '[1, 2.50]')`);
    // As SHOW CREATE TABLE writes a JSON column, and as written by hand.
    await c.query("ALTER TABLE d ADD COLUMN attrs longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL CHECK (json_valid(`attrs`))");
    await c.query(`ALTER TABLE d MODIFY a LONGTEXT CHECK (json_valid(a)), CHANGE b doc LONGTEXT NOT NULL CHECK (json_valid(doc))`);
    await c.query(`INSERT INTO d VALUES (2, '{"y": [true, null]}', '{"z": "s"}', '{"k": 1.50, "a": {"b": []}}'); UPDATE d SET attrs = '{"n": -0.0000123}' WHERE id = 1`);
    await c.end();
    const cfg = await pipelineConfig(db, target, name, name, from, journalTransport().toml);
    expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);
    const run = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
    expect(run.stderr).not.toContain("ERROR");
    expect(run.code).toBe(0);
    expect(run.stderr).not.toContain("recorded, not applied");
    const sql = target.sql(name);
    const types = await sql.unsafe(
      `SELECT column_name || ' ' || data_type AS c FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'd' ORDER BY ordinal_position`,
      [name],
    );
    const recorded = await sql.unsafe(`SELECT count(*)::int AS n FROM gs_replicate.skipped_objects WHERE schema_name = $1`, [name]);
    await sql.end();
    expect(types.map((r) => r.c as string)).toEqual(["id integer", "a jsonb", "doc jsonb", "attrs jsonb"]);
    expect(recorded[0]!.n).toBe(0);
    const check = await runCli(["check", "--config", cfg, "--data"]);
    expect(check.stdout).toContain(`equal   ${name}.d: 2 rows`);
    expect(check.code).toBe(0);
  }, 180_000);

  test("partitioned tables replicate as openGauss partitioned tables where exact, else as plain tables (recorded); TRUNCATE/DROP PARTITION, which MariaDB logs without their rows, delete the same rows, or stop when the partition's rows are not known", async () => {
    const db = await getMariadb();
    const target = await getTarget(dialect);
    const name = uniqueName("parts");
    await target.createDatabase(name);
    const from = await currentPosition();
    const c = await db.connect();
    await c.query(`CREATE DATABASE ${name}; USE ${name}`);
    await c.query(`CREATE TABLE m (id INT PRIMARY KEY, v INT) PARTITION BY RANGE (id) (PARTITION p0 VALUES LESS THAN (100), PARTITION p1 VALUES LESS THAN (200))`);
    await c.query(`CREATE TABLE y (d DATE NOT NULL) PARTITION BY RANGE (YEAR(d)) (PARTITION old VALUES LESS THAN (2020), PARTITION new VALUES LESS THAN MAXVALUE)`);
    await c.query(`INSERT INTO m VALUES (1, 1), (50, 2), (150, 3); INSERT INTO y VALUES ('2019-05-01'), ('2021-01-01')`);
    await c.query(`ALTER TABLE m ADD PARTITION (PARTITION p2 VALUES LESS THAN MAXVALUE)`);
    await c.query(`INSERT INTO m VALUES (250, 4)`);
    const before = await currentPosition();
    await c.query(`ALTER TABLE m TRUNCATE PARTITION p0`);
    // The binlog has the statement, not the two rows it deleted.
    const [events] = (await c.query(`SHOW BINLOG EVENTS IN '${before.file}' FROM ${before.pos}`)) as unknown as [Array<{ Event_type: string }>];
    expect(events.map((e) => e.Event_type)).toContain("Query");
    expect(events.filter((e) => /rows/i.test(e.Event_type))).toEqual([]);
    await c.query(`INSERT INTO m VALUES (2, 5); ALTER TABLE m DROP PARTITION p1; INSERT INTO m VALUES (120, 6)`);
    await c.query(`ALTER TABLE y TRUNCATE PARTITION old`);
    const [[{ gtid }]] = (await c.query("SELECT @@gtid_binlog_pos AS gtid")) as unknown as [[{ gtid: string }]];
    await c.query(`INSERT INTO y VALUES ('2018-01-01')`);
    const [source] = (await c.query(`SELECT id FROM m ORDER BY id`)) as unknown as [Array<{ id: number }>];
    await c.end();
    const cfg = await pipelineConfig(db, target, name, name, from, journalTransport().toml);
    expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);
    const stop = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
    expect(stop.code).toBe(1);
    if (dialect === "opengauss") {
      // RANGE on an integer key: an openGauss partitioned table, whose partitions follow MariaDB's.
      expect(stop.stderr).toContain("m is partitioned on the target as on the source (RANGE on id, 2 partitions)");
      expect(stop.stderr).not.toMatch(/recorded, not applied: partitioning \S+\.m /);
    } else {
      expect(stop.stderr).toMatch(/recorded, not applied: partitioning \S+\.m RANGE .*applied as a DELETE/);
      expect(stop.stderr).toMatch(/TRUNCATE PARTITION p0 of m: .*DELETE FROM/);
    }
    expect(stop.stderr).toContain(`GTID ${gtid}`);
    expect(stop.stderr).toContain("TRUNCATE PARTITION old: it changes rows without logging them");
    const sql = target.sql(name);
    const ids = async () => [...(await sql.unsafe(`SELECT id FROM "${name}".m ORDER BY id`))].map((r) => r.id as number);
    const years = async () => [...(await sql.unsafe(`SELECT to_char(d, 'YYYY') AS y FROM "${name}".y ORDER BY d`))].map((r) => r.y as string);
    // TRUNCATE PARTITION p0 and DROP PARTITION p1 deleted the same rows as on the source.
    expect(await ids()).toEqual(source.map((r) => r.id));
    expect(await ids()).toEqual([2, 120, 250]);
    expect(await years()).toEqual(["2019", "2021"]);
    expect(
      [...(await sql.unsafe(`SELECT kind, table_name, object_name FROM gs_replicate.skipped_objects WHERE schema_name = $1 ORDER BY table_name`, [name]))].map(
        (r) => `${r.kind} ${r.table_name} ${r.object_name}`,
      ),
    ).toEqual([...(dialect === "opengauss" ? [] : ["partitioning m RANGE"]), "partitioning y RANGE"]);
    if (dialect === "opengauss") {
      const parts = await sql.unsafe(`SELECT p.relname AS n FROM pg_partition p WHERE p.parentid = '"${name}".m'::regclass AND p.parttype = 'p' ORDER BY 1`);
      expect(parts.map((r) => r.n as string)).toEqual(["p0", "p2"]);
    }
    // What the message says to do: the same rows deleted by hand, then past the statement.
    await sql.unsafe(`DELETE FROM "${name}".y WHERE d < '2020-01-01'`);
    const resumed = await runCli(["sink", "--config", cfg, "--stop-at-end", "--skip-ddl", gtid]);
    expect(resumed.stderr).not.toContain("ERROR");
    expect(resumed.code).toBe(0);
    expect(await years()).toEqual(["2018", "2021"]);
    await sql.end();
  }, 180_000);
});
