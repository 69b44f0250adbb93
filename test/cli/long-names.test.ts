// Issues 13 (4) and 14 (2): table and column names longer than the target's 63 bytes. MySQL
// allows 64 characters; the target cuts names silently at 63 bytes, so two tables differing in
// their 64th character would be one target table, their rows merged. Every path maps such a
// name the same way (63 bytes: a head and a hash): the DDL that creates, alters, renames and
// keys the tables, the rows, the scheduler's key policy, `check --data`, and `check --json`,
// which lists the mapping. End to end: MariaDB → source → journal → sink → target.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fitName } from "../../src/dialect/identifiers.ts";
import { currentPosition } from "../support/binlog.ts";
import { runCli, writeConfig } from "../support/cli.ts";
import { journalTransport, pipelineConfig } from "../support/pipeline.ts";
import { getMariadb, getTarget, TARGETS, uniqueName } from "../support/servers.ts";

interface Check {
  id: string;
  status: string;
  object?: string;
  found: string;
}

// 64 characters each; the pairs differ only in their 64th.
const long = (head: string, last: string) => `${head}_${"x".repeat(62 - head.length)}${last}`;
const TABLE_1 = long("twin", "1");
const TABLE_2 = long("twin", "2");
const RENAMED = long("renamed", "2");
const PARENT = long("parent", "p");
const CHILD = long("child", "c");
const COL_A = long("amount", "a");
const COL_B = long("amount", "b");
const COL_ADDED = long("added", "z");
const REF = long("parent_ref", "r");
const CHILD_KEY = long("child_key", "k");
const NO_KEY = long("nokey", "n");

