// Issue 13 (3): rows written with FOREIGN_KEY_CHECKS=0 replay as MySQL wrote them. MySQL then
// checks nothing and cascades nothing: a dump's tree table whose rows reference later rows, a
// child row whose parent never comes, a parent deleted under its children (ON DELETE CASCADE
// does not run, NO ACTION does not refuse). The target must end with the same rows, and with
// its foreign keys still in place for the rows written afterwards with checks on.
import { describe, expect, test } from "bun:test";
import { currentPosition } from "../support/binlog.ts";
import { runCli, writeConfig } from "../support/cli.ts";
import { journalTransport, pipelineConfig } from "../support/pipeline.ts";
import { getMariadb, getTarget, TARGETS, uniqueName } from "../support/servers.ts";

describe.each(TARGETS)("rows written with FOREIGN_KEY_CHECKS=0 (%s)", (dialect) => {
  test("forward references, orphans and deletes under children apply unchecked and uncascaded; the keys stay and hold afterwards", async () => {
    const db = await getMariadb();
    const target = await getTarget(dialect);
    const name = uniqueName("unchecked");
    await target.createDatabase(name);
    const from = await currentPosition();
    const c = await db.connect();
    await c.query(`CREATE DATABASE ${name}; USE ${name};
      CREATE TABLE tree (id INT PRIMARY KEY, up INT NULL, CONSTRAINT tree_up FOREIGN KEY (up) REFERENCES tree (id) ON DELETE CASCADE);
      CREATE TABLE parent (id INT PRIMARY KEY);
      CREATE TABLE child (id INT PRIMARY KEY, p INT NOT NULL, CONSTRAINT child_p FOREIGN KEY (p) REFERENCES parent (id) ON DELETE CASCADE ON UPDATE CASCADE);
      CREATE TABLE note (id INT PRIMARY KEY, p INT NULL, CONSTRAINT note_p FOREIGN KEY (p) REFERENCES parent (id));
      INSERT INTO parent VALUES (1), (2), (3);
      INSERT INTO child VALUES (10, 1), (20, 2), (30, 3);
      INSERT INTO note VALUES (100, 1)`);
    await c.query(`SET FOREIGN_KEY_CHECKS = 0;
      INSERT INTO tree VALUES (1, NULL), (2, 5), (3, 2), (5, 1);
      INSERT INTO child VALUES (40, 99);
      DELETE FROM parent WHERE id = 1;
      UPDATE parent SET id = 22 WHERE id = 2;
      BEGIN; INSERT INTO tree VALUES (7, 8); INSERT INTO tree VALUES (8, 1); UPDATE note SET p = 77 WHERE id = 100; COMMIT;
      SET FOREIGN_KEY_CHECKS = 1`);
    // With checks on again: MySQL cascades this delete (not in the binlog), the target must too.
    await c.query(`DELETE FROM parent WHERE id = 3; INSERT INTO tree VALUES (9, 7)`);
    const [source] = await c.query(
      `SELECT 'tree' AS t, id, up AS ref FROM tree UNION ALL SELECT 'child', id, p FROM child UNION ALL SELECT 'note', id, p FROM note UNION ALL SELECT 'parent', id, NULL FROM parent ORDER BY 1, 2`,
    );
    await c.end();
    const cfg = await pipelineConfig(db, target, name, name, from, journalTransport().toml);
    expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);
    const k = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
    expect({ code: k.code, errors: k.stderr.split("\n").filter((l) => l.includes("ERROR")) }).toEqual({ code: 0, errors: [] });
    expect(k.stderr).toMatch(/written with FOREIGN_KEY_CHECKS=0/);
    const sql = target.sql(name);
    try {
      const rows = await sql.unsafe(
        `SELECT 'tree' AS t, id, up AS ref FROM "${name}".tree UNION ALL SELECT 'child', id, p FROM "${name}".child UNION ALL SELECT 'note', id, p FROM "${name}".note UNION ALL SELECT 'parent', id, NULL FROM "${name}".parent ORDER BY 1, 2`,
      );
      expect(rows.map((r) => ({ t: r.t, id: Number(r.id), ref: r.ref === null ? null : Number(r.ref) }))).toEqual(
        (source as unknown as Array<{ t: string; id: number; ref: number | null }>).map((r) => ({ t: r.t, id: Number(r.id), ref: r.ref === null ? null : Number(r.ref) })),
      );
      // The source kept child 10 and 20 (no cascade under checks off) and lost child 30 (cascaded).
      expect(rows.filter((r) => r.t === "child").map((r) => Number(r.id))).toEqual([10, 20, 40]);
      // Every key is still there, with its action, and still refuses a new orphan.
      const keys = await sql.unsafe(
        `SELECT k.conname AS name, k.confdeltype::text AS del FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace WHERE n.nspname = $1 AND k.contype = 'f' ORDER BY 1`,
        [name],
      );
      expect(keys.map((r) => [r.name, r.del])).toEqual([
        ["child_p", "c"],
        ["note_p", "a"],
        ["tree_up", "c"],
      ]);
      const orphan = await sql.unsafe(`INSERT INTO "${name}".child VALUES (50, 12345)`).then(
        () => "inserted",
        (e: { code?: string }) => e.code,
      );
      expect(orphan).toBe("23503");
    } finally {
      await sql.end();
    }
    const check = await runCli(["check", "--config", cfg, "--data"]);
    expect({ code: check.code, out: check.code === 0 ? "" : check.stdout }).toEqual({ code: 0, out: "" });
  }, 180_000);

  test("a transaction too large to hold (streamed in chunks) written with FOREIGN_KEY_CHECKS=0 applies unchecked too", async () => {
    const db = await getMariadb();
    const target = await getTarget(dialect);
    const name = uniqueName("uncheckedbig");
    await target.createDatabase(name);
    const from = await currentPosition();
    const c = await db.connect();
    await c.query(`CREATE DATABASE ${name}; USE ${name};
      CREATE TABLE parent (id INT PRIMARY KEY);
      CREATE TABLE link (id INT PRIMARY KEY, p INT NOT NULL, CONSTRAINT link_p FOREIGN KEY (p) REFERENCES parent (id) ON DELETE CASCADE)`);
    // More rows than the sink holds (assembler.ts LARGE_ITEMS), children first, as a dump of a narrow join table loads them.
    await c.query(`SET FOREIGN_KEY_CHECKS = 0; BEGIN;
      INSERT INTO link SELECT seq, seq % 1000 + 1 FROM seq_1_to_25000;
      INSERT INTO parent SELECT seq FROM seq_1_to_999;
      COMMIT; SET FOREIGN_KEY_CHECKS = 1`);
    await c.end();
    const cfg = await pipelineConfig(db, target, name, name, from, journalTransport().toml);
    expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);
    const k = await runCli(["sink", "--config", cfg, "--stop-at-end"], { timeoutMs: 300_000 });
    expect({ code: k.code, errors: k.stderr.split("\n").filter((l) => l.includes("ERROR")) }).toEqual({ code: 0, errors: [] });
    expect(k.stderr).toMatch(/written with FOREIGN_KEY_CHECKS=0.*link_p of uncheckedbig_\w+\.link/);
    const sql = target.sql(name);
    try {
      const [n] = await sql.unsafe(`SELECT count(*)::int AS links, count(DISTINCT p)::int AS parents FROM "${name}".link`);
      expect({ ...n }).toEqual({ links: 25_000, parents: 1000 });
      const [key] = await sql.unsafe(`SELECT convalidated AS valid FROM pg_constraint WHERE conname = 'link_p'`);
      expect(key?.valid).toBe(false);
    } finally {
      await sql.end();
    }
    const check = await runCli(["check", "--config", cfg, "--data"], { timeoutMs: 120_000 });
    expect({ code: check.code, out: check.code === 0 ? "" : check.stdout }).toEqual({ code: 0, out: "" });
  }, 400_000);
});

