// A schema dump replayed as MySQL replays it: mariadb-dump's script (tables in alphabetical
// order under FOREIGN_KEY_CHECKS=0, so children before their parents; foreign key names of
// exactly 64 bytes; ON DELETE CASCADE and SET NULL) loaded into MariaDB while source and sink
// run, with a sink restart between the halves; then deletes on parents, whose cascades the
// binlog does not carry. The target ends equal (check --data) with every foreign key created.
import { describe, expect, test } from "bun:test";
import { currentPosition, readItems } from "../support/binlog.ts";
import { runCli } from "../support/cli.ts";
import { journalTransport, pipelineConfig } from "../support/pipeline.ts";
import { getMariadb, getTarget, type MariaDb, TARGETS, uniqueName } from "../support/servers.ts";
import { spawnCli, until } from "../faults/support.ts";
import { dumpOf, mariadbClient } from "../support/mariadb-tools.ts";
import { fitName } from "../../src/dialect/ddl-names.ts";

const TABLES = 200;
const LEVELS = 4;
const ROWS = 6;

/** A 64-byte foreign key name (MySQL's longest; the target's limit is 63). */
const fkName = (k: number, child: string, parent: string) => `fk${k}_${child}_${parent}_`.padEnd(64, "x");
const table = (i: number) => `t_${String(i).padStart(3, "0")}`;

/**
 * The schema: table i sits at level (i·37) mod 4, so levels are scattered across the
 * alphabetical order and about half the references point forward; each table below level 0
 * references one table of the level above ON DELETE CASCADE, some a second one ON DELETE SET
 * NULL. Cascades stay within InnoDB's depth limit (15). One self-referencing tree table.
 */
function schema(): { create: string[]; fill: string[]; keys: number } {
  const level = (i: number) => (i * 37) % LEVELS;
  const at = (l: number) => [...Array(TABLES).keys()].filter((i) => level(i) === l);
  const create: string[] = [];
  const fill: string[] = [];
  let keys = 1;
  for (const i of [...Array(TABLES).keys()].sort((a, b) => level(a) - level(b))) {
    const l = level(i);
    const cols = ["id INT PRIMARY KEY", "note VARCHAR(20)"];
    const fks: string[] = [];
    const values: string[] = [];
    if (l > 0) {
      const up = at(l - 1);
      const p1 = up[(i * 7) % up.length]!;
      const p2 = up[(i * 11 + 3) % up.length]!;
      cols.push("p1 INT NOT NULL");
      fks.push(`CONSTRAINT ${fkName(1, table(i), table(p1))} FOREIGN KEY (p1) REFERENCES ${table(p1)} (id) ON DELETE CASCADE ON UPDATE CASCADE`);
      if (i % 3 === 0) {
        cols.push("p2 INT NULL");
        fks.push(`CONSTRAINT ${fkName(2, table(i), table(p2))} FOREIGN KEY (p2) REFERENCES ${table(p2)} (id) ON DELETE SET NULL ON UPDATE CASCADE`);
      }
    }
    for (let id = 1; id <= ROWS; id++) {
      const refs = l === 0 ? [] : [((id + i) % ROWS) + 1, ...(i % 3 === 0 ? [((id * 5 + i) % ROWS) + 1] : [])];
      values.push(`(${[id, `'row ${id}'`, ...refs].join(", ")})`);
    }
    keys += fks.length;
    create.push(`CREATE TABLE ${table(i)} (${[...cols, ...fks].join(", ")}) ENGINE=InnoDB`);
    fill.push(`INSERT INTO ${table(i)} VALUES ${values.join(", ")}`);
  }
  create.push(`CREATE TABLE t_tree (id INT PRIMARY KEY, up INT NULL, CONSTRAINT ${fkName(1, "t_tree", "t_tree")} FOREIGN KEY (up) REFERENCES t_tree (id) ON DELETE CASCADE)`);
  fill.push(`INSERT INTO t_tree VALUES ${[...Array(40).keys()].map((k) => `(${k + 1}, ${k === 0 ? "NULL" : Math.floor((k + 1) / 2)})`).join(", ")}`);
  return { create, fill, keys };
}