describe.each(TARGETS)("names over the target's 63 bytes (%s)", (dialect) => {
  test("64-character tables and columns replicate under their shortened names: rows, ALTER, index, foreign key, RENAME; twins stay two tables; check --data passes and lists the mapping", async () => {
    expect(new Set([TABLE_1, TABLE_2, RENAMED, PARENT, CHILD, COL_A, COL_B, COL_ADDED, REF, CHILD_KEY, NO_KEY].map((n) => n.length))).toEqual(new Set([64]));
    const db = await getMariadb();
    const target = await getTarget(dialect);
    const name = uniqueName("longnames");
    await target.createDatabase(name);
    const from = await currentPosition();
    const c = await db.connect();
    const q = (s: string) => c.query(s);
    await q(`CREATE DATABASE ${name}`);
    await q(`USE ${name}`);
    for (const t of [TABLE_1, TABLE_2]) await q(`CREATE TABLE ${t} (id INT PRIMARY KEY, ${COL_A} INT NOT NULL, ${COL_B} VARCHAR(20), UNIQUE KEY uq_b (${COL_B}))`);
    await q(`INSERT INTO ${TABLE_1} VALUES (1, 10, 'one-a'), (2, 20, 'one-b'), (3, 30, 'one-c')`);
    await q(`INSERT INTO ${TABLE_2} VALUES (1, 100, 'two-a'), (2, 200, 'two-b')`);
    await q(`UPDATE ${TABLE_1} SET ${COL_A} = 11, ${COL_B} = 'one-a2' WHERE id = 1`);
    await q(`UPDATE ${TABLE_2} SET ${COL_A} = 201 WHERE id = 2`);
    await q(`DELETE FROM ${TABLE_1} WHERE id = 3`);
    await q(`ALTER TABLE ${TABLE_1} ADD COLUMN ${COL_ADDED} INT NOT NULL DEFAULT 5, ADD INDEX (${COL_ADDED}), ADD INDEX ix_a (${COL_A})`);
    await q(`INSERT INTO ${TABLE_1} VALUES (4, 40, 'one-d', 7)`);
    await q(`UPDATE ${TABLE_1} SET ${COL_ADDED} = 8 WHERE id = 2`);
    await q(`CREATE TABLE ${PARENT} (id INT PRIMARY KEY, ${COL_A} INT)`);
    await q(`CREATE TABLE ${CHILD} (${CHILD_KEY} INT PRIMARY KEY, ${REF} INT, CONSTRAINT fk_child FOREIGN KEY (${REF}) REFERENCES ${PARENT} (id) ON DELETE CASCADE)`);
    await q(`INSERT INTO ${PARENT} VALUES (1, 1), (2, 2)`);
    await q(`INSERT INTO ${CHILD} VALUES (1, 1), (2, 1), (3, 2)`);
    // The cascade is not in the binlog: only the target's own foreign key removes the children.
    await q(`DELETE FROM ${PARENT} WHERE id = 1`);
    await q(`RENAME TABLE ${TABLE_2} TO ${RENAMED}`);
    await q(`INSERT INTO ${RENAMED} VALUES (3, 300, 'two-c')`);
    await q(`DROP INDEX ${COL_ADDED} ON ${TABLE_1}`);
    await q(`DELETE FROM ${TABLE_1} WHERE id = 2`);
    await q(`UPDATE ${CHILD} SET ${CHILD_KEY} = 4 WHERE ${CHILD_KEY} = 3`);
    // No key: rows are found by all their columns.
    await q(`CREATE TABLE ${NO_KEY} (${COL_A} INT, ${COL_B} VARCHAR(20))`);
    await q(`INSERT INTO ${NO_KEY} VALUES (1, 'a'), (1, 'a'), (2, 'b')`);
    await q(`UPDATE ${NO_KEY} SET ${COL_B} = 'c' WHERE ${COL_A} = 2`);
    await q(`DELETE FROM ${NO_KEY} WHERE ${COL_A} = 1 LIMIT 1`);
    const cfg = await pipelineConfig(db, target, name, name, from, journalTransport().toml, "workers = 4");
    const source = await runCli(["source", "--config", cfg, "--stop-at-end"]);
    expect(source.stderr).not.toContain("ERROR");
    const sink = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
    expect(sink.stderr).not.toContain("ERROR");
    expect(sink.code).toBe(0);
    // The mapping is logged where the names are given.
    expect(sink.stderr).toContain(`table ${name}.${TABLE_1} is "${fitName(TABLE_1)}" on the target`);
    expect(sink.stderr).toContain(`column ${name}.${TABLE_1}.${COL_ADDED} is "${fitName(COL_ADDED)}" on the target`);
    expect(sink.stderr).toContain(`table ${name}.${RENAMED} is "${fitName(RENAMED)}" on the target`);

    const sql = target.sql(name);
    try {
      const tables = [...(await sql.unsafe(`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`, [name]))].map((r) => r.t as string);
      expect(tables).toEqual([fitName(CHILD), fitName(NO_KEY), fitName(PARENT), fitName(RENAMED), fitName(TABLE_1)].sort());
      const rows = async (table: string, cols: string[]) =>
        [...(await sql.unsafe(`SELECT ${cols.map((x, i) => `"${fitName(x)}"::text AS c${i}`).join(", ")} FROM "${name}"."${fitName(table)}" ORDER BY 1`))].map((r) =>
          Object.values(r),
        );
      expect(await rows(TABLE_1, ["id", COL_A, COL_B, COL_ADDED])).toEqual([
        ["1", "11", "one-a2", "5"],
        ["4", "40", "one-d", "7"],
      ]);
      expect(await rows(RENAMED, ["id", COL_A, COL_B])).toEqual([
        ["1", "100", "two-a"],
        ["2", "201", "two-b"],
        ["3", "300", "two-c"],
      ]);
      expect(await rows(CHILD, [CHILD_KEY, REF])).toEqual([["4", "2"]]);
      expect(await rows(NO_KEY, [COL_A, COL_B])).toEqual([
        ["1", "a"],
        ["2", "c"],
      ]);
      // The keys named after long tables and columns are the target's, under shortened names.
      const indexes = [...(await sql.unsafe(`SELECT indexname AS i FROM pg_indexes WHERE schemaname = $1 AND tablename = $2 ORDER BY 1`, [name, fitName(TABLE_1)]))].map(
        (r) => r.i as string,
      );
      expect(indexes).toEqual([fitName(`${fitName(TABLE_1)}_ix_a`), fitName(`${fitName(TABLE_1)}_pkey`), fitName(`${fitName(TABLE_1)}_uq_b`)].sort());
      const fks = await sql.unsafe(
        `SELECT c.relname AS t, r.relname AS rt, k.confdeltype::text AS del FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class r ON r.oid = k.confrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE k.contype = 'f' AND n.nspname = $1`,
        [name],
      );
      expect([...fks].map((r) => [r.t, r.rt, r.del])).toEqual([[fitName(CHILD), fitName(PARENT), "c"]]);
    } finally {
      await sql.end();
    }

    const data = await runCli(["check", "--config", cfg, "--data"], { timeoutMs: 120_000 });
    expect({ code: data.code, out: data.code === 0 ? "" : data.stdout }).toEqual({ code: 0, out: "" });
    // A difference is found, named, and repaired under the target's names.
    const damage = target.sql(name);
    await damage.unsafe(`UPDATE "${name}"."${fitName(TABLE_1)}" SET "${fitName(COL_ADDED)}" = 99 WHERE id = 4`);
    await damage.unsafe(`DELETE FROM "${name}"."${fitName(CHILD)}"`);
    const repair = join(mkdtempSync(join(tmpdir(), "gsr-repair-")), "repair.sql");
    const damaged = await runCli(["check", "--config", cfg, "--data", "--repair-sql", repair], { timeoutMs: 120_000 });
    expect(damaged.code).toBe(3);
    const one = await damage.reserve(); // the file is one transaction: BEGIN … COMMIT on one connection
    await one.unsafe(readFileSync(repair, "utf8"));
    one.release();
    await damage.end();
    const repaired = await runCli(["check", "--config", cfg, "--data"], { timeoutMs: 120_000 });
    expect({ code: repaired.code, out: repaired.code === 0 ? "" : repaired.stdout }).toEqual({ code: 0, out: "" });
    const check = await runCli(["check", "--config", cfg, "--json"]);
    const doc = JSON.parse(check.stdout) as { checks: Check[] };
    expect(check.code).toBe(0);
    const listed = doc.checks.filter((x) => x.id === "schema.long_names");
    expect(listed.filter((x) => x.status === "fail")).toEqual([]);
    const of1 = listed.find((x) => x.object === `${name}.${TABLE_1}`)!;
    expect(of1.found).toContain(`table "${TABLE_1}" is "${fitName(TABLE_1)}"`);
    expect(of1.found).toContain(`column "${COL_ADDED}" is "${fitName(COL_ADDED)}"`);
    expect(listed.find((x) => x.object === `${name}.${RENAMED}`)!.found).toContain(`table "${RENAMED}" is "${fitName(RENAMED)}"`);
    const tables = doc.checks.filter((x) => x.id === "target.tables" || x.id === "target.foreign_keys");
    expect(tables.filter((x) => x.status !== "ok")).toEqual([]);
    await c.end();
  }, 180_000);

  test("rows never merge: twins whose target tables were made by hand under the cut name stop the sink until the mapped tables exist", async () => {
    const db = await getMariadb();
    const target = await getTarget(dialect);
    const name = uniqueName("longrows");
    await target.createDatabase(name);
    const c = await db.connect();
    await c.query(`CREATE DATABASE ${name}`);
    await c.query(`USE ${name}`);
    for (const t of [TABLE_1, TABLE_2]) await c.query(`CREATE TABLE ${t} (id INT PRIMARY KEY, v INT)`);
    const from = await currentPosition();
    await c.query(`INSERT INTO ${TABLE_1} VALUES (1, 10)`);
    await c.query(`INSERT INTO ${TABLE_2} VALUES (2, 20)`);
    await c.end();
    const sql = target.sql(name);
    try {
      // The target cuts both names to the same 63 bytes: one table, as a DBA loading a copy would get.
      await sql.unsafe(`CREATE SCHEMA "${name}"`);
      await sql.unsafe(`CREATE TABLE "${name}"."${TABLE_1.slice(0, 63)}" (id integer PRIMARY KEY, v integer)`);
      const cfg = await pipelineConfig(db, target, name, name, from, journalTransport().toml);
      expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);
      const stopped = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
      expect(stopped.code).toBe(1);
      expect(stopped.stderr).toMatch(new RegExp(`${fitName(TABLE_1)}" does not exist.*names over 63 bytes are shortened`));
      expect([...(await sql.unsafe(`SELECT count(*)::int AS n FROM "${name}"."${TABLE_1.slice(0, 63)}"`))][0]!.n).toBe(0);
      const check = await runCli(["check", "--config", cfg, "--json"]);
      const missing = (JSON.parse(check.stdout) as { checks: Check[] }).checks.filter((x) => x.id === "target.tables" && x.status === "fail");
      expect(missing.map((x) => x.found).sort()).toEqual([TABLE_1, TABLE_2].map((t) => `table "${name}"."${fitName(t)}" does not exist on the target`).sort());
      // Created under the names check gives, each twin gets its own row.
      for (const t of [TABLE_1, TABLE_2]) await sql.unsafe(`CREATE TABLE "${name}"."${fitName(t)}" (id integer PRIMARY KEY, v integer)`);
      const run = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
      expect(run.stderr).not.toContain("ERROR");
      expect(run.code).toBe(0);
      for (const [t, row] of [
        [TABLE_1, "1:10"],
        [TABLE_2, "2:20"],
      ] as const) {
        expect([...(await sql.unsafe(`SELECT string_agg(id || ':' || v, ',') AS r FROM "${name}"."${fitName(t)}"`))][0]!.r).toBe(row);
      }
    } finally {
      await sql.end();
    }
  }, 120_000);
});

