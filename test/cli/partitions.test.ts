// Issue 13 (6): partitioned tables are translated to the target's partitioning where exact. On
// openGauss, MariaDB's RANGE/LIST partitions on an integer key become openGauss partitions and
// follow MariaDB's partition DDL (ADD, DROP, TRUNCATE, REORGANIZE; a row moved between
// partitions by an UPDATE); what openGauss cannot follow makes the table plain again, rows,
// sequence and indexes kept. On PostgreSQL the same tables are plain and recorded. Either way
// the target's rows are MariaDB's (check --data), and openGauss's partitions are MariaDB's.
import { describe, expect, test } from "bun:test";
import { currentPosition } from "../support/binlog.ts";
import { runCli } from "../support/cli.ts";
import { journalTransport, pipelineConfig } from "../support/pipeline.ts";
import { getMariadb, getTarget, TARGETS, uniqueName } from "../support/servers.ts";

describe.each(TARGETS)("partitioned tables (%s)", (dialect) => {
  test("partition DDL while rows change: the target's rows and partitions stay MariaDB's", async () => {
    const db = await getMariadb();
    const target = await getTarget(dialect);
    const name = uniqueName("parts");
    await target.createDatabase(name);
    const from = await currentPosition();
    const c = await db.connect();
    const run = async (...sqls: string[]) => {
      for (const s of sqls) await c.query(s);
    };
    await run(`CREATE DATABASE ${name}`, `USE ${name}`);
    await run(
      "CREATE TABLE r (id INT NOT NULL AUTO_INCREMENT, v INT, KEY kv (v), PRIMARY KEY (id)) PARTITION BY RANGE (id) (PARTITION p0 VALUES LESS THAN (100), PARTITION p1 VALUES LESS THAN (200), PARTITION p2 VALUES LESS THAN (300))",
      "CREATE TABLE l (id INT NOT NULL, r TINYINT NOT NULL, PRIMARY KEY (id, r)) PARTITION BY LIST (r) (PARTITION north VALUES IN (1, 2), PARTITION south VALUES IN (3))",
      "INSERT INTO r (id, v) VALUES (1, 1), (50, 2), (150, 3), (250, 4)",
      "INSERT INTO l VALUES (1, 1), (2, 2), (3, 3)",
      // Moves the row from p0 to p1.
      "UPDATE r SET id = 120 WHERE id = 50",
      "ALTER TABLE r ADD PARTITION (PARTITION p3 VALUES LESS THAN (400), PARTITION pmax VALUES LESS THAN MAXVALUE)",
      "INSERT INTO r (id, v) VALUES (350, 5), (1000, 6)",
      "ALTER TABLE r TRUNCATE PARTITION p0",
      "ALTER TABLE r DROP PARTITION p1",
      "ALTER TABLE r REORGANIZE PARTITION p2, p3 INTO (PARTITION a VALUES LESS THAN (280), PARTITION b VALUES LESS THAN (400))",
      "INSERT INTO r (id, v) VALUES (110, 7), (20, 8)",
      "CREATE TABLE r2 LIKE r",
      "INSERT INTO r2 SELECT * FROM r",
      "ALTER TABLE r2 TRUNCATE PARTITION b",
      // LIST partitions cannot be merged on openGauss: l becomes plain, its partitions recorded.
      "ALTER TABLE l REORGANIZE PARTITION north, south INTO (PARTITION ns VALUES IN (1, 2, 3))",
      "ALTER TABLE l ADD PARTITION (PARTITION w VALUES IN (4))",
      "INSERT INTO l VALUES (4, 4)",
      "ALTER TABLE l TRUNCATE PARTITION ns",
      // A partition key's type cannot change in an openGauss partitioned table: r becomes plain.
      "ALTER TABLE r MODIFY id BIGINT NOT NULL AUTO_INCREMENT",
      "INSERT INTO r (v) VALUES (9)",
      "ALTER TABLE r TRUNCATE PARTITION a",
      // A plain table partitioned later, then not any more.
      "CREATE TABLE q (id INT NOT NULL PRIMARY KEY, s VARCHAR(10))",
      "INSERT INTO q VALUES (1, 'one'), (15, 'fifteen')",
      "ALTER TABLE q PARTITION BY RANGE (id) (PARTITION q0 VALUES LESS THAN (10), PARTITION q1 VALUES LESS THAN MAXVALUE)",
      "ALTER TABLE q TRUNCATE PARTITION q0",
      "INSERT INTO q VALUES (2, 'two')",
      "CREATE TABLE q2 LIKE q",
      "ALTER TABLE q REMOVE PARTITIONING",
      "INSERT INTO q VALUES (3, 'three'), (30, 'thirty')",
    );
    const partitionsOf = async (table: string) =>
      (
        (await c.query(
          `SELECT PARTITION_NAME AS p FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND PARTITION_NAME IS NOT NULL ORDER BY PARTITION_ORDINAL_POSITION`,
          [name, table],
        )) as unknown as [Array<{ p: string }>]
      )[0].map((x) => x.p.toLowerCase());
    const mariadbParts = { r2: await partitionsOf("r2"), q2: await partitionsOf("q2") };
    expect(mariadbParts).toEqual({ r2: ["p0", "a", "b", "pmax"], q2: ["q0", "q1"] });
    const rowsOf = async (table: string) =>
      ((await c.query(`SELECT * FROM ${table} ORDER BY 1, 2`)) as unknown as [Array<Record<string, unknown>>])[0].map((x) => JSON.stringify(Object.values(x)));
    const source = { r: await rowsOf("r"), r2: await rowsOf("r2"), l: await rowsOf("l"), q: await rowsOf("q"), q2: await rowsOf("q2") };
    await c.end();

    const cfg = await pipelineConfig(db, target, name, name, from, journalTransport().toml);
    expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);
    const sink = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
    expect({ code: sink.code, errors: sink.stderr.split("\n").filter((l) => /ERROR/.test(l)) }).toEqual({ code: 0, errors: [] });
    const sql = target.sql(name);
    try {
      const rowsOn = async (table: string) =>
        [...(await sql.unsafe(`SELECT * FROM "${name}"."${table}" ORDER BY 1, 2`))].map((x) =>
          JSON.stringify(Object.values(x).map((v) => (typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v))),
        );
      expect({ r: await rowsOn("r"), r2: await rowsOn("r2"), l: await rowsOn("l"), q: await rowsOn("q"), q2: await rowsOn("q2") }).toEqual(source);
      const recorded = [
        ...(await sql.unsafe(`SELECT table_name || ' ' || object_name AS k FROM gs_replicate.skipped_objects WHERE schema_name = $1 AND kind = 'partitioning' ORDER BY 1`, [name])),
      ].map((x) => x.k as string);
      if (dialect === "opengauss") {
        expect(recorded).toEqual(["l LIST", "r RANGE"]);
        const onTarget = async (table: string) =>
          [
            ...(await sql.unsafe(`SELECT p.relname AS p, p.boundaries::text AS b FROM pg_partition p WHERE p.parentid = '"${name}"."${table}"'::regclass AND p.parttype = 'p'`)),
          ].map((x) => x.p as string);
        expect({ r2: (await onTarget("r2")).sort(), q2: (await onTarget("q2")).sort() }).toEqual({ r2: [...mariadbParts.r2].sort(), q2: [...mariadbParts.q2].sort() });
        // Made plain again: no partitions, and the indexes, key and AUTO_INCREMENT default kept.
        for (const table of ["r", "l", "q"]) expect(await onTarget(table).catch(() => [])).toEqual([]);
        const indexes = [...(await sql.unsafe(`SELECT indexname AS i FROM pg_indexes WHERE schemaname = $1 AND tablename = 'r' ORDER BY 1`, [name]))].map((x) => x.i as string);
        expect(indexes).toEqual(["r_kv", "r_pkey"]);
        const def = [
          ...(await sql.unsafe(`SELECT column_default AS d, data_type AS t FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'r' AND column_name = 'id'`, [
            name,
          ])),
        ][0]!;
        expect(def.t).toBe("bigint");
        expect(def.d as string).toContain("nextval");
      } else {
        expect(recorded).toEqual(["l LIST", "q2 RANGE", "r RANGE", "r2 RANGE"]);
      }
    } finally {
      await sql.end();
    }
    const data = await runCli(["check", "--config", cfg, "--data"], { timeoutMs: 300_000 });
    expect({ code: data.code, out: data.code === 0 ? "" : data.stdout + data.stderr }).toEqual({ code: 0, out: "" });
  }, 300_000);
});
