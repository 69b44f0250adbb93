// Foreign keys in the DDL translator: created as strong as the source's, pending under
// FOREIGN_KEY_CHECKS=0 until their referenced table exists (schema dumps), refused with what to
// do when the target lacks what the source had; names over 63 bytes shortened and noted.
import { describe, expect, test } from "bun:test";
import { parseDdl } from "../../src/binlog/ddl.ts";
import { type DdlContext, type DdlTranslation, TargetCatalog, translateDdl } from "../../src/dialect/ddl.ts";
import { fitName } from "../../src/dialect/ddl-names.ts";
import { ReplicateError } from "../../src/errors.ts";

const ctx = (catalog: TargetCatalog, over: Partial<DdlContext>): DdlContext => ({
  dialect: "postgresql",
  schemaMapping: {},
  gtid: "0-1-42",
  position: "binlog.000001:1234",
  flavour: "mariadb",
  ...over,
  catalog,
});

/** Statements in order, each against the target as the previous ones left it; all translations. */
function run(sqls: string[], over: Partial<DdlContext> = {}, rows: string[] = []): DdlTranslation[] {
  let catalog = over.catalog ?? TargetCatalog.empty();
  const out: DdlTranslation[] = [];
  for (const sql of sqls) {
    for (const t of rows) {
      const table = catalog.table("shop", t);
      if (table) table.hasRows = true;
    }
    const tr = translateDdl(parseDdl(sql, { database: "shop", flavour: "mariadb" }), ctx(catalog, over));
    out.push(tr);
    catalog = tr.catalog;
  }
  return out;
}
const last = (sqls: string[], over: Partial<DdlContext> = {}, rows: string[] = []) => run(sqls, over, rows).at(-1)!;
const dump = { foreignKeyChecks: false };

function refusal(sqls: string[], over: Partial<DdlContext> = {}): ReplicateError {
  try {
    run(sqls, over);
  } catch (err) {
    if (err instanceof ReplicateError) return err;
    throw err;
  }
  throw new Error(`not refused: ${sqls.join("; ")}`);
}

const CHILD = "CREATE TABLE child (id INT PRIMARY KEY, p INT, CONSTRAINT fk_p FOREIGN KEY (p) REFERENCES parent (id) ON DELETE CASCADE ON UPDATE SET NULL)";
const PARENT = "CREATE TABLE parent (id INT PRIMARY KEY)";

