// Table and column names over the target's 63 bytes in every kind of DDL: each is its fitName
// form on the target (identifiers.ts), the names derived from them follow the target names,
// a later statement finds what an earlier one made, and a name that would put two source
// tables into one target table is refused. Translation only; end to end: test/cli/long-names.test.ts.
import { describe, expect, test } from "bun:test";
import { parseDdl } from "../../src/binlog/ddl.ts";
import { type DdlContext, type DdlTranslation, TargetCatalog, translateDdl } from "../../src/dialect/ddl.ts";
import { foreignKeyName } from "../../src/dialect/ddl-names.ts";
import { fitName } from "../../src/dialect/identifiers.ts";
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

function run(sqls: string[], over: Partial<DdlContext> = {}): DdlTranslation[] {
  let catalog = TargetCatalog.empty();
  const out: DdlTranslation[] = [];
  for (const sql of sqls) {
    const tr = translateDdl(parseDdl(sql, { database: "shop", flavour: "mariadb" }), ctx(catalog, over));
    catalog = tr.catalog;
    out.push(tr);
  }
  return out;
}
const last = (sqls: string[], over: Partial<DdlContext> = {}) => run(sqls, over).at(-1)!;

function refusal(sqls: string[]): ReplicateError {
  try {
    run(sqls);
  } catch (err) {
    if (err instanceof ReplicateError) return err;
    throw err;
  }
  throw new Error(`not refused: ${sqls.join("; ")}`);
}

const long = (head: string, last: string) => `${head}_${"x".repeat(62 - head.length)}${last}`;
const T1 = long("twin", "1");
const T2 = long("twin", "2");
const A = long("col", "a");
const B = long("col", "b");
const q = (name: string) => `"${fitName(name)}"`;
const CREATE = `CREATE TABLE ${T1} (id INT AUTO_INCREMENT PRIMARY KEY, ${A} INT NOT NULL, ${B} ENUM('x','y'), UNIQUE KEY uq (${A}))`;

