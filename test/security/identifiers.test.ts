// Hostile names cannot change the statements the sink generates. Every name here passes the
// AVRO rule (or is a target schema, which only [target] schema_mapping chooses) but is an SQL
// keyword, looks like a statement, or carries quotes, a backslash and semicolons. MariaDB →
// source → journal → sink → openGauss and PostgreSQL with DDL and DML through every statement
// kind; then exactly the expected schemas and tables were created and none dropped (compared
// with the catalog before the run: openGauss databases hold many schemas of their own), rows
// are equal on both sides, and the canary tables that the names try to drop are untouched.
import { describe, expect, test } from "bun:test";
import type postgres from "postgres";
import { quoteIdent } from "../../src/dialect/identifiers.ts";
import { currentPosition } from "../support/binlog.ts";
import { runCli, writeConfig } from "../support/cli.ts";
import { journalTransport } from "../support/pipeline.ts";
import { getMariadb, getTarget, TARGETS, uniqueName } from "../support/servers.ts";

const HOSTILE_SCHEMAS = ['x"; DROP TABLE t; --', "it's\\ a'; DROP SCHEMA canary CASCADE; --", 'canary"."t', "select", ' spaced  "" name '];

/** TOML basic string. */
const toml = (s: string) => JSON.stringify(s);