describe("FOREIGN_KEY_CHECKS=0: a key to a table created later waits for it", () => {
  test("the child is created with InnoDB's index and without the key; the parent's CREATE adds it, NOT VALID", () => {
    const [child, parent] = run([CHILD, PARENT], dump);
    expect(child!.statements).toEqual([
      'CREATE TABLE "shop"."child" ("id" integer NOT NULL, "p" integer, CONSTRAINT "child_pkey" PRIMARY KEY ("id"))',
      'CREATE INDEX "child_fk_p" ON "shop"."child" ("p")',
    ]);
    expect(child!.catalog.pending).toEqual([
      { schema: "shop", table: "child", name: "fk_p", columns: ["p"], refSchema: "shop", refTable: "parent", refColumns: ["id"], onDelete: "CASCADE", onUpdate: "SET NULL" },
    ]);
    expect(child!.notes).toEqual(["foreign key fk_p of shop.child waits for table shop.parent, which does not exist yet (FOREIGN_KEY_CHECKS=0); it is created with that table"]);
    // MySQL never checked the child's rows against the missing table: NOT VALID keeps that.
    expect(parent!.statements).toEqual([
      'CREATE TABLE "shop"."parent" ("id" integer NOT NULL, CONSTRAINT "parent_pkey" PRIMARY KEY ("id"))',
      'ALTER TABLE "shop"."child" ADD CONSTRAINT "fk_p" FOREIGN KEY ("p") REFERENCES "shop"."parent" ("id") ON DELETE CASCADE ON UPDATE SET NULL NOT VALID',
    ]);
    expect(parent!.catalog.pending).toEqual([]);
    expect(parent!.notes[0]).toContain("foreign key fk_p of shop.child, pending since FOREIGN_KEY_CHECKS=0, is created now that shop.parent exists");
  });

  test("a table renamed to the referenced name, or created LIKE another, also settles the key; other statements keep it waiting", () => {
    const renamed = run([CHILD, "CREATE TABLE other (id INT PRIMARY KEY)", "ALTER TABLE child ADD COLUMN n INT", "RENAME TABLE other TO parent"], dump);
    expect(renamed[1]!.catalog.pending).toHaveLength(1);
    expect(renamed[2]!.catalog.pending).toHaveLength(1);
    expect(renamed[3]!.statements.at(-1)).toBe(
      'ALTER TABLE "shop"."child" ADD CONSTRAINT "fk_p" FOREIGN KEY ("p") REFERENCES "shop"."parent" ("id") ON DELETE CASCADE ON UPDATE SET NULL NOT VALID',
    );
    const like = last(["CREATE TABLE tmpl (id INT PRIMARY KEY)", CHILD, "CREATE TABLE parent LIKE tmpl"], dump);
    expect(like.statements.at(-1)).toContain('ADD CONSTRAINT "fk_p" FOREIGN KEY ("p") REFERENCES "shop"."parent" ("id")');
    expect(like.catalog.pending).toEqual([]);
  });

  test("ALTER TABLE … ADD FOREIGN KEY: pending when the table is missing, NOT VALID on a table with rows", () => {
    const base = ["CREATE TABLE c (id INT PRIMARY KEY, p INT)"];
    const waiting = last([...base, "ALTER TABLE c ADD CONSTRAINT fk FOREIGN KEY (p) REFERENCES later (id)"], dump);
    expect(waiting.statements).toEqual(['CREATE INDEX "c_fk" ON "shop"."c" ("p")']);
    expect(waiting.catalog.pending.map((k) => k.name)).toEqual(["fk"]);
    const add = "ALTER TABLE c ADD CONSTRAINT fk FOREIGN KEY (p) REFERENCES parent (id)";
    expect(last([PARENT, ...base, add], dump, ["c"]).statements[0]).toBe(
      'ALTER TABLE "shop"."c" ADD CONSTRAINT "fk" FOREIGN KEY ("p") REFERENCES "shop"."parent" ("id") NOT VALID',
    );
    expect(last([PARENT, ...base, add], {}, ["c"]).statements[0]).toBe('ALTER TABLE "shop"."c" ADD CONSTRAINT "fk" FOREIGN KEY ("p") REFERENCES "shop"."parent" ("id")');
    expect(last([PARENT, ...base, add], dump).statements[0]).toBe('ALTER TABLE "shop"."c" ADD CONSTRAINT "fk" FOREIGN KEY ("p") REFERENCES "shop"."parent" ("id")');
  });

  test("unnamed keys are numbered like InnoDB, pending ones counted; DROP FOREIGN KEY of a pending key only forgets it", () => {
    const t = last(["CREATE TABLE c (a INT, b INT, FOREIGN KEY (a) REFERENCES p1 (id), FOREIGN KEY (b) REFERENCES p2 (id))"], dump);
    expect(t.catalog.pending.map((k) => k.name)).toEqual(["c_ibfk_1", "c_ibfk_2"]);
    const dropped = last(
      [
        "CREATE TABLE c (a INT, b INT, FOREIGN KEY (a) REFERENCES p1 (id), FOREIGN KEY (b) REFERENCES p2 (id))",
        "ALTER TABLE c DROP FOREIGN KEY c_ibfk_1",
        PARENT.replace("parent", "p1"),
      ],
      dump,
    );
    expect(dropped.catalog.pending.map((k) => k.name)).toEqual(["c_ibfk_2"]);
    expect(dropped.statements.join("\n")).not.toContain("FOREIGN KEY");
  });

  test("DROP TABLE of the child forgets its pending keys; RENAME TABLE and RENAME COLUMN carry them along", () => {
    expect(last([CHILD, "DROP TABLE child"], dump).catalog.pending).toEqual([]);
    expect(last([CHILD, "DROP DATABASE shop"], { ...dump, catalog: new TargetCatalog(["shop"], []) }).catalog.pending).toEqual([]);
    const moved = last([CHILD, "RENAME TABLE child TO kid", "ALTER TABLE kid RENAME COLUMN p TO parent_id", PARENT], dump);
    expect(moved.statements.at(-1)).toBe(
      'ALTER TABLE "shop"."kid" ADD CONSTRAINT "fk_p" FOREIGN KEY ("parent_id") REFERENCES "shop"."parent" ("id") ON DELETE CASCADE ON UPDATE SET NULL NOT VALID',
    );
  });

  test("DROP TABLE of a parent: its children's keys are dropped and wait for it again, as MySQL leaves them dangling", () => {
    const t = run([PARENT, CHILD], dump)[1]!;
    // readTargetCatalog reads the keys referencing a dropped table; here as it would.
    t.catalog.referencing = [{ schema: "shop", table: "child", name: "fk_p", columns: ["p"], refSchema: "shop", refTable: "parent", refColumns: ["id"], onDelete: "CASCADE" }];
    const [drop, again] = run(["DROP TABLE parent", PARENT], { ...dump, catalog: t.catalog });
    expect(drop!.statements).toEqual(['ALTER TABLE "shop"."child" DROP CONSTRAINT "fk_p"', 'DROP TABLE IF EXISTS "shop"."parent"']);
    expect(drop!.catalog.pending.map((k) => `${k.table}.${k.name}`)).toEqual(["child.fk_p"]);
    expect(again!.statements.at(-1)).toBe('ALTER TABLE "shop"."child" ADD CONSTRAINT "fk_p" FOREIGN KEY ("p") REFERENCES "shop"."parent" ("id") ON DELETE CASCADE NOT VALID');
    // Both dropped in one statement: nothing is left waiting.
    expect(last(["DROP TABLE child, parent"], { ...dump, catalog: t.catalog }).catalog.pending).toEqual([]);
    // With checks on, MySQL refuses to drop a referenced table: the target has a key the source lacks.
    const e = refusal(["DROP TABLE parent"], { catalog: t.catalog });
    expect(e.message).toContain("foreign key fk_p of shop.child references it on the target; the source dropped the table with FOREIGN_KEY_CHECKS=1");
    expect(e.message).toContain('ALTER TABLE "shop"."child" DROP CONSTRAINT "fk_p"');
  });
});