test("the binlog's session flags say which DDL ran with FOREIGN_KEY_CHECKS=0 (Q_FLAGS2 bit 26), and the source's DDL items carry it", async () => {
  const db = await getMariadb();
  const name = uniqueName("fkflag");
  const c = await db.connect();
  await c.query(`CREATE DATABASE ${name}`);
  const from = await currentPosition();
  await c.query(
    `USE ${name}; SET FOREIGN_KEY_CHECKS = 0; CREATE TABLE a (id INT PRIMARY KEY, p INT, FOREIGN KEY (p) REFERENCES b (id)); SET FOREIGN_KEY_CHECKS = 1; CREATE TABLE b (id INT PRIMARY KEY); SET unique_checks = 0; CREATE TABLE c (id INT)`,
  );
  await c.end();
  const ddl = (await readItems([name], from)).flatMap((i) => (i.kind === "ddl" ? [{ statement: i.statement.slice(0, 14), off: i.noForeignKeyChecks === true }] : []));
  expect(ddl).toEqual([
    { statement: "CREATE TABLE a", off: true },
    { statement: "CREATE TABLE b", off: false },
    { statement: "CREATE TABLE c", off: false },
  ]);
});

describe.each(TARGETS)("a schema dump with forward foreign keys (%s)", (dialect) => {
  test(`${TABLES} tables in alphabetical order under FOREIGN_KEY_CHECKS=0 replay with no intervention; cascades match`, async () => {
    const db = await getMariadb();
    const pg = await getTarget(dialect);
    const name = uniqueName("dump");
    const stage = `${name}_stage`;
    await pg.createDatabase(name);
    const c = await db.connect();
    // The schema is built elsewhere, in dependency order, and dumped as a DBA would.
    const s = schema();
    await c.query(`CREATE DATABASE ${stage}; USE ${stage}; ${s.create.join(";\n")}; ${s.fill.join(";\n")}`);
    const dump = await dumpOf(db, stage);
    expect(dump).toContain("SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0");
    const cut = dump.indexOf("DROP TABLE IF EXISTS `t_100`");
    const header = dump.slice(0, dump.indexOf("DROP TABLE IF EXISTS `t_000`"));
    const [first, second] = [dump.slice(0, cut), header + dump.slice(cut)];
    await c.query(`CREATE DATABASE ${name}`);
    const target = pg.sql(name);
    await target.unsafe(`CREATE SCHEMA "${name}"`);
    const from = await currentPosition();
    const j = journalTransport();
    const cfg = await pipelineConfig(db, pg, name, name, from, j.toml, "workers = 4");
    try {
      // The first half, replayed and stopped: the children's keys to the second half's tables
      // wait in the checkpoint across the restart.
      await mariadbClient(db, [name], first);
      expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);
      const k1 = await runCli(["sink", "--config", cfg, "--stop-at-end"], { timeoutMs: 300_000 });
      expect({ code: k1.code, errors: k1.stderr.split("\n").filter((l) => l.includes("ERROR")) }).toEqual({ code: 0, errors: [] });
      const [waiting] = await target.unsafe(`SELECT count(*)::int AS n FROM gs_replicate.pending_foreign_keys WHERE schema_name = $1`, [name]);
      expect(waiting!.n).toBeGreaterThan(10);
      expect(k1.stderr).toMatch(
        /foreign key fk1_t_0\d\d_t_1\d\d_x+_[0-9a-f]{8} of dump_\w+\.t_0\d\d waits for table dump_\w+\.t_1\d\d, which does not exist yet \(FOREIGN_KEY_CHECKS=0\)/,
      );
      expect(k1.stderr).toMatch(
        /foreign key fk1_t_\d+_t_\d+_x+ of t_\d+ is "fk1_t_\d+_t_\d+_x+_[0-9a-f]{8}" on the target: "fk1_t_\d+_t_\d+_x{17,}" is longer than the target's 63-byte limit for names/,
      );

      // The second half while both run, then deletes on parents (level 0) and in the tree.
      const source = spawnCli(["source", "--config", cfg]);
      const sink = spawnCli(["sink", "--config", cfg]);
      await mariadbClient(db, [name], second);
      const roots = [...Array(TABLES).keys()].filter((i) => (i * 37) % LEVELS === 0).slice(0, 8);
      const before = await rowCount(c, name);
      for (const i of roots) await c.query(`DELETE FROM ${name}.${table(i)} WHERE id IN (1, 2)`);
      await c.query(`DELETE FROM ${name}.t_tree WHERE id = 2`);
      await c.query(`UPDATE ${name}.${table(roots[0]!)} SET id = 100 WHERE id = 3`);
      // Cascades ran on the source, and the binlog holds only the rows deleted directly.
      expect(before - (await rowCount(c, name))).toBeGreaterThan(roots.length * 2 + 1 + 50);
      await c.query(`CREATE TABLE ${name}.zz_done (id INT PRIMARY KEY); INSERT INTO ${name}.zz_done VALUES (1)`);
      // zz_done's CREATE is a barrier: once its row is there, everything before it is applied.
      await until(
        "the sink to apply the marker row",
        async () => (await target.unsafe(`SELECT 1 FROM "${name}"."zz_done" WHERE id = 1`).catch(() => [])).length === 1,
        300_000,
        500,
      );
      const so = await source.stop();
      const si = await sink.stop();
      expect({ code: so.code, errors: so.stderr.split("\n").filter((l) => l.includes("ERROR")) }).toEqual({ code: 0, errors: [] });
      expect({ code: si.code, errors: si.stderr.split("\n").filter((l) => l.includes("ERROR")) }).toEqual({ code: 0, errors: [] });
      expect(si.stderr).toMatch(/pending since FOREIGN_KEY_CHECKS=0, is created now that dump_\w+\.t_1\d\d exists/);

      // Every foreign key exists on the target, with the source's actions; none is left waiting.
      const [pending] = await target.unsafe(`SELECT count(*)::int AS n FROM gs_replicate.pending_foreign_keys`);
      expect(pending!.n).toBe(0);
      const fks = await target.unsafe(
        `SELECT k.conname AS name, k.confdeltype::text AS del, k.convalidated AS valid FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace WHERE n.nspname = $1 AND k.contype = 'f'`,
        [name],
      );
      expect(fks.length).toBe(s.keys);
      expect(fks.every((f) => Buffer.byteLength(f.name as string) === 63)).toBe(true);
      expect(fks.filter((f) => f.del === "c").length).toBeGreaterThan(TABLES / 2);
      // The keys that waited for a table created later were added without checking the rows already there.
      const notValid = fks.filter((f) => f.valid === false).length;
      expect(notValid).toBeGreaterThan(10);

      const data = await runCli(["check", "--config", cfg, "--data"], { timeoutMs: 300_000 });
      expect({ code: data.code, out: data.code === 0 ? "" : data.stdout + data.stderr }).toEqual({ code: 0, out: "" });
      const pre = await runCli(["check", "--config", cfg, "--json"], { timeoutMs: 120_000 });
      const report = JSON.parse(pre.stdout) as { checks: Array<{ id: string; status: string; found: string; object?: string }> };
      expect(report.checks.filter((r) => r.id === "target.foreign_keys")).toEqual([
        {
          id: "target.foreign_keys",
          status: "ok",
          found: `all ${s.keys} foreign key(s) of the source exist on the target with the same columns and actions; ${notValid} created NOT VALID (existing rows not checked, as MySQL did under FOREIGN_KEY_CHECKS=0)`,
        },
      ]);
      // The mapping of the shortened names is listed per table.
      const names = report.checks.filter((r) => r.id === "schema.long_names");
      expect(names[0]!.found).toMatch(/^\d+ name\(s\) shortened with a hash suffix/);
      expect(
        names.find((r) => r.found.includes(`foreign key ${fkName(1, "t_tree", "t_tree")} "${fkName(1, "t_tree", "t_tree")}" is "${fitName(fkName(1, "t_tree", "t_tree"))}"`)),
      ).toBeDefined();
    } finally {
      await c.query(`DROP DATABASE IF EXISTS ${stage}`);
      await c.end();
      await target.end();
    }
  }, 900_000);
});