describe.each(TARGETS)("identifiers are always quoted (%s)", (dialect) => {
  test("quoteIdent: the target parses each hostile name back as exactly one identifier", async () => {
    const pg = await getTarget(dialect);
    const sql = pg.sql();
    try {
      for (const name of [...HOSTILE_SCHEMAS, "drop_table__x", "order", "from", "user", "group", "where", "a\nb", "é€"]) {
        const [row] = await sql.unsafe(`SELECT 1 AS ${quoteIdent(name)}`);
        expect(Object.keys(row!)).toEqual([name]);
      }
    } finally {
      await sql.end();
    }
  });

  test("end to end with keyword tables and columns and hostile mapped schemas: exactly those objects, equal rows, canaries untouched", async () => {
    const db = await getMariadb();
    const pg = await getTarget(dialect);
    const pgdb = uniqueName("hostile");
    await pg.createDatabase(pgdb);
    const shop = uniqueName("shop");
    const quoted = uniqueName("quoted");
    const gone = uniqueName("gone");
    const mapping = { [shop]: HOSTILE_SCHEMAS[0]!, [quoted]: HOSTILE_SCHEMAS[1]!, [gone]: HOSTILE_SCHEMAS[2]! };

    const target = pg.sql(pgdb);
    await target.unsafe(`CREATE TABLE public.t (id int PRIMARY KEY, v text); INSERT INTO public.t VALUES (1, 'canary');
      CREATE SCHEMA canary; CREATE TABLE canary.t (id int PRIMARY KEY, v text); INSERT INTO canary.t VALUES (1, 'canary')`);
    const schemasBefore = await schemaNames(target);
    const tablesBefore = await tableNames(target);

    const c = await db.connect();
    await c.query("DROP DATABASE IF EXISTS `select`");
    const from = await currentPosition();
    await c.query(`
      CREATE DATABASE \`select\`;
      CREATE TABLE \`select\`.\`order\` (\`from\` INT PRIMARY KEY, \`user\` VARCHAR(40) DEFAULT 'it''s; DROP TABLE t; --',
        \`group\` INT, \`where\` TEXT COMMENT 'x''; DROP TABLE t; --', KEY \`limit\` (\`group\`, \`user\`)) COMMENT '"; DROP TABLE t; --';
      CREATE TABLE \`select\`.drop_table__x (\`select\` INT, \`table\` VARCHAR(20));
      CREATE DATABASE ${shop};
      CREATE TABLE ${shop}.\`user\` (id INT PRIMARY KEY AUTO_INCREMENT, \`order\` VARCHAR(40) NOT NULL DEFAULT '\\\\''; --', \`check\` ENUM('a''b', 'c;d') NOT NULL);
      CREATE DATABASE ${quoted};
      CREATE TABLE ${quoted}.\`table\` (\`primary\` INT PRIMARY KEY, \`values\` TEXT, UNIQUE KEY \`unique\` (\`values\`(20)));
      CREATE DATABASE ${gone};
      CREATE TABLE ${gone}.t (id INT PRIMARY KEY);
      INSERT INTO ${gone}.t VALUES (1);
    `);
    await c.query(`
      INSERT INTO \`select\`.\`order\` VALUES (1, 'robert''); DROP TABLE t; --', 10, 'a "quoted" value; --'), (2, 'bob', 20, NULL), (3, DEFAULT, 30, '\\\\');
      UPDATE \`select\`.\`order\` SET \`user\` = 'x', \`where\` = '";' WHERE \`from\` = 2;
      DELETE FROM \`select\`.\`order\` WHERE \`from\` = 3;
      INSERT INTO \`select\`.drop_table__x VALUES (1, 'a'), (1, 'a'), (2, 'b');
      DELETE FROM \`select\`.drop_table__x WHERE \`select\` = 1 LIMIT 1;
      UPDATE \`select\`.drop_table__x SET \`table\` = '"; --' WHERE \`select\` = 2;
      INSERT INTO ${shop}.\`user\` (\`order\`, \`check\`) VALUES ('o1', 'a''b');
      INSERT INTO ${shop}.\`user\` (\`check\`) VALUES ('c;d');
      ALTER TABLE ${shop}.\`user\` ADD COLUMN \`limit\` INT NOT NULL DEFAULT 5, ADD INDEX \`index\` (\`limit\`);
      RENAME TABLE ${shop}.\`user\` TO ${shop}.\`grant\`;
      UPDATE ${shop}.\`grant\` SET \`limit\` = 6 WHERE id = 1;
      INSERT INTO ${quoted}.\`table\` VALUES (1, 'one'), (2, 'two');
      UPDATE ${quoted}.\`table\` SET \`values\` = 'deux' WHERE \`primary\` = 2;
      DROP DATABASE ${gone};
    `);

    const j = journalTransport();
    const cfg = writeConfig(`
[source]
port = ${db.port}
user = "root"
password = ""
databases = ["select", "${shop}", "${quoted}", "${gone}"]
start = "file:${from.file}:${from.pos}"

${j.toml}

[target]
${pg.targetToml(pgdb)}
schema_mapping = { ${Object.entries(mapping)
      .map(([k, v]) => `${k} = ${toml(v)}`)
      .join(", ")} }
`);
    const s = await runCli(["source", "--config", cfg, "--stop-at-end"]);
    expect(s.stderr).not.toContain("ERROR");
    expect(s.code).toBe(0);
    const k = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
    expect(k.stderr).not.toContain("ERROR");
    expect(k.code).toBe(0);

    // Exactly the expected schemas and tables: the names created nothing else and dropped nothing.
    const schemasAfter = await schemaNames(target);
    expect(schemasAfter.filter((n) => !schemasBefore.includes(n)).sort()).toEqual(["select", mapping[shop]!, mapping[quoted]!].sort());
    expect(schemasBefore.filter((n) => !schemasAfter.includes(n))).toEqual([]);
    const tablesAfter = await tableNames(target);
    expect(tablesAfter.filter((n) => !tablesBefore.includes(n)).sort()).toEqual(
      ["select|order", "select|drop_table__x", `${mapping[shop]}|grant`, `${mapping[quoted]}|table`].sort(),
    );
    expect(tablesBefore.filter((n) => !tablesAfter.includes(n))).toEqual([]);
    for (const canary of ["public.t", "canary.t"]) {
      const rows = await target.unsafe(`SELECT id, v FROM ${canary}`);
      expect(rows.map((r) => [r.id as number, r.v as string])).toEqual([[1, "canary"]]);
    }

    // Rows equal on both sides, compared as text.
    const compare: Array<[string, string, string, string[]]> = [
      ["select", "order", "select", ["from", "user", "group", "where"]],
      ["select", "drop_table__x", "select", ["select", "table"]],
      [shop, "grant", mapping[shop]!, ["id", "order", "check", "limit"]],
      [quoted, "table", mapping[quoted]!, ["primary", "values"]],
    ];
    for (const [mdb, table, schema, cols] of compare) {
      const [src] = (await c.query(`SELECT ${cols.map((x) => `CAST(\`${x}\` AS CHAR)`).join(", ")} FROM \`${mdb}\`.\`${table}\``)) as unknown as [Array<Record<string, unknown>>];
      const dst = await target.unsafe(`SELECT ${cols.map((x) => `${quoteIdent(x)}::text`).join(", ")} FROM ${quoteIdent(schema)}.${quoteIdent(table)}`);
      const norm = (rows: Array<Record<string, unknown>>) => rows.map((r) => JSON.stringify(Object.values(r))).sort();
      expect(src.length).toBeGreaterThan(0);
      expect(norm([...dst])).toEqual(norm(src));
    }
    // Defaults and comments carrying quotes arrived as the values they are.
    const [comment] = await target.unsafe(`SELECT obj_description(${literalRegclass("select", "order")}, 'pg_class') AS c`);
    expect(comment?.c).toBe('"; DROP TABLE t; --');
    const [columnComment] = await target.unsafe(`SELECT col_description(${literalRegclass("select", "order")}, 4) AS c`);
    expect(columnComment?.c).toBe("x'; DROP TABLE t; --");
    for (const [schema, table, column, value] of [
      ["select", "order", "user", "it's; DROP TABLE t; --"],
      [mapping[shop]!, "grant", "order", "\\'; --"],
    ] as const) {
      const [d] = await target.unsafe(`SELECT column_default AS d FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 AND column_name = $3`, [
        schema,
        table,
        column,
      ]);
      const [v] = await target.unsafe(`SELECT (${d?.d as string})::text AS v`);
      expect(v?.v).toBe(value);
    }
    await c.query("DROP DATABASE `select`");
    await c.end();
    await target.end();
  }, 120_000);
});

/** Schemas of the database, the sink's own (gs_replicate, gs_replicate_guard) left out. */
async function schemaNames(sql: postgres.Sql): Promise<string[]> {
  const rows = await sql.unsafe(`SELECT nspname AS n FROM pg_namespace WHERE nspname NOT IN ('gs_replicate', 'gs_replicate_guard')`);
  return rows.map((r) => r.n as string);
}

/** "schema|table" of every ordinary table outside the sink's own schema. */
async function tableNames(sql: postgres.Sql): Promise<string[]> {
  const rows = await sql.unsafe(
    `SELECT n.nspname AS s, c.relname AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname <> 'gs_replicate'`,
  );
  return rows.map((r) => `${r.s as string}|${r.t as string}`);
}

/** `'"schema"."table"'::regclass` for a catalog lookup in the test itself. */
function literalRegclass(schema: string, table: string): string {
  return `'${`${quoteIdent(schema)}.${quoteIdent(table)}`.replace(/'/g, "''")}'::regclass`;
}