describe("TRUNCATE under FOREIGN_KEY_CHECKS=0", () => {
  test("TRUNCATE of a referenced table: with checks off the children keep their rows and their keys come back NOT VALID; with checks on it is refused", () => {
    const t = run([PARENT, CHILD])[1]!;
    t.catalog.referencing = [
      { schema: "shop", table: "child", name: "fk_p", columns: ["p"], refSchema: "shop", refTable: "parent", refColumns: ["id"], onDelete: "CASCADE", onUpdate: "SET NULL" },
    ];
    expect(last(["TRUNCATE TABLE parent"], { ...dump, catalog: t.catalog }).statements).toEqual([
      'ALTER TABLE "shop"."child" DROP CONSTRAINT "fk_p"',
      'TRUNCATE TABLE "shop"."parent"',
      'ALTER TABLE "shop"."child" ADD CONSTRAINT "fk_p" FOREIGN KEY ("p") REFERENCES "shop"."parent" ("id") ON DELETE CASCADE ON UPDATE SET NULL NOT VALID',
    ]);
    expect(refusal(["TRUNCATE TABLE parent"], { catalog: t.catalog }).message).toContain(
      "TRUNCATE TABLE shop.parent: foreign key fk_p of shop.child references it on the target; the source truncated the table with FOREIGN_KEY_CHECKS=1, which MySQL refuses for a referenced table",
    );
    // A table referenced only by itself truncates as it is, on both.
    expect(last(["TRUNCATE TABLE child"], { catalog: t.catalog }).statements).toEqual(['TRUNCATE TABLE "shop"."child"']);
  });
});

describe("never weaker than the source", () => {
  test("FOREIGN_KEY_CHECKS=1 and no referenced table: refused, saying the source had it and what to do", () => {
    const e = refusal([CHILD]);
    expect(e.code).toBe("TARGET_DDL_INCOMPATIBLE");
    expect(e.message).toContain("foreign key fk_p of child: it references shop.parent, which does not exist on the target (schema shop)");
    expect(e.message).toContain("create it on the target as on the source (the full copy may have missed it) and restart the sink");
    expect(e.message).toEndWith("--skip-ddl 0-1-42");
  });

  test("a referenced table without a unique key on the referenced columns is refused (MySQL needs only an index)", () => {
    const e = refusal([
      "CREATE TABLE parent (id INT, code INT, PRIMARY KEY (id), KEY (code))",
      "CREATE TABLE child (c INT, FOREIGN KEY (c) REFERENCES parent (code) ON DELETE CASCADE)",
    ]);
    expect(e.message).toContain(
      'the target needs a primary or unique key on exactly (code) of shop.parent, which MySQL does not require; if those values are unique, add a unique key on them on the target (CREATE UNIQUE INDEX … ON "shop"."parent" ("code"))',
    );
    // Also when the key was pending: the parent's CREATE is the statement refused.
    expect(refusal(["CREATE TABLE child (c INT, FOREIGN KEY (c) REFERENCES parent (code))", "CREATE TABLE parent (id INT PRIMARY KEY, code INT)"], dump).message).toContain(
      "CREATE TABLE parent",
    );
  });

  test("self-references and every action are kept", () => {
    expect(
      last(["CREATE TABLE tree (id INT PRIMARY KEY, up INT, CONSTRAINT up_fk FOREIGN KEY (up) REFERENCES tree (id) ON DELETE SET NULL ON UPDATE CASCADE)"]).statements[0],
    ).toBe(
      'CREATE TABLE "shop"."tree" ("id" integer NOT NULL, "up" integer, CONSTRAINT "tree_pkey" PRIMARY KEY ("id"), CONSTRAINT "up_fk" FOREIGN KEY ("up") REFERENCES "shop"."tree" ("id") ON DELETE SET NULL ON UPDATE CASCADE)',
    );
  });
});