describe.each(TARGETS)("a dump loaded again, and TRUNCATE under FOREIGN_KEY_CHECKS=0 (%s)", (dialect) => {
  test("DROP TABLE IF EXISTS of referenced parents and TRUNCATE of a parent keep the children's rows and keys, as MySQL does", async () => {
    const db = await getMariadb();
    const pg = await getTarget(dialect);
    const name = uniqueName("reload");
    const stage = `${name}_stage`;
    await pg.createDatabase(name);
    const c = await db.connect();
    await c.query(`CREATE DATABASE ${stage}; USE ${stage};
      CREATE TABLE b_parent (id INT PRIMARY KEY);
      CREATE TABLE a_child (id INT PRIMARY KEY, p INT, CONSTRAINT a_child_p FOREIGN KEY (p) REFERENCES b_parent (id) ON DELETE CASCADE);
      CREATE TABLE c_note (id INT PRIMARY KEY, child INT, CONSTRAINT c_note_child FOREIGN KEY (child) REFERENCES a_child (id) ON DELETE SET NULL);
      INSERT INTO b_parent VALUES (1), (2), (3); INSERT INTO a_child VALUES (10, 1), (20, 2), (30, 3); INSERT INTO c_note VALUES (100, 10), (200, 20)`);
    const dump = await dumpOf(db, stage);
    await c.query(`CREATE DATABASE ${name}`);
    const target = pg.sql(name);
    await target.unsafe(`CREATE SCHEMA "${name}"`);
    const from = await currentPosition();
    const cfg = await pipelineConfig(db, pg, name, name, from, journalTransport().toml);
    try {
      await mariadbClient(db, [name], dump);
      // Loaded again: each DROP TABLE IF EXISTS drops a table the other tables' keys reference.
      await mariadbClient(db, [name], dump);
      await c.query(`USE ${name}; SET FOREIGN_KEY_CHECKS = 0; TRUNCATE TABLE b_parent; SET FOREIGN_KEY_CHECKS = 1; INSERT INTO b_parent VALUES (1), (2)`);
      // The cascades run on both: a_child 10 goes (and c_note 100 loses its child), 30 stays an orphan as on the source.
      await c.query(`DELETE FROM ${name}.b_parent WHERE id = 1`);
      expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);
      const k = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
      expect({ code: k.code, errors: k.stderr.split("\n").filter((l) => l.includes("ERROR")) }).toEqual({ code: 0, errors: [] });
      expect(k.stderr).toContain(`foreign key a_child_p of ${name}.a_child waits for table ${name}.b_parent again: it was dropped with FOREIGN_KEY_CHECKS=0`);
      expect(k.stderr).toContain(`TRUNCATE of ${name}.b_parent with FOREIGN_KEY_CHECKS=0 keeps the rows of ${name}.a_child, as MySQL does`);
      const rows = async (q: string) => [...(await target.unsafe(q))].map((r) => Object.values(r).map(String).join(":"));
      expect(await rows(`SELECT id, p FROM "${name}".a_child ORDER BY id`)).toEqual(["20:2", "30:3"]);
      expect(await rows(`SELECT id, coalesce(child::text, 'null') FROM "${name}".c_note ORDER BY id`)).toEqual(["100:null", "200:20"]);
      expect(await rows(`SELECT conname FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace WHERE n.nspname = '${name}' AND contype = 'f' ORDER BY 1`)).toEqual([
        "a_child_p",
        "c_note_child",
      ]);
      const data = await runCli(["check", "--config", cfg, "--data"]);
      expect({ code: data.code, out: data.code === 0 ? "" : data.stdout + data.stderr }).toEqual({ code: 0, out: "" });
    } finally {
      await c.query(`DROP DATABASE IF EXISTS ${stage}`);
      await c.end();
      await target.end();
    }
  }, 300_000);
});

