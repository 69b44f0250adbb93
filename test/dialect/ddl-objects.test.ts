// Objects the target does not get (src/dialect/ddl-objects.ts): what is recorded, what a later
// statement does to the record, and [sink] untranslatable = "stop".
import { describe, expect, test } from "bun:test";
import { parseDdl } from "../../src/binlog/ddl.ts";
import { type DdlContext, type DdlTranslation, type SkippedObject, TargetCatalog, translateDdl } from "../../src/dialect/ddl.ts";
import { ReplicateError } from "../../src/errors.ts";

const ctx = (catalog: TargetCatalog, over: Partial<DdlContext>): DdlContext => ({
  dialect: "postgresql",
  schemaMapping: {},
  gtid: "0-1-42",
  position: "binlog.000001:1234",
  catalog,
  flavour: "mariadb",
  ...over,
});

function chain(sqls: string[], over: Partial<DdlContext> = {}): DdlTranslation {
  let catalog = TargetCatalog.empty();
  let last: DdlTranslation | undefined;
  for (const sql of sqls) {
    last = translateDdl(parseDdl(sql, { database: "shop", flavour: "mariadb" }), ctx(catalog, over));
    catalog = last.catalog;
  }
  return last!;
}

/** kind schema.table.name, the way a test reads them best. */
const keys = (objects: SkippedObject[]) => objects.map((o) => `${o.kind} ${o.schema}.${o.table ? `${o.table}.` : ""}${o.name}`).sort();

const RANGE = "CREATE TABLE c (id INT PRIMARY KEY, v INT) PARTITION BY RANGE (id) (PARTITION p0 VALUES LESS THAN (100), PARTITION p1 VALUES LESS THAN MAXVALUE)";
const GEO = "CREATE TABLE geo (id INT PRIMARY KEY, g GEOMETRY NOT NULL, body TEXT, SPATIAL INDEX sp (g), FULLTEXT KEY ft (body), KEY fx ((id + 1)), CHECK (id > 0))";