describe.each(TARGETS)("DROP DATABASE with FOREIGN_KEY_CHECKS=0 (%s)", (dialect) => {
  test("keys of other databases' tables into the dropped one wait for it, as MySQL leaves them dangling, and come back with it", async () => {
    const db = await getMariadb();
    const target = await getTarget(dialect);
    const name = uniqueName("dropdb");
    const [a, b] = [`${name}_a`, `${name}_b`];
    await target.createDatabase(name);
    const from = await currentPosition();
    const c = await db.connect();
    await c.query(`CREATE DATABASE ${a}; CREATE DATABASE ${b};
      CREATE TABLE ${a}.parent (id INT PRIMARY KEY);
      CREATE TABLE ${b}.child (id INT PRIMARY KEY, p INT, CONSTRAINT child_p FOREIGN KEY (p) REFERENCES ${a}.parent (id) ON DELETE CASCADE);
      INSERT INTO ${a}.parent VALUES (1), (2); INSERT INTO ${b}.child VALUES (10, 1), (20, 2)`);
    await c.query(`SET FOREIGN_KEY_CHECKS = 0; DROP DATABASE ${a}; SET FOREIGN_KEY_CHECKS = 1`);
    await c.query(`CREATE DATABASE ${a}; CREATE TABLE ${a}.parent (id INT PRIMARY KEY); INSERT INTO ${a}.parent VALUES (1), (2); DELETE FROM ${a}.parent WHERE id = 2`);
    const [rows] = await c.query(`SELECT id FROM ${b}.child ORDER BY id`);
    await c.end();
    // The key came back with the parent on the source: the delete cascaded there.
    expect((rows as Array<{ id: number }>).map((r) => r.id)).toEqual([10]);
    const cfg = await writeConfig(`
[source]
port = ${db.port}
user = "root"
password = ""
databases = ["${a}", "${b}"]
start = "file:${from.file}:${from.pos}"

${journalTransport().toml}

[target]
${target.targetToml(name)}
`);
    expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);
    const k = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
    expect({ code: k.code, errors: k.stderr.split("\n").filter((l) => l.includes("ERROR")) }).toEqual({ code: 0, errors: [] });
    expect(k.stderr).toMatch(/foreign key child_p of dropdb_\w+_b\.child waits for table dropdb_\w+_a\.parent again: it was dropped with FOREIGN_KEY_CHECKS=0/);
    const sql = target.sql(name);
    try {
      const keys = await sql.unsafe(
        `SELECT k.conname AS name, k.confdeltype::text AS del FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace WHERE n.nspname = $1 AND k.contype = 'f'`,
        [b],
      );
      expect(keys.map((r) => [r.name, r.del])).toEqual([["child_p", "c"]]);
      const child = await sql.unsafe(`SELECT id FROM "${b}".child ORDER BY id`);
      expect(child.map((r) => Number(r.id))).toEqual([10]);
    } finally {
      await sql.end();
    }
  }, 180_000);
});
