// MySQL RANGE/LIST partitioning as openGauss partitioning (src/dialect/ddl-partitions-native.ts):
// the statements the translator writes for openGauss. test/cli/partitions.test.ts runs them on
// the real openGauss against MariaDB's own partition DDL.
import { describe, expect, test } from "bun:test";
import { parseDdl } from "../../src/binlog/ddl.ts";
import { type DdlContext, type DdlTranslation, TargetCatalog, translateDdl } from "../../src/dialect/ddl.ts";

function chain(sqls: string[], over: Partial<DdlContext> = {}): DdlTranslation {
  let catalog = TargetCatalog.empty();
  let last: DdlTranslation | undefined;
  for (const sql of sqls) {
    const ctx: DdlContext = { dialect: "opengauss", schemaMapping: {}, gtid: "0-1-42", position: "binlog.000001:1234", catalog, flavour: "mariadb", ...over };
    last = translateDdl(parseDdl(sql, { database: "shop", flavour: "mariadb" }), ctx);
    catalog = last.catalog;
  }
  return last!;
}

const RANGE =
  "CREATE TABLE c (id INT NOT NULL AUTO_INCREMENT, v INT, KEY kv (v), PRIMARY KEY (id)) PARTITION BY RANGE (id) (PARTITION p0 VALUES LESS THAN (100), PARTITION P1 VALUES LESS THAN (200), PARTITION pmax VALUES LESS THAN MAXVALUE)";
const LIST = "CREATE TABLE l (id INT NOT NULL, r TINYINT NOT NULL, PRIMARY KEY (id, r)) PARTITION BY LIST (r) (PARTITION north VALUES IN (1, 2), PARTITION south VALUES IN (3))";
const kinds = (t: DdlTranslation) => t.catalog.objects.map((o) => `${o.kind} ${o.table} ${o.name}`);

