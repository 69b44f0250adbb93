// DDL replayed mid-stream, end to end (MariaDB → source → journal → sink → PostgreSQL): the
// target's tables are created and changed by the replicated statements themselves, and after
// each step the target's rows equal the source's.
import { describe, expect, test } from "bun:test";
import { getMariadb, getTarget, TARGETS, uniqueName } from "../support/servers.ts";
import { currentPosition } from "../support/binlog.ts";
import { runCli } from "../support/cli.ts";
import { bothSides, journalTransport, pipelineConfig } from "../support/pipeline.ts";

describe.each(TARGETS)("DDL while rows keep flowing (%s)", (dialect) => {
  test("create, add/drop/rename column, change type, add/drop index, rename table, truncate, drop", async () => {
    const db = await getMariadb();
    const pg = await getTarget(dialect);
    const name = uniqueName("ddlflow");
    await pg.createDatabase(name);
    const c = await db.connect();
    await c.query(`CREATE DATABASE ${name}`);
    const sql = pg.sql(name);
    await sql.unsafe(`CREATE SCHEMA "${name}"`);
    const from = await currentPosition();
    const j = journalTransport();
    const cfg = await pipelineConfig(db, pg, name, name, from, j.toml, "workers = 4");
    const replicate = async () => {
      const s = await runCli(["source", "--config", cfg, "--stop-at-end"]);
      expect(s.stderr).not.toContain("ERROR");
      const k = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
      expect(k.stderr).not.toContain("ERROR");
      expect(k.code).toBe(0);
    };
    const same = async (table: string, mysqlCols: string, pgCols: string) => {
      const { src, dst } = await bothSides(db, pg, name, name, table, mysqlCols, pgCols);
      expect(dst).toEqual(src);
    };
    const q = (s: string) => c.query(s.replaceAll("DB", name));

    await q(`CREATE TABLE DB.items (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(40) NOT NULL, price DECIMAL(8,2) DEFAULT 0.00, UNIQUE KEY uq_name (name))`);
    await q(`INSERT INTO DB.items (name, price) VALUES ('a', 1.50), ('b', 2.25)`);
    await replicate();
    await same("items", "id, name, CAST(price AS CHAR)", "id, name, price::text");

    await q(`ALTER TABLE DB.items ADD COLUMN qty INT NOT NULL DEFAULT 0 AFTER name`);
    await q(`INSERT INTO DB.items (name, qty, price) VALUES ('c', 3, 9.99)`);
    await q(`UPDATE DB.items SET qty = 7 WHERE name = 'a'`);
    await replicate();
    await same("items", "id, name, qty, CAST(price AS CHAR)", "id, name, qty, price::text");

    await q(`ALTER TABLE DB.items CHANGE COLUMN qty quantity BIGINT NOT NULL DEFAULT 0, MODIFY price DECIMAL(10,3), ADD INDEX ix_q (quantity)`);
    await q(`INSERT INTO DB.items (name, quantity, price) VALUES ('d', 9000000000, 1.125)`);
    await replicate();
    await same("items", "id, name, quantity, CAST(price AS CHAR)", "id, name, quantity, price::text");

    await q(`ALTER TABLE DB.items DROP INDEX ix_q, DROP COLUMN quantity`);
    await q(`RENAME TABLE DB.items TO DB.products`);
    await q(`INSERT INTO DB.products (name, price) VALUES ('e', 0.5)`);
    await q(`DELETE FROM DB.products WHERE name = 'b'`);
    await replicate();
    await same("products", "id, name, CAST(price AS CHAR)", "id, name, price::text");

    await q(`TRUNCATE TABLE DB.products`);
    await q(`INSERT INTO DB.products (name, price) VALUES ('after truncate', 1)`);
    await replicate();
    await same("products", "id, name, CAST(price AS CHAR)", "id, name, price::text");

    await q(`DROP TABLE DB.products`);
    await replicate();
    const left = await sql.unsafe(`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1`, [name]);
    expect(left[0]!.n).toBe(0);
    await c.end();
    await sql.end();
  }, 120_000);
});