describe("table and column names over 63 bytes", () => {
  test("CREATE TABLE: the table, its columns and the names derived from them are the target's; each given name is noted once", () => {
    const t = last([CREATE], { dialect: "opengauss" });
    const table = fitName(T1);
    expect(table).not.toBe(fitName(T2));
    expect(Buffer.byteLength(table)).toBe(63);
    const seq = `"shop".${q(`${table}_id_seq`)}`;
    expect(t.statements).toEqual([
      `CREATE SEQUENCE ${seq}`,
      `CREATE TABLE "shop".${q(T1)} ("id" integer NOT NULL DEFAULT nextval('${seq}'::regclass), ${q(A)} integer NOT NULL, ${q(B)} nvarchar2(1), ` +
        `CONSTRAINT ${q(`${table}_pkey`)} PRIMARY KEY ("id"), CONSTRAINT ${q(`${fitName(B)}_values`)} CHECK (${q(B)} IN ('x', 'y', '')))`,
      `ALTER SEQUENCE ${seq} OWNED BY "shop".${q(T1)}."id"`,
      `CREATE UNIQUE INDEX ${q(`${table}_uq`)} ON "shop".${q(T1)} (${q(A)})`,
    ]);
    const given = t.notes.filter((n) => !n.startsWith("the ") && !n.startsWith("primary") && !n.startsWith("UNIQUE"));
    expect(given).toEqual([
      `table shop.${T1} is "${table}" on the target: "${T1}" is longer than the target's 63-byte limit for names (listed by gs-replicate check as schema.long_names)`,
      `column shop.${T1}.${A} is "${fitName(A)}" on the target: "${A}" is longer than the target's 63-byte limit for names (listed by gs-replicate check as schema.long_names)`,
      `column shop.${T1}.${B} is "${fitName(B)}" on the target: "${B}" is longer than the target's 63-byte limit for names (listed by gs-replicate check as schema.long_names)`,
    ]);
  });

  test("ALTER TABLE finds the long columns again: ADD, CHANGE, RENAME, SET DEFAULT, DROP; an automatic index on a long column is dropped by its MySQL name", () => {
    const C = long("added", "c");
    const D = long("renamed", "d");
    const t = last([CREATE, `ALTER TABLE ${T1} ADD COLUMN ${C} INT AFTER ${A}, ADD INDEX (${C})`, `ALTER TABLE ${T1} ALTER COLUMN ${C} SET DEFAULT 3, RENAME COLUMN ${C} TO ${D}`]);
    const tbl = `"shop".${q(T1)}`;
    expect(t.statements).toEqual([`ALTER TABLE ${tbl} ALTER COLUMN ${q(C)} SET DEFAULT 3`, `ALTER TABLE ${tbl} RENAME COLUMN ${q(C)} TO ${q(D)}`]);
    const added = last([CREATE, `ALTER TABLE ${T1} ADD COLUMN ${C} INT, ADD INDEX (${C})`]);
    expect(added.statements).toEqual([`ALTER TABLE ${tbl} ADD COLUMN ${q(C)} integer`, `CREATE INDEX ${q(`${fitName(T1)}_${fitName(C)}`)} ON ${tbl} (${q(C)})`]);
    const base = [CREATE, `ALTER TABLE ${T1} ADD COLUMN ${C} INT, ADD INDEX (${C})`];
    expect(last([...base, `DROP INDEX ${C} ON ${T1}`]).statements).toEqual([`DROP INDEX "shop".${q(`${fitName(T1)}_${fitName(C)}`)}`]);
    expect(last([...base, `ALTER TABLE ${T1} CHANGE ${C} ${D} BIGINT`]).statements).toContain(`ALTER TABLE ${tbl} RENAME COLUMN ${q(C)} TO ${q(D)}`);
    expect(last([...base, `ALTER TABLE ${T1} DROP COLUMN ${C}`]).statements).toEqual([`ALTER TABLE ${tbl} DROP COLUMN ${q(C)}`]);
  });

  test("foreign keys between long tables on long columns, also pending under FOREIGN_KEY_CHECKS=0; RENAME, TRUNCATE and DROP of long tables", () => {
    const P = long("parent", "p");
    const R = long("ref", "r");
    const parent = `CREATE TABLE ${P} (id INT PRIMARY KEY)`;
    const child = `CREATE TABLE ${T1} (id INT PRIMARY KEY, ${R} INT, CONSTRAINT fk FOREIGN KEY (${R}) REFERENCES ${P} (id) ON DELETE CASCADE)`;
    expect(last([parent, child]).statements[0]).toContain(`CONSTRAINT "fk" FOREIGN KEY (${q(R)}) REFERENCES "shop".${q(P)} ("id") ON DELETE CASCADE`);
    const pending = run([child, parent], { foreignKeyChecks: false });
    expect(pending[0]!.catalog.pending.map((k) => [k.table, k.columns, k.refTable])).toEqual([[fitName(T1), [fitName(R)], fitName(P)]]);
    expect(pending[1]!.statements.at(-1)).toBe(
      `ALTER TABLE "shop".${q(T1)} ADD CONSTRAINT "fk" FOREIGN KEY (${q(R)}) REFERENCES "shop".${q(P)} ("id") ON DELETE CASCADE NOT VALID`,
    );
    const renamed = last([parent, child, `RENAME TABLE ${T1} TO ${T2}`]);
    expect(renamed.statements).toEqual([
      `ALTER TABLE "shop".${q(T1)} RENAME CONSTRAINT ${q(`${fitName(T1)}_pkey`)} TO ${q(`${fitName(T2)}_pkey`)}`,
      `ALTER TABLE "shop".${q(T1)} RENAME TO ${q(T2)}`,
    ]);
    expect(renamed.notes).toContain(
      `table shop.${T2} is "${fitName(T2)}" on the target: "${T2}" is longer than the target's 63-byte limit for names (listed by gs-replicate check as schema.long_names)`,
    );
    expect(last([parent, child, `TRUNCATE TABLE ${T1}`]).statements).toEqual([`TRUNCATE TABLE "shop".${q(T1)}`]);
    expect(last([parent, child, `DROP TABLE ${T1}, ${P}`]).statements).toEqual([`DROP TABLE IF EXISTS "shop".${q(T1)}, "shop".${q(P)}`]);
  });

  test("an unnamed foreign key of a long table is InnoDB's name of the target table, dropped by the source's name, pending or not", () => {
    const parent = "CREATE TABLE parent (id INT PRIMARY KEY)";
    const child = `CREATE TABLE ${T1} (id INT PRIMARY KEY, p INT, FOREIGN KEY (p) REFERENCES parent (id))`;
    const key = fitName(`${fitName(T1)}_ibfk_1`);
    // What check computes from the source's name of the key (check/foreign-keys.ts, schema.ts).
    expect(foreignKeyName(T1, `${T1}_ibfk_1`)).toBe(key);
    expect(last([parent, child]).statements[0]).toContain(`CONSTRAINT "${key}" FOREIGN KEY ("p")`);
    expect(last([parent, child, `ALTER TABLE ${T1} DROP FOREIGN KEY ${T1}_ibfk_1`]).statements).toEqual([`ALTER TABLE "shop".${q(T1)} DROP CONSTRAINT "${key}"`]);
    const pending = run([child, `ALTER TABLE ${T1} DROP FOREIGN KEY ${T1}_ibfk_1`, parent], { foreignKeyChecks: false });
    expect(pending[0]!.catalog.pending.map((k) => k.name)).toEqual([key]);
    expect(pending[1]!.catalog.pending).toEqual([]);
    expect(pending[2]!.statements.join(";")).not.toContain("FOREIGN KEY");
  });

  test("twins differing in their 64th character are two target tables; a source name equal to another's shortened form is refused, in either order", () => {
    const both = last([`CREATE TABLE ${T1} (id INT)`, `CREATE TABLE ${T2} (id INT)`]);
    expect(both.statements).toEqual([`CREATE TABLE "shop".${q(T2)} ("id" integer)`]);
    expect(both.catalog.table("shop", fitName(T1))).toBeDefined();
    const first = refusal([`CREATE TABLE ${fitName(T1)} (id INT)`, `CREATE TABLE ${T1} (id INT)`]);
    expect(first.code).toBe("TARGET_DDL_INCOMPATIBLE");
    expect(first.message).toContain(
      `table shop.${T1}: "${T1}" is longer than the target's 63 bytes and is "${fitName(T1)}" there, and the target has a table of that name already (schema shop), so two source tables would share one target table and their rows would merge: rename one of the two tables on the source`,
    );
    const second = refusal([`CREATE TABLE ${T1} (id INT)`, `CREATE TABLE ${fitName(T1)} (id INT)`]);
    expect(second.message).toContain(`"${fitName(T1)}" has the form of a shortened name, and the target has a table of that name already`);
    expect(refusal([`CREATE TABLE ${T1} (id INT)`, `CREATE TABLE t (id INT)`, `RENAME TABLE t TO ${fitName(T1)}`]).message).toContain("the target already has that table");
  });
});