describe("CREATE TABLE with indexes the target cannot have", () => {
  test("the table is created without SPATIAL, FULLTEXT and functional indexes, each recorded with what to do at cutover", () => {
    const t = chain(["CREATE DATABASE shop", GEO]);
    expect(t.statements).toEqual(['CREATE TABLE "shop"."geo" ("id" integer NOT NULL, "g" bytea NOT NULL, "body" text, CONSTRAINT "geo_pkey" PRIMARY KEY ("id"))']);
    expect(keys(t.catalog.objects)).toEqual(["check shop.geo.CONSTRAINT_1", "index shop.geo.ft", "index shop.geo.fx", "index shop.geo.sp"]);
    const sp = t.catalog.objects.find((o) => o.name === "sp")!;
    expect(sp.reason).toContain("PostGIS");
    expect(sp.cutover).toContain("GiST");
    expect(sp.statement).toBe(GEO);
    expect(t.skipped.filter((s) => s.object).map((s) => s.part)).toEqual([
      "SPATIAL index sp of geo",
      "FULLTEXT index ft of geo",
      "index fx of geo on (id + 1)",
      "CHECK (id > 0) of geo",
    ]);
  });

  test("FULLTEXT … WITH PARSER and ALTER TABLE ADD SPATIAL INDEX are recorded too", () => {
    const t = chain(["CREATE TABLE d (id INT PRIMARY KEY, g POINT NOT NULL, t TEXT, FULLTEXT KEY ft (t) WITH PARSER ngram)", "ALTER TABLE d ADD SPATIAL INDEX sp (g)"]);
    expect(t.statements).toEqual([]);
    expect(keys(t.catalog.objects)).toEqual(["index shop.d.ft", "index shop.d.sp"]);
    expect(t.catalog.objects.find((o) => o.name === "ft")!.reason).toContain("WITH PARSER");
  });

  test('untranslatable = "stop" refuses the statement, naming the object and the setting', () => {
    let err: unknown;
    try {
      chain([GEO], { untranslatable: "stop" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ReplicateError);
    const e = err as ReplicateError;
    expect(e.code).toBe("TARGET_DDL_INCOMPATIBLE");
    expect(e.message).toContain("SPATIAL index sp of geo");
    expect(e.message).toContain('[sink] untranslatable = "stop"');
    expect(e.message).toContain("--skip-ddl 0-1-42");
  });

  test('changes to rows stop under either setting: "record" does not skip them', () => {
    const years = "CREATE TABLE c (d DATE) PARTITION BY RANGE (YEAR(d)) (PARTITION p0 VALUES LESS THAN (2020), PARTITION p1 VALUES LESS THAN MAXVALUE)";
    for (const op of ["TRUNCATE PARTITION p0", "DROP PARTITION p0", "EXCHANGE PARTITION p0 WITH TABLE x"]) {
      expect(() => chain([years, `ALTER TABLE c ${op}`], { untranslatable: "record" })).toThrow(/without logging them/);
    }
    expect(() => chain([RANGE, "ALTER TABLE c EXCHANGE PARTITION p0 WITH TABLE x"])).toThrow(/without logging them/);
  });
});

describe("MariaDB's JSON as SHOW CREATE TABLE and mariadb-dump write it", () => {
  // MariaDB's JSON is an alias: LONGTEXT … CHECK (json_valid(`c`)), which is how a dump spells
  // a column created as JSON. The check is the type, not a constraint of the application's.
  const dumped =
    "CREATE TABLE d (id INT PRIMARY KEY, attrs longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL CHECK (json_valid(`attrs`)), note LONGTEXT, CHECK (note <> ''))";

  test("is the same jsonb column as one created as JSON, with nothing recorded for it", () => {
    const t = chain([dumped]);
    expect(t.statements).toEqual([chain(["CREATE TABLE d (id INT PRIMARY KEY, attrs JSON, note LONGTEXT)"]).statements[0]!]);
    expect(t.statements[0]).toContain('"attrs" jsonb');
    // The table's own unnamed CHECK, under the name MariaDB gives it (the JSON alias's is not counted: it is a column's).
    expect(keys(t.catalog.objects)).toEqual(["check shop.d.CONSTRAINT_1"]);
  });

  test("a json_valid CHECK that is not the alias (named, MySQL's, not on a LONGTEXT) stays a recorded CHECK", () => {
    const named = chain(["CREATE TABLE d (a LONGTEXT, CONSTRAINT a_json CHECK (json_valid(`a`)))"]);
    expect(keys(named.catalog.objects)).toEqual(["check shop.d.a_json"]);
    expect(keys(chain(["CREATE TABLE d (a TEXT CHECK (json_valid(`a`)))"]).catalog.objects)).toEqual(["check shop.d.a"]);
    const mysql = chain(["CREATE TABLE d (a LONGTEXT CHECK (json_valid(`a`)))"], { flavour: "mysql" });
    expect(keys(mysql.catalog.objects)).toEqual(["check shop.d.d_chk_1"]);
    expect(mysql.statements[0]).toContain('"a" text');
  });

  test("ALTER TABLE ADD, MODIFY and CHANGE to that form make the column jsonb as JSON does, with nothing recorded", () => {
    const base = "CREATE TABLE d (id INT PRIMARY KEY, a LONGTEXT, b LONGTEXT)";
    const same = (alias: string, json: string) => {
      const t = chain([base, alias]);
      expect({ alias, statements: t.statements }).toEqual({ alias, statements: chain([base, json]).statements });
      expect({ alias, recorded: keys(t.catalog.objects) }).toEqual({ alias, recorded: [] });
      return t;
    };
    const added = same(
      "ALTER TABLE d ADD COLUMN attrs longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL CHECK (json_valid(`attrs`))",
      "ALTER TABLE d ADD COLUMN attrs JSON",
    );
    expect(added.statements.join("; ")).toContain('"attrs" jsonb');
    same("ALTER TABLE d ADD extra LONGTEXT CHECK (json_valid(extra)) AFTER id", "ALTER TABLE d ADD extra JSON AFTER id");
    const modified = same("ALTER TABLE d MODIFY a LONGTEXT CHECK (json_valid(`a`))", "ALTER TABLE d MODIFY a JSON");
    expect(modified.statements.join("; ")).toContain("jsonb");
    same("ALTER TABLE d CHANGE b doc LONGTEXT NOT NULL CHECK (json_valid(`doc`))", "ALTER TABLE d CHANGE b doc JSON NOT NULL");
  });

  test("in ALTER TABLE too, a json_valid CHECK that is not the alias stays a recorded CHECK", () => {
    const base = "CREATE TABLE d (id INT PRIMARY KEY, a LONGTEXT)";
    const text = chain([base, "ALTER TABLE d ADD COLUMN t TEXT CHECK (json_valid(`t`))"]);
    expect(text.statements.join("; ")).toContain('"t" text');
    expect(keys(text.catalog.objects)).toHaveLength(1);
    // The column is not restated here: its type stays, and the check is the application's.
    expect(keys(chain([base, "ALTER TABLE d ADD CHECK (json_valid(`a`))"]).catalog.objects)).toHaveLength(1);
    expect(keys(chain([base, "ALTER TABLE d ADD COLUMN n LONGTEXT, ADD CONSTRAINT n_json CHECK (json_valid(`n`))"]).catalog.objects)).toEqual(["check shop.d.n_json"]);
    const mysql = chain([base, "ALTER TABLE d ADD COLUMN m LONGTEXT CHECK (json_valid(`m`))"], { flavour: "mysql" });
    expect(mysql.statements.join("; ")).toContain('"m" text');
    expect(keys(mysql.catalog.objects)).toHaveLength(1);
  });
});

describe("views, triggers, routines, events", () => {
  test("each is recorded under its schema (and a trigger under its table); none has a target statement", () => {
    const t = chain([
      "CREATE TABLE t (a INT PRIMARY KEY)",
      "CREATE DEFINER=`root`@`%` TRIGGER tr AFTER INSERT ON t FOR EACH ROW INSERT INTO audit VALUES (NEW.a)",
      "CREATE VIEW other.v AS SELECT 1",
      "CREATE PROCEDURE p() SELECT 1",
      "CREATE FUNCTION f() RETURNS INT RETURN 1",
      "CREATE EVENT e ON SCHEDULE EVERY 1 HOUR DO DELETE FROM t",
    ]);
    expect(t.statements).toEqual([]);
    expect(keys(t.catalog.objects)).toEqual(["event shop.e", "function shop.f", "procedure shop.p", "trigger shop.t.tr", "view other.v"]);
    const tr = t.catalog.objects.find((o) => o.kind === "trigger")!;
    expect(tr.reason).toContain("change them twice");
    expect(tr.cutover).toContain("caught up");
  });

  test("DROP removes the record; CREATE OR REPLACE and ALTER replace it; ALTER EVENT RENAME moves it", () => {
    const base = ["CREATE VIEW v AS SELECT 1", "CREATE EVENT e ON SCHEDULE EVERY 1 HOUR DO SELECT 1"];
    expect(keys(chain([...base, "DROP VIEW IF EXISTS v, w"]).catalog.objects)).toEqual(["event shop.e"]);
    const dropped = chain([...base, "DROP VIEW v"]);
    expect(dropped.skipped[0]!.reason).toContain("record in gs_replicate.skipped_objects is removed");
    const replaced = chain([...base, "CREATE OR REPLACE VIEW v AS SELECT 2"]).catalog.objects;
    expect(replaced.filter((o) => o.name === "v").map((o) => o.statement)).toEqual(["CREATE OR REPLACE VIEW v AS SELECT 2"]);
    expect(keys(chain([...base, "ALTER EVENT e RENAME TO e2"]).catalog.objects)).toEqual(["event shop.e2", "view shop.v"]);
  });
});

describe("a dump's stand-in view", () => {
  // As the server logs mariadb-dump's stand-in (NULL AS …) and MySQL's (1 AS …).
  const standIn = "CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`%` SQL SECURITY DEFINER VIEW `v` AS SELECT\n NULL AS `id`,\n NULL AS `name`";
  const real = "CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`%` SQL SECURITY DEFINER VIEW `v` AS select `t`.`id` AS `id`,`t`.`name` AS `name` from `t`";

  test("is recorded without being reported; its DROP and the view itself: one report, one record", () => {
    const first = chain(["CREATE TABLE t (id INT PRIMARY KEY, name TEXT)", standIn]);
    expect(first.skipped).toEqual([]);
    expect(first.notes.join("\n")).toContain("CREATE VIEW shop.v: a dump's stand-in for the view");
    expect(keys(first.catalog.objects)).toEqual(["view shop.v"]);
    const dropped = chain(["CREATE TABLE t (id INT PRIMARY KEY, name TEXT)", standIn, "DROP VIEW IF EXISTS `v`"]);
    expect(dropped.skipped).toEqual([]);
    expect(dropped.notes.join("\n")).toContain("stand-in view; its record in gs_replicate.skipped_objects is removed");
    const last = chain(["CREATE TABLE t (id INT PRIMARY KEY, name TEXT)", standIn, "DROP VIEW IF EXISTS `v`", real]);
    expect(last.skipped.map((x) => x.object?.name)).toEqual(["v"]);
    expect(last.catalog.objects.map((o) => o.reason)).toEqual([chain([real]).catalog.objects[0]!.reason]);
    expect(chain(["CREATE VIEW v AS SELECT 1 AS `a`,1 AS `b`"]).skipped).toEqual([]);
  });

  test("a view that reads a table, or computes, is reported as any view", () => {
    for (const v of ["CREATE VIEW v AS SELECT NULL AS a FROM t", "CREATE VIEW v AS SELECT 2 AS a", "CREATE VIEW v AS SELECT NULL AS a UNION SELECT 1"]) {
      expect({ v, reported: chain([v]).skipped.length }).toEqual({ v, reported: 1 });
    }
  });
});

describe("records follow their table", () => {
  const setup = ["CREATE DATABASE shop", GEO, "CREATE TRIGGER tr BEFORE INSERT ON geo FOR EACH ROW SET NEW.id = NEW.id", "CREATE VIEW v AS SELECT 1"];

  test("DROP INDEX / DROP CONSTRAINT of a recorded object, RENAME INDEX", () => {
    const t = chain([...setup, "DROP INDEX sp ON geo", "ALTER TABLE geo DROP INDEX ft, RENAME INDEX fx TO fy"]);
    expect(keys(t.catalog.objects)).toEqual(["check shop.geo.CONSTRAINT_1", "index shop.geo.fy", "trigger shop.geo.tr", "view shop.v"]);
    expect(t.statements).toEqual([]);
    const named = chain(["CREATE TABLE c (a INT, CONSTRAINT positive CHECK (a > 0))", "ALTER TABLE c DROP CONSTRAINT positive"]);
    expect(named.catalog.objects).toEqual([]);
    expect(named.skipped[0]!.reason).toContain("is removed");
  });

  test("an unnamed CHECK is recorded under the name the source gives it, so DROP CONSTRAINT by that name removes it", () => {
    const created = ["CREATE TABLE c (a INT CHECK (a > 0), b INT, CHECK (b > 1), CONSTRAINT named CHECK (a < 100), CHECK (b < 50))", "ALTER TABLE c ADD CHECK (a <> 5)"];
    // MariaDB 10.11 (measured: information_schema.CHECK_CONSTRAINTS): the column's name, then CONSTRAINT_n.
    expect(keys(chain(created).catalog.objects)).toEqual([
      "check shop.c.CONSTRAINT_1",
      "check shop.c.CONSTRAINT_2",
      "check shop.c.CONSTRAINT_3",
      "check shop.c.a",
      "check shop.c.named",
    ]);
    expect(keys(chain([...created, "ALTER TABLE c DROP CONSTRAINT CONSTRAINT_2, DROP CONSTRAINT a"]).catalog.objects)).toEqual([
      "check shop.c.CONSTRAINT_1",
      "check shop.c.CONSTRAINT_3",
      "check shop.c.named",
    ]);
    // MySQL 8: <table>_chk_n for every unnamed one.
    expect(keys(chain(created, { flavour: "mysql" }).catalog.objects)).toEqual([
      "check shop.c.c_chk_1",
      "check shop.c.c_chk_2",
      "check shop.c.c_chk_3",
      "check shop.c.c_chk_4",
      "check shop.c.named",
    ]);
    expect(keys(chain([...created, "ALTER TABLE c DROP CHECK c_chk_4"], { flavour: "mysql" }).catalog.objects)).toEqual([
      "check shop.c.c_chk_1",
      "check shop.c.c_chk_2",
      "check shop.c.c_chk_3",
      "check shop.c.named",
    ]);
  });

  test("a recorded index follows its columns: renamed with them, gone with the last one, as MySQL's own index", () => {
    const base = ["CREATE TABLE d (id INT PRIMARY KEY, title TEXT, body TEXT, g GEOMETRY NOT NULL, FULLTEXT KEY ft (title, body), SPATIAL INDEX sp (g))"];
    const renamed = chain([...base, "ALTER TABLE d CHANGE title heading TEXT", "ALTER TABLE d DROP COLUMN g"]);
    expect(keys(renamed.catalog.objects)).toEqual(["index shop.d.ft"]);
    expect(JSON.parse(renamed.catalog.objects[0]!.definition!)).toEqual({ columns: ["heading", "body"] });
    const gone = chain([...base, "ALTER TABLE d DROP COLUMN body", "ALTER TABLE d DROP COLUMN title"]);
    expect(keys(gone.catalog.objects)).toEqual(["index shop.d.sp"]);
    expect(gone.notes.join("\n")).toContain("recorded index ft of d is gone with its last column title");
  });

  test("RENAME TABLE moves the table's records; LIKE copies its indexes and checks; DROP TABLE and DROP DATABASE remove them", () => {
    const moved = chain([...setup, "CREATE DATABASE arch", "RENAME TABLE geo TO arch.geo_old"]);
    expect(keys(moved.catalog.objects)).toEqual([
      "check arch.geo_old.CONSTRAINT_1",
      "index arch.geo_old.ft",
      "index arch.geo_old.fx",
      "index arch.geo_old.sp",
      "trigger arch.geo_old.tr",
      "view shop.v",
    ]);
    const like = chain([...setup, "CREATE TABLE geo2 LIKE geo"]);
    expect(keys(like.catalog.objects).filter((k) => k.includes("geo2"))).toEqual([
      "check shop.geo2.CONSTRAINT_1",
      "index shop.geo2.ft",
      "index shop.geo2.fx",
      "index shop.geo2.sp",
    ]);
    expect(keys(chain([...setup, "DROP TABLE geo"]).catalog.objects)).toEqual(["view shop.v"]);
    expect(chain([...setup, "DROP DATABASE shop"]).catalog.objects).toEqual([]);
  });
});

describe("partitioned tables", () => {
  test("PARTITION BY of any kind makes a plain table (the same rows), recorded with its method", () => {
    const t = chain([RANGE]);
    expect(t.statements).toEqual(['CREATE TABLE "shop"."c" ("id" integer NOT NULL, "v" integer, CONSTRAINT "c_pkey" PRIMARY KEY ("id"))']);
    expect(keys(t.catalog.objects)).toEqual(["partitioning shop.c.RANGE"]);
    expect(t.catalog.objects[0]!.reason).toContain("plain table");
    for (const [clause, method] of [
      ["PARTITION BY LIST (id) (PARTITION a VALUES IN (1, 2), PARTITION b VALUES IN (3))", "LIST"],
      ["PARTITION BY RANGE COLUMNS (id) (PARTITION a VALUES LESS THAN (10))", "RANGE COLUMNS"],
      ["PARTITION BY LINEAR HASH (id) PARTITIONS 4", "LINEAR HASH"],
      ["PARTITION BY KEY () PARTITIONS 2", "KEY"],
    ]) {
      expect(keys(chain([`CREATE TABLE k (id INT PRIMARY KEY) ${clause}`]).catalog.objects)).toEqual([`partitioning shop.k.${method}`]);
    }
  });

  test("ALTER … PARTITION BY replaces the record, REMOVE PARTITIONING removes it, ADD/REORGANIZE/COALESCE PARTITION change nothing", () => {
    const again = chain([RANGE, "ALTER TABLE c PARTITION BY KEY () PARTITIONS 2"]);
    expect(again.statements).toEqual([]);
    expect(keys(again.catalog.objects)).toEqual(["partitioning shop.c.KEY"]);
    const removed = chain([RANGE, "ALTER TABLE c REMOVE PARTITIONING"]);
    expect(removed.catalog.objects).toEqual([]);
    expect(removed.skipped[0]!.reason).toContain("is removed");
    for (const op of [
      "ADD PARTITION (PARTITION p2 VALUES LESS THAN (300))",
      "REORGANIZE PARTITION p1 INTO (PARTITION p1 VALUES LESS THAN (200), PARTITION p2 VALUES LESS THAN MAXVALUE)",
      "COALESCE PARTITION 2",
    ]) {
      const t = chain([RANGE, `ALTER TABLE c ${op}`]);
      expect(t.statements).toEqual([]);
      expect(t.skipped.map((s) => s.reason)).toEqual(["the target table is not partitioned, and this moves no row in or out of the table"]);
    }
    expect(keys(chain([RANGE, "RENAME TABLE c TO d", "DROP TABLE d"]).catalog.objects)).toEqual([]);
  });

  test('untranslatable = "stop" refuses PARTITION BY', () => {
    expect(() => chain([RANGE], { untranslatable: "stop" })).toThrow(/PARTITION BY of c: .*untranslatable = "stop"/);
  });
});

describe("DROP/TRUNCATE PARTITION on the plain target table", () => {
  const where = (sqls: string[]) => chain(sqls).statements.map((s) => s.replace(/^DELETE FROM "shop"."c" WHERE /, ""));
  const R3 =
    "CREATE TABLE c (id BIGINT PRIMARY KEY) PARTITION BY RANGE (id) (PARTITION p0 VALUES LESS THAN (-5) ENGINE = InnoDB, PARTITION p1 VALUES LESS THAN (100), PARTITION p2 VALUES LESS THAN MAXVALUE)";

  test("RANGE: the partition's rows, NULL in the first, by the partitions as they are after earlier DDL", () => {
    expect(where([R3, "ALTER TABLE c TRUNCATE PARTITION p0"])).toEqual(['("id" IS NULL OR "id" < -5)']);
    expect(where([R3, "ALTER TABLE c TRUNCATE PARTITION `p1`"])).toEqual(['("id" >= -5 AND "id" < 100)']);
    expect(where([R3, "ALTER TABLE c TRUNCATE PARTITION p2"])).toEqual(['("id" >= 100 AND true)']);
    expect(where([R3, "ALTER TABLE c TRUNCATE PARTITION ALL"])).toEqual(['("id" IS NULL OR "id" < -5) OR ("id" >= -5 AND "id" < 100) OR ("id" >= 100 AND true)']);
    // After DROP PARTITION p0, p1 starts where p0 started.
    expect(where([R3, "ALTER TABLE c DROP PARTITION p0", "ALTER TABLE c TRUNCATE PARTITION p1"])).toEqual(['("id" IS NULL OR "id" < 100)']);
    const two = "CREATE TABLE c (id INT PRIMARY KEY) PARTITION BY RANGE (id) (PARTITION p0 VALUES LESS THAN (10))";
    expect(where([two, "ALTER TABLE c ADD PARTITION (PARTITION p1 VALUES LESS THAN (20))", "ALTER TABLE c DROP PARTITION p1"])).toEqual(['("id" >= 10 AND "id" < 20)']);
    expect(
      where([R3, "ALTER TABLE c REORGANIZE PARTITION p1 INTO (PARTITION a VALUES LESS THAN (0), PARTITION b VALUES LESS THAN (100))", "ALTER TABLE c TRUNCATE PARTITION b"]),
    ).toEqual(['("id" >= 0 AND "id" < 100)']);
    expect(chain([R3, "ALTER TABLE c DROP PARTITION p1"]).notes[0]).toContain("the partition's rows are deleted");
  });

  test("LIST: the listed values, NULL included", () => {
    const list = "CREATE TABLE c (id INT, r TINYINT) PARTITION BY LIST (r) (PARTITION north VALUES IN (1, 2, NULL), PARTITION south VALUES IN (3))";
    expect(where([list, "ALTER TABLE c DROP PARTITION north"])).toEqual(['("r" IN (1, 2) OR "r" IS NULL)']);
    expect(where([list, "ALTER TABLE c TRUNCATE PARTITION south"])).toEqual(['("r" IN (3))']);
  });

  test("what the sink cannot delete exactly stops: expressions, non-integer columns, unknown partitions, HASH/KEY, a layout change not understood", () => {
    for (const sqls of [
      ["CREATE TABLE c (s VARCHAR(5)) PARTITION BY LIST COLUMNS (s) (PARTITION a VALUES IN ('x'))", "ALTER TABLE c TRUNCATE PARTITION a"],
      ["CREATE TABLE c (id INT) PARTITION BY HASH (id) PARTITIONS 4", "ALTER TABLE c TRUNCATE PARTITION p0"],
      ["CREATE TABLE c (id DECIMAL(5,1)) PARTITION BY RANGE (id) (PARTITION a VALUES LESS THAN (10))", "ALTER TABLE c TRUNCATE PARTITION a"],
      [R3, "ALTER TABLE c TRUNCATE PARTITION nope"],
      [R3, "ALTER TABLE c REORGANIZE PARTITION p2 INTO (PARTITION q VALUES LESS THAN (TO_DAYS('2020-01-01')))", "ALTER TABLE c TRUNCATE PARTITION p0"],
    ]) {
      expect(() => chain(sqls)).toThrow(/changes rows without logging them/);
    }
  });
});