describe("names over the target's 63 bytes", () => {
  const fk64 = `fk_${"k".repeat(61)}`;
  const table60 = "t".repeat(60);

  test("a 64-byte foreign key name is shortened like index names, noted, and found again by DROP FOREIGN KEY and DROP INDEX", () => {
    const short = fitName(fk64);
    expect(Buffer.byteLength(short)).toBe(63);
    const create = last([PARENT, `CREATE TABLE c (p INT, CONSTRAINT ${fk64} FOREIGN KEY (p) REFERENCES parent (id) ON DELETE CASCADE)`]);
    expect(create.statements[0]).toContain(`CONSTRAINT "${short}" FOREIGN KEY ("p") REFERENCES "shop"."parent" ("id") ON DELETE CASCADE`);
    expect(create.notes).toContain(`foreign key ${fk64} of c is "${short}" on the target: "${fk64}" is longer than the target's 63-byte limit for names`);
    expect(create.notes.some((n) => n.startsWith(`index ${fk64} of c is "${fitName(`c_${fk64}`)}"`))).toBe(true);
    const base = [PARENT, `CREATE TABLE c (p INT, CONSTRAINT ${fk64} FOREIGN KEY (p) REFERENCES parent (id))`];
    expect(last([...base, `ALTER TABLE c DROP FOREIGN KEY ${fk64}, DROP INDEX ${fk64}`]).statements).toEqual([
      `ALTER TABLE "shop"."c" DROP CONSTRAINT "${short}"`,
      `DROP INDEX "shop"."${fitName(`c_${fk64}`)}"`,
    ]);
    // Pending under its shortened name, and created under it.
    const pending = run([`CREATE TABLE c (p INT, CONSTRAINT ${fk64} FOREIGN KEY (p) REFERENCES parent (id))`, PARENT], dump);
    expect(pending[0]!.catalog.pending[0]!.name).toBe(short);
    expect(pending[1]!.statements.at(-1)).toContain(`ADD CONSTRAINT "${short}" FOREIGN KEY`);
  });

  test("InnoDB's generated names of a long table are shortened, numbered on, and dropped by their MySQL name", () => {
    const base = [PARENT, `CREATE TABLE ${table60} (a INT, b INT, FOREIGN KEY (a) REFERENCES parent (id))`];
    const second = last([...base, `ALTER TABLE ${table60} ADD FOREIGN KEY (b) REFERENCES parent (id)`]);
    expect(second.statements[0]).toBe(`ALTER TABLE "shop"."${table60}" ADD CONSTRAINT "${fitName(`${table60}_ibfk_2`)}" FOREIGN KEY ("b") REFERENCES "shop"."parent" ("id")`);
    expect(last([...base, `ALTER TABLE ${table60} DROP FOREIGN KEY ${table60}_ibfk_1`]).statements).toEqual([
      `ALTER TABLE "shop"."${table60}" DROP CONSTRAINT "${fitName(`${table60}_ibfk_1`)}"`,
    ]);
  });

  test("sequences and ENUM checks named after long names are noted too", () => {
    const col = "c".repeat(58);
    const t = last([`CREATE TABLE ${table60} (id INT AUTO_INCREMENT PRIMARY KEY, ${col} ENUM('a','b'))`], { dialect: "opengauss" });
    expect(t.notes).toContain(
      `the AUTO_INCREMENT sequence of column ${table60}.id is "${fitName(`${table60}_id_seq`)}" on the target: "${table60}_id_seq" is longer than the target's 63-byte limit for names`,
    );
    expect(t.notes.some((n) => n.startsWith(`the CHECK of column ${table60}.${col}'s members is "${fitName(`${col}_values`)}"`))).toBe(true);
  });
});
