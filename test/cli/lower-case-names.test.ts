// A source with lower_case_table_names=1 (common where MySQL came from Windows): the server
// stores database and table names in lower case and its row events carry them so, while the
// binlog keeps every DDL statement in the case its client wrote. Source and sink must agree
// on one spelling on the target, and a `databases` filter written in mixed case must still
// keep the rows (a silent loss otherwise).
import { describe, expect, test } from "bun:test";
import { getTarget, startMariadb, TARGETS, uniqueName } from "../support/servers.ts";
import { runCli } from "../support/cli.ts";
import { journalTransport, pipelineConfig } from "../support/pipeline.ts";

describe.each(TARGETS)("lower_case_table_names=1 source (%s)", (dialect) => {
  test("mixed-case DDL and rows of a lower_case_table_names=1 source land in one lower-case table", async () => {
    const db = await startMariadb({ extraArgs: ["--lower-case-table-names=1"] });
    try {
      const pg = await getTarget(dialect);
      const name = uniqueName("lctn");
      await pg.createDatabase(name);
      const c = await db.connect();
      const [[p]] = (await c.query("SHOW MASTER STATUS")) as unknown as [[{ File: string; Position: number }]];
      await c.query("CREATE DATABASE MixedDb");
      await c.query("CREATE TABLE MixedDb.MyTable (Id INT PRIMARY KEY, Val VARCHAR(10))");
      await c.query("INSERT INTO MixedDb.MyTable VALUES (1, 'a'), (2, 'b')");
      await c.query("UPDATE MixedDb.MYTABLE SET Val = 'c' WHERE Id = 2");
      await c.query("ALTER TABLE mixeddb.MyTaBle ADD COLUMN Extra INT");
      await c.query("INSERT INTO MIXEDDB.mytable VALUES (3, 'd', 7)");
      await c.query("RENAME TABLE MixedDb.MyTable TO MixedDb.Renamed");
      await c.query("DELETE FROM MixedDb.RENAMED WHERE Id = 1");
      const [src] = (await c.query("SELECT Id, Val, Extra FROM mixeddb.renamed ORDER BY Id")) as unknown as [Array<Record<string, unknown>>];
      await c.end();
      const cfg = await pipelineConfig(db, pg, "MixedDb", name, { file: p.File, pos: p.Position }, journalTransport().toml);
      expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);
      const r = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
      expect(r.stderr).not.toContain("ERROR");
      expect(r.code).toBe(0);
      const sql = pg.sql(name);
      const tables = await sql.unsafe(`SELECT table_schema, table_name FROM information_schema.tables WHERE lower(table_schema) = 'mixeddb' ORDER BY 2`);
      expect(tables.map((t) => `${t.table_schema}.${t.table_name}`)).toEqual(["mixeddb.renamed"]);
      const dst = await sql.unsafe(`SELECT "Id", "Val", "Extra" FROM mixeddb.renamed ORDER BY "Id"`);
      await sql.end();
      expect(dst.map((row) => ({ ...row }) as Record<string, unknown>)).toEqual(src.map((row) => ({ Id: row.Id, Val: row.Val, Extra: row.Extra })));
      expect(dst.length).toBe(2);
    } finally {
      await db.stop();
    }
  }, 120_000);
});