describe.each(TARGETS)("two databases mapped onto one schema (%s, issue 14 item 2)", (dialect) => {
  test("tables of the same name never merge: check fails schema.databases before, the sink stops at the first row of the second (exit 2)", async () => {
    const db = await getMariadb();
    const target = await getTarget(dialect);
    const name = uniqueName("shared");
    const [a, b] = [`${name}_a`, `${name}_b`];
    await target.createDatabase(name);
    const from = await currentPosition();
    const c = await db.connect();
    await c.query(`CREATE DATABASE ${a}; CREATE DATABASE ${b}; CREATE TABLE IF NOT EXISTS ${a}.t (id INT PRIMARY KEY, v INT); CREATE TABLE IF NOT EXISTS ${b}.t (id INT PRIMARY KEY, v INT);
      CREATE TABLE ${a}.only_a (id INT PRIMARY KEY); INSERT INTO ${a}.t VALUES (1, 10); INSERT INTO ${b}.t VALUES (1, 20)`);
    await c.end();
    const cfg = writeConfig(`
[source]
port = ${db.port}
user = "root"
password = ""
databases = ["${a}", "${b}"]
start = "file:${from.file}:${from.pos}"

${journalTransport().toml}

[target]
${target.targetToml(name)}
schema_mapping = { ${a} = "${name}", ${b} = "${name}" }
`);
    const pre = await runCli(["check", "--config", cfg, "--json"], { timeoutMs: 120_000 });
    const report = JSON.parse(pre.stdout) as { checks: Array<{ id: string; status: string; found: string }> };
    const clash = report.checks.find((r) => r.id === "schema.databases" && r.status === "fail");
    expect(clash?.found).toContain(`${a}.t and ${b}.t both map to ${name}.t`);
    expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);
    const k = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
    expect(k.code).toBe(2);
    expect(k.stderr).toContain(`rows of ${a} and of ${b} both map to the target table "${name}"."t"`);
  }, 180_000);
});