async function rowCount(c: Awaited<ReturnType<MariaDb["connect"]>>, database: string): Promise<number> {
  const [tables] = (await c.query(`SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?`, [database])) as unknown as [Array<{ t: string }>];
  let total = 0;
  for (const { t } of tables) {
    const [[r]] = (await c.query(`SELECT COUNT(*) AS n FROM ${database}.${t}`)) as unknown as [[{ n: number }]];
    total += Number(r.n);
  }
  return total;
}

describe.each(TARGETS)("a pending foreign key whose referenced table is made on the target by hand (%s)", (dialect) => {
  test("the next DDL of any table creates it, or takes the one added by hand; none is left pending", async () => {
    const db = await getMariadb();
    const pg = await getTarget(dialect);
    const name = uniqueName("byhand");
    await pg.createDatabase(name);
    const from = await currentPosition();
    const c = await db.connect();
    await c.query(`CREATE DATABASE ${name}; USE ${name}; SET FOREIGN_KEY_CHECKS = 0;
      CREATE TABLE child_a (id INT PRIMARY KEY, p INT, CONSTRAINT fk_a FOREIGN KEY (p) REFERENCES parent_a (id));
      CREATE TABLE child_b (id INT PRIMARY KEY, p INT, CONSTRAINT fk_b FOREIGN KEY (p) REFERENCES parent_b (id));
      INSERT INTO child_a VALUES (1, 10); INSERT INTO child_b VALUES (1, 20)`);
    const cfg = await pipelineConfig(db, pg, name, name, from, journalTransport().toml);
    const target = pg.sql(name);
    try {
      expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);
      expect((await runCli(["sink", "--config", cfg, "--stop-at-end"])).code).toBe(0);
      const pending = async () =>
        [...(await target.unsafe(`SELECT constraint_name AS n FROM gs_replicate.pending_foreign_keys WHERE schema_name = $1 ORDER BY 1`, [name]))].map((r) => r.n as string);
      expect(await pending()).toEqual(["fk_a", "fk_b"]);
      // The referenced tables made on the target by hand (not replicated), and fk_b added by hand too.
      await target.unsafe(`CREATE TABLE "${name}".parent_a (id integer PRIMARY KEY); CREATE TABLE "${name}".parent_b (id integer PRIMARY KEY)`);
      await target.unsafe(`ALTER TABLE "${name}".child_b ADD CONSTRAINT fk_b FOREIGN KEY (p) REFERENCES "${name}".parent_b (id) NOT VALID`);
      // Any later DDL, of a table unrelated to both.
      await c.query(`SET FOREIGN_KEY_CHECKS = 1; CREATE TABLE unrelated (id INT PRIMARY KEY)`);
      expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);
      const sink = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
      expect({ code: sink.code, errors: sink.stderr.split("\n").filter((l) => l.includes("ERROR")) }).toEqual({ code: 0, errors: [] });
      expect(sink.stderr).toContain(`foreign key fk_a of ${name}.child_a, pending since FOREIGN_KEY_CHECKS=0, is created now that ${name}.parent_a exists`);
      expect(sink.stderr).toContain(`foreign key fk_b of ${name}.child_b, pending since FOREIGN_KEY_CHECKS=0, is on the target already (added by hand): no longer pending`);
      expect(await pending()).toEqual([]);
      const keys = await target.unsafe(
        `SELECT c.relname || '.' || k.conname AS k FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND k.contype = 'f' ORDER BY 1`,
        [name],
      );
      expect(keys.map((r) => r.k as string)).toEqual(["child_a.fk_a", "child_b.fk_b"]);
    } finally {
      await c.end();
      await target.end();
    }
  }, 180_000);
});