describe("openGauss partitioned tables for MySQL RANGE/LIST on a NOT NULL integer column", () => {
  test("CREATE TABLE is partitioned as on the source (lower-case partition names, rows allowed to move), nothing recorded", () => {
    const t = chain([RANGE]);
    expect(t.statements.find((s) => s.startsWith("CREATE TABLE"))).toEndWith(
      'PARTITION BY RANGE ("id") (PARTITION "p0" VALUES LESS THAN (100), PARTITION "p1" VALUES LESS THAN (200), PARTITION "pmax" VALUES LESS THAN (MAXVALUE)) ENABLE ROW MOVEMENT',
    );
    expect(t.catalog.objects).toEqual([]);
    expect(t.catalog.table("shop", "c")!.partitioning?.partitions.map((d) => d.name)).toEqual(["p0", "P1", "pmax"]);
    expect(chain([LIST]).statements[0]).toEndWith('PARTITION BY LIST ("r") (PARTITION "north" VALUES (1, 2), PARTITION "south" VALUES (3)) ENABLE ROW MOVEMENT');
  });

  test("where openGauss would file a row elsewhere or cannot have the bound, a plain table, recorded", () => {
    for (const [sql, why] of [
      ["CREATE TABLE k (id INT, PRIMARY KEY (id), v INT) PARTITION BY RANGE (v) (PARTITION a VALUES LESS THAN (10))", "nullable: MySQL files NULL in the first partition"],
      ["CREATE TABLE k (id INT NOT NULL, r INT NOT NULL) PARTITION BY LIST (r) (PARTITION a VALUES IN (1, NULL))", "a NULL value"],
      ["CREATE TABLE k (d DATE NOT NULL) PARTITION BY RANGE (YEAR(d)) (PARTITION a VALUES LESS THAN (2020))", "an expression"],
      ["CREATE TABLE k (id INT NOT NULL) PARTITION BY HASH (id) PARTITIONS 4", "MySQL's hash"],
    ]) {
      const t = chain([sql!]);
      expect(t.statements.join(" "), why).not.toContain("PARTITION BY");
      expect(kinds(t)[0], why).toStartWith("partitioning k ");
    }
    // PostgreSQL keeps the plain table and its record.
    expect(chain([RANGE], { dialect: "postgresql" }).statements.join(" ")).not.toContain("PARTITION BY");
  });

  test("ADD, DROP and TRUNCATE PARTITION are partition DDL; global indexes are kept usable", () => {
    expect(chain([RANGE, "ALTER TABLE c TRUNCATE PARTITION p0, `P1`"]).statements).toEqual([
      'ALTER TABLE "shop"."c" TRUNCATE PARTITION "p0" UPDATE GLOBAL INDEX',
      'ALTER TABLE "shop"."c" TRUNCATE PARTITION "p1" UPDATE GLOBAL INDEX',
    ]);
    const dropped = chain([RANGE, "ALTER TABLE c DROP PARTITION p1"]);
    expect(dropped.statements).toEqual(['ALTER TABLE "shop"."c" DROP PARTITION "p1" UPDATE GLOBAL INDEX']);
    expect(dropped.catalog.table("shop", "c")!.partitioning!.partitions.map((d) => d.name)).toEqual(["p0", "pmax"]);
    expect(chain([RANGE, "ALTER TABLE c TRUNCATE PARTITION ALL"]).statements).toEqual(['DELETE FROM "shop"."c"']);
    expect(chain([LIST, "ALTER TABLE l ADD PARTITION (PARTITION east VALUES IN (4, 5), PARTITION west VALUES IN (6))"]).statements).toEqual([
      'ALTER TABLE "shop"."l" ADD PARTITION "east" VALUES (4, 5)',
      'ALTER TABLE "shop"."l" ADD PARTITION "west" VALUES (6)',
    ]);
    expect(() => chain([RANGE, "ALTER TABLE c DROP PARTITION nope"])).toThrow(/has no partition "nope"/);
  });

  test("REORGANIZE of RANGE partitions: merged into one, then split at the new bounds", () => {
    expect(
      chain([RANGE, "ALTER TABLE c REORGANIZE PARTITION p0, p1 INTO (PARTITION a VALUES LESS THAN (50), PARTITION b VALUES LESS THAN (120), PARTITION p1 VALUES LESS THAN (200))"])
        .statements,
    ).toEqual([
      'ALTER TABLE "shop"."c" MERGE PARTITIONS "p0", "p1" INTO PARTITION "gsr_reorganize" UPDATE GLOBAL INDEX',
      'ALTER TABLE "shop"."c" SPLIT PARTITION "gsr_reorganize" INTO (PARTITION "a" VALUES LESS THAN (50), PARTITION "b" VALUES LESS THAN (120), PARTITION "p1" VALUES LESS THAN (200)) UPDATE GLOBAL INDEX',
    ]);
    expect(chain([RANGE, "ALTER TABLE c REORGANIZE PARTITION p0, p1 INTO (PARTITION p01 VALUES LESS THAN (200))"]).statements).toEqual([
      'ALTER TABLE "shop"."c" MERGE PARTITIONS "p0", "p1" INTO PARTITION "gsr_reorganize" UPDATE GLOBAL INDEX',
      'ALTER TABLE "shop"."c" RENAME PARTITION "gsr_reorganize" TO "p01"',
    ]);
  });

  test("what openGauss cannot follow makes the table plain again, keeping rows, sequence, indexes and names; the partitions are recorded", () => {
    const removed = chain([RANGE, "ALTER TABLE c REMOVE PARTITIONING"]);
    expect(removed.statements).toEqual([
      'ALTER TABLE "shop"."c" RENAME TO "c_gsr_rebuilt"',
      'CREATE TABLE "shop"."c" ("id" integer NOT NULL, "v" integer)',
      `ALTER TABLE "shop"."c" ALTER COLUMN "id" SET DEFAULT nextval('"shop"."c_id_seq"'::regclass)`,
      'ALTER SEQUENCE "shop"."c_id_seq" OWNED BY "shop"."c"."id"',
      'INSERT INTO "shop"."c" ("id", "v") SELECT "id", "v" FROM "shop"."c_gsr_rebuilt"',
      'DROP TABLE "shop"."c_gsr_rebuilt"',
      'ALTER TABLE "shop"."c" ADD CONSTRAINT "c_pkey" PRIMARY KEY ("id")',
      'CREATE INDEX "c_kv" ON "shop"."c" ("v")',
    ]);
    expect(removed.catalog.objects).toEqual([]);
    // LIST partitions cannot be merged on openGauss: plain, and the record follows the new layout.
    const list = chain([LIST, "ALTER TABLE l REORGANIZE PARTITION north, south INTO (PARTITION ns VALUES IN (1, 2, 3))"]);
    expect(list.statements[0]).toBe('ALTER TABLE "shop"."l" RENAME TO "l_gsr_rebuilt"');
    expect(kinds(list)).toEqual(["partitioning l LIST"]);
    expect(JSON.parse(list.catalog.objects[0]!.definition!).partitions).toEqual([{ name: "ns", values: ["1", "2", "3"] }]);
    // A partition key column restated: its type cannot change in a partitioned table.
    const widened = chain([RANGE, "ALTER TABLE c MODIFY id BIGINT NOT NULL AUTO_INCREMENT"]);
    expect(widened.statements[0]).toBe('ALTER TABLE "shop"."c" RENAME TO "c_gsr_rebuilt"');
    expect(widened.statements.join("\n")).toContain('ALTER COLUMN "id" TYPE bigint');
    expect(kinds(widened)).toEqual(["partitioning c RANGE"]);
  });

  test("PARTITION BY on a plain table rebuilds it partitioned; LIKE copies the partitioning, as MySQL does", () => {
    const plain = "CREATE TABLE c (id INT NOT NULL, PRIMARY KEY (id))";
    const t = chain([plain, "ALTER TABLE c PARTITION BY RANGE (id) (PARTITION p0 VALUES LESS THAN (10), PARTITION p1 VALUES LESS THAN MAXVALUE)"]);
    expect(t.statements.find((s) => s.startsWith("CREATE TABLE"))).toContain('PARTITION BY RANGE ("id")');
    expect(t.statements).toContain('INSERT INTO "shop"."c" ("id") SELECT "id" FROM "shop"."c_gsr_rebuilt"');
    expect(t.catalog.objects).toEqual([]);
    const like = chain([RANGE, "CREATE TABLE c2 LIKE c"]);
    expect(like.statements[0]).toEndWith(
      'PARTITION BY RANGE ("id") (PARTITION "p0" VALUES LESS THAN (100), PARTITION "p1" VALUES LESS THAN (200), PARTITION "pmax" VALUES LESS THAN (MAXVALUE)) ENABLE ROW MOVEMENT',
    );
  });
});
