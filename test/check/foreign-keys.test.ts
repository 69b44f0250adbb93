// check target.foreign_keys: the source's cascades are not in the binlog, so a target without
// the same foreign key silently keeps rows the source deleted. Against real servers: each kind
// of difference between a MariaDB schema and a target made by hand, and the orphans it leaves.
import { describe, expect, test } from "bun:test";
import { runPreflight } from "../../src/check/run.ts";
import { getMariadb, getTarget, TARGETS, uniqueName } from "../support/servers.ts";
import { checkConfig } from "./support.ts";

describe.each(TARGETS)("check target.foreign_keys (%s)", (dialect) => {
  test("a cascading key missing or different on the target fails; one without cascades warns; target-only keys too; a dangling one warns", async () => {
    const db = await getMariadb();
    const target = await getTarget(dialect);
    const name = uniqueName("chk_fk");
    const c = await db.connect();
    await c.query(`CREATE DATABASE ${name}; USE ${name};
      CREATE TABLE parent (id INT PRIMARY KEY);
      CREATE TABLE kept (id INT PRIMARY KEY, p INT, CONSTRAINT kept_fk FOREIGN KEY (p) REFERENCES parent (id) ON DELETE CASCADE);
      CREATE TABLE gone (id INT PRIMARY KEY, p INT, CONSTRAINT gone_fk FOREIGN KEY (p) REFERENCES parent (id) ON DELETE CASCADE);
      CREATE TABLE weaker (id INT PRIMARY KEY, p INT, CONSTRAINT weaker_fk FOREIGN KEY (p) REFERENCES parent (id) ON DELETE SET NULL);
      CREATE TABLE plain (id INT PRIMARY KEY, p INT, CONSTRAINT plain_fk FOREIGN KEY (p) REFERENCES parent (id));
      CREATE TABLE extra (id INT PRIMARY KEY, p INT);
      SET FOREIGN_KEY_CHECKS = 0;
      CREATE TABLE dangling (id INT PRIMARY KEY, p INT, CONSTRAINT dangling_fk FOREIGN KEY (p) REFERENCES ghost (id) ON DELETE CASCADE);
      SET FOREIGN_KEY_CHECKS = 1`);
    await c.end();
    await target.createDatabase(name);
    const sql = target.sql(name);
    const s = `"${name}"`;
    await sql.unsafe(`CREATE SCHEMA ${s};
      CREATE TABLE ${s}.parent (id integer PRIMARY KEY);
      CREATE TABLE ${s}.kept (id integer PRIMARY KEY, p integer, CONSTRAINT kept_fk FOREIGN KEY (p) REFERENCES ${s}.parent (id) ON DELETE CASCADE);
      CREATE TABLE ${s}.gone (id integer PRIMARY KEY, p integer);
      CREATE TABLE ${s}.weaker (id integer PRIMARY KEY, p integer, CONSTRAINT weaker_fk FOREIGN KEY (p) REFERENCES ${s}.parent (id));
      CREATE TABLE ${s}.plain (id integer PRIMARY KEY, p integer);
      CREATE TABLE ${s}.extra (id integer PRIMARY KEY, p integer, CONSTRAINT extra_fk FOREIGN KEY (p) REFERENCES ${s}.parent (id) ON DELETE CASCADE);
      CREATE TABLE ${s}.dangling (id integer PRIMARY KEY, p integer)`);
    try {
      const results = (await runPreflight(checkConfig(db, target, name, name))).filter((r) => r.id === "target.foreign_keys");
      const by = (object: string) => results.filter((r) => r.object === object).map((r) => `${r.status}: ${r.found}`);
      expect(results[0]).toEqual({ id: "target.foreign_keys", status: "ok", found: "1 of 5 foreign key(s) of the source exist on the target with the same columns and actions" });
      expect(by(`${name}.gone`)).toEqual([
        `fail: foreign key gone_fk (p) → ${name}.parent (id) ON DELETE CASCADE ON UPDATE NO ACTION is missing on the target: the source's cascades change rows without logging them, so the target diverges (keeps rows the source deleted or changed)`,
      ]);
      expect(results.find((r) => r.object === `${name}.gone`)!.fix).toBe(
        `ALTER TABLE "${name}"."gone" ADD CONSTRAINT "gone_fk" FOREIGN KEY ("p") REFERENCES "${name}"."parent" ("id") ON DELETE CASCADE ON UPDATE NO ACTION (add NOT VALID if existing rows may not match)`,
      );
      expect(by(`${name}.weaker`)[0]).toStartWith(
        `fail: foreign key weaker_fk (p) → ${name}.parent (id) ON DELETE SET NULL ON UPDATE NO ACTION is on the target as weaker_fk → ${name}.parent (id) ON DELETE NO ACTION ON UPDATE NO ACTION`,
      );
      expect(by(`${name}.plain`)).toEqual([
        `warn: foreign key plain_fk (p) → ${name}.parent (id) ON DELETE NO ACTION ON UPDATE NO ACTION is missing on the target: replication stays exact (the source enforces it), but the target does not`,
      ]);
      expect(by(`${name}.dangling`)[0]).toStartWith(
        `warn: foreign key dangling_fk (p) → ${name}.ghost (id) ON DELETE CASCADE ON UPDATE NO ACTION is missing on the target; ${name}.ghost does not exist on the source either`,
      );
      expect(by(`${name}.extra`)).toEqual([
        `fail: target-only foreign key extra_fk (p) → ${name}.parent ON DELETE CASCADE ON UPDATE NO ACTION: the target changes rows the source keeps`,
      ]);
      expect(by(`${name}.kept`)).toEqual([]);
    } finally {
      await sql.end();
    }
  }, 60_000);
});
