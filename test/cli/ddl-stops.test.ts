// The sink's stops on DDL and data say what failed and what to do, with the binary:
// a foreign key to a table the target lacks (FOREIGN_KEY_CHECKS=1: the source had it), a
// translated statement the target refuses, and a long statement that fails far from its start
// (the message quotes the part that failed, not the first 300 characters).
import { describe, expect, test } from "bun:test";
import { currentPosition } from "../support/binlog.ts";
import { runCli } from "../support/cli.ts";
import { journalTransport, pipelineConfig } from "../support/pipeline.ts";
import { getMariadb, getTarget, TARGETS, uniqueName } from "../support/servers.ts";
import { errorLine } from "../faults/support.ts";

describe.each(TARGETS)("sink stops that say what to do (%s)", (dialect) => {
  test("a foreign key to a table the target lacks stops naming it; once created by hand, a restart goes on", async () => {
    const db = await getMariadb();
    const pg = await getTarget(dialect);
    const name = uniqueName("fkstop");
    await pg.createDatabase(name);
    const c = await db.connect();
    // The parent predates the replicated range and the full copy missed it.
    await c.query(`CREATE DATABASE ${name}; CREATE TABLE ${name}.parent (id INT PRIMARY KEY)`);
    const sql = pg.sql(name);
    await sql.unsafe(`CREATE SCHEMA "${name}"`);
    const from = await currentPosition();
    await c.query(`CREATE TABLE ${name}.child (id INT PRIMARY KEY, p INT, CONSTRAINT child_p FOREIGN KEY (p) REFERENCES ${name}.parent (id) ON DELETE CASCADE)`);
    await c.query(`INSERT INTO ${name}.parent VALUES (1); INSERT INTO ${name}.child VALUES (10, 1); DELETE FROM ${name}.parent`);
    await c.end();
    const cfg = await pipelineConfig(db, pg, name, name, from, journalTransport().toml);
    try {
      expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);
      const stop = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
      expect(stop.code).toBe(1);
      const line = errorLine(stop.stderr);
      expect(line).toContain(
        `foreign key child_p of child: it references ${name}.parent, which does not exist on the target (schema ${name}). The source checked foreign keys when it ran the statement (FOREIGN_KEY_CHECKS=1), so it had that table: create it on the target as on the source (the full copy may have missed it) and restart the sink`,
      );
      expect(line).toMatch(/\[TARGET_DDL_INCOMPATIBLE at [^\]]+\]$/);
      await sql.unsafe(`CREATE TABLE "${name}"."parent" (id integer PRIMARY KEY)`);
      const again = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
      expect({ code: again.code, error: again.code === 0 ? "" : errorLine(again.stderr) }).toEqual({ code: 0, error: "" });
      // The cascade the binlog did not carry ran on the target too.
      expect([...(await sql.unsafe(`SELECT id FROM "${name}"."child"`))]).toEqual([]);
    } finally {
      await sql.end();
    }
  }, 120_000);

  test("a refused DDL statement and a failing row quote the part that failed and say what to do", async () => {
    const db = await getMariadb();
    const pg = await getTarget(dialect);
    const name = uniqueName("quote");
    await pg.createDatabase(name);
    const c = await db.connect();
    const cols = [...Array(40).keys()].map((i) => `column_with_a_long_name_${String(i).padStart(2, "0")}`);
    await c.query(`CREATE DATABASE ${name}; CREATE TABLE ${name}.wide (id INT PRIMARY KEY, ${cols.map((x) => `${x} INT`).join(", ")})`);
    const sql = pg.sql(name);
    // The target copy lacks one column near the end, and has a relation where an index goes.
    await sql.unsafe(`CREATE SCHEMA "${name}"; CREATE TABLE "${name}".wide (id integer PRIMARY KEY, ${cols
      .filter((x) => !x.endsWith("37"))
      .map((x) => `${x} integer`)
      .join(", ")});
      CREATE TABLE "${name}".items_k (a integer)`);
    const from = await currentPosition();
    await c.query(`CREATE TABLE ${name}.items (a INT, KEY k (a))`);
    const cfg = await pipelineConfig(db, pg, name, name, from, journalTransport().toml);
    try {
      expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);
      const ddl = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
      expect(ddl.code).toBe(1);
      const line = errorLine(ddl.stderr);
      expect(line).toContain(
        `the target refused statement 2 of 2 translated from the DDL "CREATE TABLE ${name}.items (a INT, KEY k (a))": relation "items_k" already exists; statement: CREATE INDEX "items_k"`,
      );
      expect(line).toMatch(
        /Nothing of the transaction was applied\. Make the target able to run it .* and restart the sink, or apply an equivalent change by hand and resume with: gs-replicate sink --config FILE --skip-ddl \S+ \[TARGET_DATA at [^\]]+\]$/,
      );
      await sql.unsafe(`DROP TABLE "${name}".items_k`);

      await c.query(`INSERT INTO ${name}.wide (id, ${cols.join(", ")}) VALUES (1, ${cols.map((_, i) => i).join(", ")})`);
      expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);
      const row = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
      expect(row.code).toBe(1);
      const rowLine = errorLine(row.stderr);
      // The INSERT is over 1,000 characters; the missing column is far past its start.
      expect(rowLine).toContain('column "column_with_a_long_name_37" of relation "wide" does not exist');
      expect(rowLine).toMatch(/; statement: …[^;]*<<HERE>>"column_with_a_long_name_37"[^;]*… \(failed at character \d{3,} of \d{4,}\)/);
      expect(rowLine).toMatch(/\[TARGET_DATA at [^\]]+\]$/);
    } finally {
      await c.end();
      await sql.end();
    }
  }, 120_000);
});
