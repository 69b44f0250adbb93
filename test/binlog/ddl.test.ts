// DDL parser: every kind of the change model, the column grammar (types, synonyms,
// attributes, defaults), lexical corners (quoting, escapes, sql_mode, versioned comments),
// and what must NOT be guessed (returned as unparsed / unsupported with a reason).
import { describe, expect, test } from "bun:test";
import { type ColumnType, type Ddl, type ParseOptions, parseDdl } from "../../src/binlog/ddl.ts";

const P = (sql: string, opts: Partial<ParseOptions> = {}): Ddl => parseDdl(sql, { database: "db", ...opts });

function only<K extends Ddl["kind"]>(ddl: Ddl, kind: K): Extract<Ddl, { kind: K }> {
  if (ddl.kind !== kind) throw new Error(`expected ${kind}, got ${ddl.kind}${ddl.kind === "unparsed" ? `: ${ddl.reason}` : ""}`);
  return ddl as Extract<Ddl, { kind: K }>;
}
const table = (sql: string, opts: Partial<ParseOptions> = {}) => only(P(sql, opts), "create_table");
const ops = (sql: string, opts: Partial<ParseOptions> = {}) => only(P(sql, opts), "alter_table").ops;
/** The declared type of column `c` in `CREATE TABLE t (c <decl>)`. */
const typeOf = (decl: string, opts: Partial<ParseOptions> = {}): ColumnType => table(`CREATE TABLE t (c ${decl})`, opts).columns[0]!.type;
const T = (name: string, extra: Partial<ColumnType> = {}): ColumnType => ({ name, unsigned: false, zerofill: false, ...extra });

describe("databases", () => {
  test("CREATE / ALTER / DROP DATABASE and SCHEMA", () => {
    expect(P("CREATE DATABASE IF NOT EXISTS `shop` DEFAULT CHARACTER SET = utf8mb4 COLLATE utf8mb4_bin")).toEqual({
      kind: "create_database",
      statement: "CREATE DATABASE IF NOT EXISTS `shop` DEFAULT CHARACTER SET = utf8mb4 COLLATE utf8mb4_bin",
      name: "shop",
      ifNotExists: true,
      orReplace: false,
      charset: "utf8mb4",
      collation: "utf8mb4_bin",
    });
    // mysqldump writes the charset inside a versioned comment; the server executed it.
    expect(P("CREATE DATABASE /*!32312 IF NOT EXISTS*/ `d` /*!40100 DEFAULT CHARACTER SET latin1 */")).toMatchObject({ name: "d", ifNotExists: true, charset: "latin1" });
    expect(P("CREATE OR REPLACE SCHEMA s")).toMatchObject({ kind: "create_database", name: "s", orReplace: true });
    expect(P("ALTER DATABASE shop CHARACTER SET latin1")).toMatchObject({ kind: "alter_database", name: "shop", charset: "latin1" });
    expect(P("ALTER SCHEMA COLLATE utf8mb4_general_ci")).toMatchObject({ kind: "alter_database", name: "db", collation: "utf8mb4_general_ci" });
    expect(P("DROP SCHEMA IF EXISTS shop")).toMatchObject({ kind: "drop_database", name: "shop", ifExists: true });
  });
});

describe("CREATE TABLE", () => {
  test("columns, inline and out-of-line keys, options, partitioning", () => {
    const sql =
      "CREATE TABLE `select` (`id` INT UNSIGNED NOT NULL AUTO_INCREMENT, `from` VARCHAR(20) CHARACTER SET latin1 COLLATE latin1_bin DEFAULT 'x' COMMENT 'hi'," +
      " code CHAR(2) NOT NULL UNIQUE, PRIMARY KEY (id, `from`), UNIQUE KEY uk (`from`(10), code), KEY ix (code DESC) USING BTREE, FULLTEXT KEY ft (`from`)," +
      " SPATIAL INDEX (g), INDEX ((code + 1)), CONSTRAINT fk FOREIGN KEY (code) REFERENCES other.p (x) ON DELETE CASCADE ON UPDATE SET NULL, CONSTRAINT ck CHECK (id > 0)," +
      " g GEOMETRY NOT NULL SRID 4326) ENGINE=InnoDB AUTO_INCREMENT=5 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin COMMENT='tbl' ROW_FORMAT=dynamic STATS_PERSISTENT 0" +
      " /*!50100 PARTITION BY HASH (id) PARTITIONS 4 */";
    const t = table(sql);
    expect(t.table).toEqual({ database: "db", table: "select" });
    expect(t.columns.map((c) => c.name)).toEqual(["id", "from", "code", "g"]);
    expect(t.columns[0]).toEqual({ name: "id", type: T("int", { unsigned: true }), nullable: false, autoIncrement: true, invisible: false });
    expect(t.columns[1]).toEqual({
      name: "from",
      type: T("varchar", { length: 20, charset: "latin1", collation: "latin1_bin" }),
      default: { kind: "string", value: "x" },
      comment: "hi",
      autoIncrement: false,
      invisible: false,
    });
    expect(t.columns[3]).toMatchObject({ name: "g", type: T("geometry"), srid: 4326, nullable: false });
    expect(t.primaryKey).toEqual({ name: "PRIMARY", kind: "primary", parts: [{ column: "id" }, { column: "from" }] });
    expect(t.indexes).toEqual([
      { name: "code", kind: "unique", parts: [{ column: "code" }] },
      { name: "uk", kind: "unique", parts: [{ column: "from", length: 10 }, { column: "code" }] },
      { name: "ix", kind: "index", parts: [{ column: "code", descending: true }], using: "BTREE" },
      { name: "ft", kind: "fulltext", parts: [{ column: "from" }] },
      { kind: "spatial", parts: [{ column: "g" }] },
      { kind: "index", parts: [{ expression: "code + 1" }] },
    ]);
    expect(t.foreignKeys).toEqual([
      { name: "fk", columns: ["code"], target: { table: { database: "other", table: "p" }, columns: ["x"], onDelete: "CASCADE", onUpdate: "SET NULL" } },
    ]);
    expect(t.checks).toEqual([{ name: "ck", expression: "id > 0", enforced: true }]);
    expect(t.options).toEqual({
      engine: "InnoDB",
      autoIncrement: "5",
      charset: "utf8mb4",
      collation: "utf8mb4_bin",
      comment: "tbl",
      rowFormat: "DYNAMIC",
      other: [{ name: "STATS_PERSISTENT", value: "0" }],
    });
    expect(t.partitioning).toBe("PARTITION BY HASH (id) PARTITIONS 4");
  });

  test("inline PRIMARY KEY, bare KEY, SERIAL, composite and prefix keys", () => {
    expect(table("CREATE TABLE t (a INT PRIMARY KEY, b INT)").primaryKey?.parts).toEqual([{ column: "a" }]);
    expect(table("CREATE TABLE t (a INT KEY)").primaryKey?.parts).toEqual([{ column: "a" }]);
    const s = table("CREATE TABLE t (id SERIAL, v TEXT, KEY (v(100)), UNIQUE (id, v(8)))");
    expect(s.columns[0]).toMatchObject({ type: T("bigint", { unsigned: true }), nullable: false, autoIncrement: true });
    expect(s.indexes).toEqual([
      { name: "id", kind: "unique", parts: [{ column: "id" }] },
      { kind: "index", parts: [{ column: "v", length: 100 }] },
      { kind: "unique", parts: [{ column: "id" }, { column: "v", length: 8 }] },
    ]);
    expect(table("CREATE TABLE t (a INT, b INT, CONSTRAINT pk PRIMARY KEY (b, a))").primaryKey).toEqual({
      name: "PRIMARY",
      kind: "primary",
      constraint: "pk",
      parts: [{ column: "b" }, { column: "a" }],
    });
  });

  test("ENUM and SET values: commas, doubled and escaped quotes, backslashes", () => {
    expect(typeOf("ENUM('a,b', 'c''d', 'e\\'f', 'g\\\\h', \"i\"\"j\", '')").values).toEqual(["a,b", "c'd", "e'f", "g\\h", 'i"j', ""]);
    expect(typeOf("SET('x','y') CHARACTER SET latin1")).toEqual(T("set", { values: ["x", "y"], charset: "latin1" }));
    // NO_BACKSLASH_ESCAPES: a backslash is an ordinary character.
    expect(typeOf("ENUM('a\\b')", { sqlMode: 1n << 20n }).values).toEqual(["a\\b"]);
  });

  test("DEFAULT values and expressions, ON UPDATE", () => {
    const d = (decl: string, opts: Partial<ParseOptions> = {}) => table(`CREATE TABLE t (c ${decl})`, opts).columns[0]!.default;
    expect(d("INT DEFAULT NULL")).toEqual({ kind: "null" });
    expect(d("INT DEFAULT -1")).toEqual({ kind: "number", text: "-1" });
    expect(d("DOUBLE DEFAULT +1.5e3")).toEqual({ kind: "number", text: "1.5e3" });
    expect(d("DECIMAL(4,2) DEFAULT .5")).toEqual({ kind: "number", text: ".5" });
    expect(d("BOOL DEFAULT TRUE")).toEqual({ kind: "boolean", value: true });
    expect(d("VARCHAR(5) DEFAULT 'it''s' ' ok'")).toEqual({ kind: "string", value: "it's ok" });
    expect(d("VARCHAR(5) DEFAULT _utf8mb4'é'")).toEqual({ kind: "string", value: "é", introducer: "utf8mb4" });
    expect(d("VARCHAR(5) DEFAULT N'x'")).toEqual({ kind: "string", value: "x", introducer: "national" });
    expect(d("VARBINARY(2) DEFAULT x'0aFF'")).toEqual({ kind: "hex", digits: "0aFF" });
    expect(d("VARBINARY(2) DEFAULT 0x41")).toEqual({ kind: "hex", digits: "41" });
    expect(d("BIT(3) DEFAULT b'101'")).toEqual({ kind: "bit", digits: "101" });
    expect(d("TIMESTAMP DEFAULT CURRENT_TIMESTAMP")).toEqual({ kind: "current_timestamp", fsp: 0 });
    expect(d("DATETIME(6) DEFAULT NOW(6)")).toEqual({ kind: "current_timestamp", fsp: 6 });
    expect(d("DATETIME DEFAULT localtimestamp()")).toEqual({ kind: "current_timestamp", fsp: 0 });
    expect(d("VARCHAR(36) DEFAULT (uuid())")).toEqual({ kind: "expression", text: "uuid()" });
    expect(d("INT DEFAULT (1 + (2 * 3))")).toEqual({ kind: "expression", text: "1 + (2 * 3)" });
    expect(d("VARCHAR(36) DEFAULT uuid()")).toEqual({ kind: "expression", text: "uuid()" });
    expect(d("DATE DEFAULT CURRENT_DATE")).toEqual({ kind: "expression", text: "CURRENT_DATE" });
    const ts = table("CREATE TABLE t (ts TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3))").columns[0]!;
    expect(ts).toMatchObject({ nullable: false, default: { kind: "current_timestamp", fsp: 3 }, onUpdate: { fsp: 3 }, type: { fsp: 3 } });
    // An unparenthesised expression is not guessed at.
    expect(P("CREATE TABLE t (c INT DEFAULT 1 + 1)")).toMatchObject({
      kind: "unparsed",
      reason: expect.stringContaining("unparenthesised DEFAULT"),
      tables: [{ database: "db", table: "t" }],
    });
  });

  test("generated, invisible and compressed columns; versioned comments by server version and flavour", () => {
    const t = table("CREATE TABLE t (a INT, v INT AS (a * 2) VIRTUAL, s INT GENERATED ALWAYS AS (a + 1) STORED, p INT AS (a) PERSISTENT, h INT INVISIBLE, z TEXT COMPRESSED)");
    expect(t.columns[1]!.generated).toEqual({ expression: "a * 2", stored: false });
    expect(t.columns[2]!.generated).toEqual({ expression: "a + 1", stored: true });
    expect(t.columns[3]!.generated).toEqual({ expression: "a", stored: true });
    expect(t.columns[4]!.invisible).toBe(true);
    expect(t.columns[5]!.compressed).toBe(true);
    const sql = "CREATE TABLE t (a INT, b INT /*!80023 INVISIBLE */, c VARCHAR(3) /*M!100301 COMPRESSED*/)";
    expect(table(sql).columns.map((c) => [c.invisible, c.compressed])).toEqual([
      [false, undefined],
      [true, undefined],
      [false, true],
    ]);
    expect(table(sql, { serverVersion: 80022, flavour: "mysql" }).columns.map((c) => [c.invisible, c.compressed])).toEqual([
      [false, undefined],
      [false, undefined],
      [false, undefined],
    ]);
    // MariaDB runs its own and pre-5.7 versions, never MySQL 5.7+/8 ones (checked on 10.11).
    const maria =
      "CREATE TABLE t (a INT /*!50699 INVISIBLE */, b INT /*!50700 INVISIBLE */, c INT /*!80023 INVISIBLE */, d INT /*!101119 INVISIBLE */, e INT /*!101120 INVISIBLE */)";
    expect(table(maria, { flavour: "mariadb", serverVersion: 101119 }).columns.map((c) => c.invisible)).toEqual([true, false, false, true, false]);
    // Fewer than five digits are not a version: they are body text.
    expect(P("CREATE TABLE t (a INT /*!5070 INVISIBLE */)", { flavour: "mariadb" }).kind).toBe("unparsed");
  });

  test("data types and their synonyms resolve the way the server does", () => {
    const cases: Array<[string, ColumnType, Partial<ParseOptions>?]> = [
      ["INTEGER(11) UNSIGNED ZEROFILL", T("int", { length: 11, unsigned: true, zerofill: true })],
      ["INT1", T("tinyint")],
      ["MIDDLEINT SIGNED", T("mediumint")],
      ["INT8", T("bigint")],
      ["BOOLEAN", T("tinyint", { length: 1 })],
      ["BIT", T("bit", { length: 1 })],
      ["DEC(5)", T("decimal", { precision: 5, scale: 0 })],
      ["NUMERIC", T("decimal", { precision: 10, scale: 0 })],
      ["FIXED(8,3)", T("decimal", { precision: 8, scale: 3 })],
      ["FLOAT", T("float")],
      ["FLOAT(24)", T("float")],
      ["FLOAT(25)", T("double")],
      ["FLOAT(7,3)", T("float", { precision: 7, scale: 3 })],
      ["DOUBLE PRECISION(10,2)", T("double", { precision: 10, scale: 2 })],
      ["REAL", T("double")],
      ["REAL", T("float"), { sqlMode: 1n }],
      ["FLOAT8", T("double")],
      ["DATETIME(6)", T("datetime", { fsp: 6 })],
      ["TIME", T("time", { fsp: 0 })],
      ["TIMESTAMP(2)", T("timestamp", { fsp: 2 })],
      ["TIMESTAMP", T("datetime", { fsp: 0 }), { sqlMode: 4096n }],
      ["YEAR(4)", T("year")],
      ["CHARACTER(3)", T("char", { length: 3 })],
      ["CHAR", T("char", { length: 1 })],
      ["CHAR(4) BYTE", T("binary", { length: 4 })],
      ["CHAR(3) CHARACTER SET binary", T("binary", { length: 3 })],
      ["CHARACTER VARYING(9)", T("varchar", { length: 9 })],
      ["NATIONAL VARCHAR(5)", T("varchar", { length: 5, charset: "utf8mb3" })],
      ["NATIONAL CHAR VARYING(5)", T("varchar", { length: 5, charset: "utf8mb3" })],
      ["NCHAR(2)", T("char", { length: 2, charset: "utf8mb3" })],
      ["NVARCHAR(7)", T("varchar", { length: 7, charset: "utf8mb3" })],
      ["VARCHAR(5) BINARY", T("varchar", { length: 5, binaryCollation: true })],
      ["VARCHAR(5) ASCII", T("varchar", { length: 5, charset: "latin1" })],
      ["CHAR(2) UNICODE", T("char", { length: 2, charset: "ucs2" })],
      ["LONG VARCHAR", T("mediumtext")],
      ["LONG", T("mediumtext")],
      ["LONG VARBINARY", T("mediumblob")],
      ["TEXT(100)", T("text", { length: 100 })],
      ["TEXT CHARSET binary", T("blob")],
      ["BLOB(70000)", T("blob", { length: 70000 })],
      ["TINYBLOB", T("tinyblob")],
      ["LONGTEXT COLLATE utf8mb4_bin", T("longtext", { collation: "utf8mb4_bin" })],
      ["VARBINARY(16)", T("varbinary", { length: 16 })],
      ["JSON", T("json")],
      ["GEOMCOLLECTION", T("geometrycollection")],
      ["MULTIPOLYGON", T("multipolygon")],
      ["UUID", T("uuid")],
      ["INET6", T("inet6")],
      ["VECTOR(3)", T("vector", { length: 3 })],
    ];
    for (const [decl, want, opts] of cases) expect({ decl, type: typeOf(decl, opts) }).toEqual({ decl, type: want });
    expect(P("CREATE TABLE t (c VARCHAR2(5))")).toMatchObject({ kind: "unparsed", reason: expect.stringContaining("unknown data type VARCHAR2") });
    expect(P("CREATE TABLE t (c TEXT UNSIGNED)").kind).toBe("unparsed");
  });

  test("LIKE, TEMPORARY, OR REPLACE, IF NOT EXISTS, CREATE ... SELECT", () => {
    expect(P("CREATE TABLE IF NOT EXISTS b.t2 LIKE t1")).toEqual({
      kind: "create_table_like",
      statement: "CREATE TABLE IF NOT EXISTS b.t2 LIKE t1",
      table: { database: "b", table: "t2" },
      like: { database: "db", table: "t1" },
      temporary: false,
      ifNotExists: true,
      orReplace: false,
    });
    expect(P("CREATE TABLE t2 (LIKE `x`.`t1`)")).toMatchObject({ kind: "create_table_like", like: { database: "x", table: "t1" } });
    expect(table("CREATE TEMPORARY TABLE t (a INT)").temporary).toBe(true);
    expect(table("CREATE OR REPLACE TABLE t (a INT)").orReplace).toBe(true);
    expect(P("CREATE TABLE t AS SELECT 1 AS a")).toMatchObject({
      kind: "unparsed",
      reason: expect.stringContaining("CREATE TABLE ... SELECT"),
      tables: [{ database: "db", table: "t" }],
    });
    expect(P("CREATE TABLE t (a INT) SELECT 1 AS a").kind).toBe("unparsed");
    expect(P("CREATE TABLE t (a INT, PERIOD FOR SYSTEM_TIME (s, e)) WITH SYSTEM VERSIONING").kind).toBe("unparsed");
  });
});

describe("ALTER TABLE", () => {
  test("several operations in one statement, in written order, with ALGORITHM and LOCK", () => {
    const a = only(
      P("ALTER TABLE `t` CHANGE COLUMN a b VARCHAR(10) FIRST, ADD COLUMN c INT AFTER b, DROP d, MODIFY e BIGINT NOT NULL, ALGORITHM=INPLACE, LOCK=NONE"),
      "alter_table",
    );
    expect(a.algorithm).toBe("INPLACE");
    expect(a.lock).toBe("NONE");
    expect(a.ops).toEqual([
      {
        op: "change_column",
        oldName: "a",
        ifExists: false,
        column: { name: "b", type: T("varchar", { length: 10 }), autoIncrement: false, invisible: false },
        position: { first: true },
      },
      { op: "add_column", ifNotExists: false, column: { name: "c", type: T("int"), autoIncrement: false, invisible: false }, position: { after: "b" } },
      { op: "drop_column", name: "d", ifExists: false },
      { op: "modify_column", ifExists: false, column: { name: "e", type: T("bigint"), nullable: false, autoIncrement: false, invisible: false } },
    ]);
  });

  test("column operations", () => {
    expect(
      ops("ALTER TABLE t ADD x INT FIRST, ADD COLUMN IF NOT EXISTS `select` INT, ADD COLUMN (p INT, q CHAR(1))").map((o) => [
        o.op,
        "column" in o ? o.column.name : "",
        "position" in o ? o.position : undefined,
      ]),
    ).toEqual([
      ["add_column", "x", { first: true }],
      ["add_column", "select", undefined],
      ["add_column", "p", undefined],
      ["add_column", "q", undefined],
    ]);
    expect(ops("ALTER TABLE t DROP COLUMN IF EXISTS x, DROP y CASCADE")).toEqual([
      { op: "drop_column", name: "x", ifExists: true },
      { op: "drop_column", name: "y", ifExists: false },
    ]);
    expect(ops("ALTER TABLE t RENAME COLUMN a TO b")).toEqual([{ op: "rename_column", from: "a", to: "b" }]);
    expect(ops("ALTER TABLE t ALTER COLUMN a SET DEFAULT 5, ALTER b DROP DEFAULT, ALTER c SET DEFAULT (rand()), ALTER COLUMN d SET INVISIBLE")).toEqual([
      { op: "alter_column_default", name: "a", default: { kind: "number", text: "5" } },
      { op: "alter_column_default", name: "b" },
      { op: "alter_column_default", name: "c", default: { kind: "expression", text: "rand()" } },
      { op: "alter_column_visibility", name: "d", invisible: true },
    ]);
    // Keys written on a column become their own operations right after it.
    expect(ops("ALTER TABLE t ADD COLUMN id INT NOT NULL PRIMARY KEY, MODIFY u INT UNIQUE CHECK (u > 0)").map((o) => o.op)).toEqual([
      "add_column",
      "add_primary_key",
      "modify_column",
      "add_unique",
      "add_check",
    ]);
  });

  test("index and constraint operations", () => {
    expect(
      ops(
        "ALTER TABLE t ADD PRIMARY KEY (a, b), ADD UNIQUE KEY u (c(10)), ADD INDEX i (d) COMMENT 'x', ADD FULLTEXT ft (e), ADD KEY (f), DROP INDEX j, DROP KEY `PRIMARY`, DROP PRIMARY KEY, RENAME INDEX k TO l",
      ),
    ).toEqual([
      { op: "add_primary_key", index: { name: "PRIMARY", kind: "primary", parts: [{ column: "a" }, { column: "b" }] } },
      { op: "add_unique", ifNotExists: false, index: { name: "u", kind: "unique", parts: [{ column: "c", length: 10 }] } },
      { op: "add_index", ifNotExists: false, index: { name: "i", kind: "index", parts: [{ column: "d" }], comment: "x" } },
      { op: "add_index", ifNotExists: false, index: { name: "ft", kind: "fulltext", parts: [{ column: "e" }] } },
      { op: "add_index", ifNotExists: false, index: { kind: "index", parts: [{ column: "f" }] } },
      { op: "drop_index", name: "j", ifExists: false },
      { op: "drop_primary_key" },
      { op: "drop_primary_key" },
      { op: "rename_index", from: "k", to: "l" },
    ]);
    expect(
      ops("ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES u (id), DROP FOREIGN KEY fk2, ADD CONSTRAINT c1 CHECK (a > 1), DROP CHECK c2, DROP CONSTRAINT IF EXISTS c3"),
    ).toEqual([
      { op: "add_foreign_key", ifNotExists: false, foreignKey: { name: "fk", columns: ["a"], target: { table: { database: "db", table: "u" }, columns: ["id"] } } },
      { op: "drop_foreign_key", name: "fk2", ifExists: false },
      { op: "add_check", check: { name: "c1", expression: "a > 1", enforced: true } },
      { op: "drop_constraint", name: "c2", ifExists: false, check: true },
      { op: "drop_constraint", name: "c3", ifExists: true, check: false },
    ]);
  });

  test("table-level operations: rename, charset, options, shape-neutral and unsupported ones", () => {
    expect(ops("ALTER TABLE t RENAME TO db2.u")).toEqual([{ op: "rename_table", to: { database: "db2", table: "u" } }]);
    expect(ops("ALTER TABLE t RENAME AS u, RENAME v")).toEqual([
      { op: "rename_table", to: { database: "db", table: "u" } },
      { op: "rename_table", to: { database: "db", table: "v" } },
    ]);
    expect(ops("ALTER TABLE t CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")).toEqual([{ op: "convert_charset", charset: "utf8mb4", collation: "utf8mb4_bin" }]);
    expect(ops("ALTER TABLE t CONVERT TO CHARSET latin1")).toEqual([{ op: "convert_charset", charset: "latin1" }]);
    expect(ops("ALTER TABLE t ENGINE=InnoDB DEFAULT CHARSET=latin1, COMMENT 'c', AUTO_INCREMENT = 10")).toEqual([
      { op: "table_options", options: { engine: "InnoDB", charset: "latin1", other: [] } },
      { op: "table_options", options: { comment: "c", other: [] } },
      { op: "table_options", options: { autoIncrement: "10", other: [] } },
    ]);
    // ORDER BY takes a column list: its commas do not start new specifications.
    expect(ops("ALTER TABLE t ORDER BY a DESC, b, ADD x INT").map((o) => [o.op, "text" in o ? o.text : ""])).toEqual([
      ["other", "ORDER BY a DESC, b"],
      ["add_column", ""],
    ]);
    expect(ops("ALTER TABLE t FORCE, DISABLE KEYS").map((o) => [o.op, "text" in o ? o.text : ""])).toEqual([
      ["other", "FORCE"],
      ["other", "DISABLE KEYS"],
    ]);
    // A partition operation is the statement's only one (MySQL 8.0 "ALTER TABLE Partition
    // Operations"); its commas separate partition names.
    for (const text of [
      "COALESCE PARTITION 2",
      "ADD PARTITION (PARTITION p3 VALUES LESS THAN (10), PARTITION p4 VALUES LESS THAN (20))",
      "DROP PARTITION p0, `p1`",
      "TRUNCATE PARTITION p0, p1",
      "REORGANIZE PARTITION p0, p1 INTO (PARTITION a VALUES LESS THAN (5))",
    ]) {
      expect(ops(`ALTER TABLE t ${text}`).map((o) => [o.op, "text" in o ? o.text : ""])).toEqual([["other", text]]);
    }
    // Unknown specifications are kept with their reason; the rest of the statement still parses.
    const mixed = ops("ALTER TABLE t ADD PERIOD FOR p(s, e), ADD COLUMN z INT, FROBNICATE 3");
    expect(mixed.map((o) => o.op)).toEqual(["unsupported", "add_column", "unsupported"]);
    expect(mixed[0]).toMatchObject({ op: "unsupported", text: "ADD PERIOD FOR p(s, e)", reason: expect.stringContaining("periods") });
    expect(mixed[2]).toMatchObject({ op: "unsupported", text: "FROBNICATE 3" });
    expect(only(P("ALTER ONLINE IGNORE TABLE IF EXISTS t NOWAIT ADD x INT"), "alter_table")).toMatchObject({ online: true, ignore: true, ifExists: true });
    expect(only(P("ALTER TABLE t PARTITION BY KEY(a) PARTITIONS 2"), "alter_table")).toMatchObject({ ops: [], partitioning: "PARTITION BY KEY(a) PARTITIONS 2" });
  });
});

describe("other table statements", () => {
  test("RENAME TABLE: several pairs, across databases", () => {
    expect(P("RENAME TABLE a TO b, c TO d")).toMatchObject({
      kind: "rename_table",
      renames: [
        { from: { database: "db", table: "a" }, to: { database: "db", table: "b" } },
        { from: { database: "db", table: "c" }, to: { database: "db", table: "d" } },
      ],
    });
    expect(P("RENAME TABLES x.a TO y.a")).toMatchObject({ renames: [{ from: { database: "x", table: "a" }, to: { database: "y", table: "a" } }] });
  });

  test("DROP TABLE (also as the server rewrites it), TRUNCATE", () => {
    expect(P("DROP TABLE IF EXISTS `a`,`b` /* generated by server */")).toEqual({
      kind: "drop_table",
      statement: "DROP TABLE IF EXISTS `a`,`b` /* generated by server */",
      tables: [
        { database: "db", table: "a" },
        { database: "db", table: "b" },
      ],
      ifExists: true,
      temporary: false,
    });
    expect(P("DROP /*!40005 TEMPORARY */ TABLE IF EXISTS t")).toMatchObject({ kind: "drop_table", temporary: true });
    expect(P("TRUNCATE TABLE x.t")).toMatchObject({ kind: "truncate_table", table: { database: "x", table: "t" } });
    expect(P("truncate t;")).toMatchObject({ kind: "truncate_table", table: { database: "db", table: "t" } });
  });

  test("CREATE INDEX / DROP INDEX", () => {
    expect(P("CREATE UNIQUE INDEX IF NOT EXISTS i USING BTREE ON t (a, b(10) DESC) COMMENT 'c' ALGORITHM = INPLACE LOCK = NONE")).toMatchObject({
      kind: "create_index",
      table: { database: "db", table: "t" },
      index: { name: "i", kind: "unique", using: "BTREE", comment: "c", parts: [{ column: "a" }, { column: "b", length: 10, descending: true }] },
      ifNotExists: true,
      algorithm: "INPLACE",
      lock: "NONE",
    });
    expect(P("CREATE FULLTEXT INDEX f ON x.t (body)")).toMatchObject({ index: { kind: "fulltext" }, table: { database: "x" } });
    expect(P("DROP INDEX `PRIMARY` ON t")).toMatchObject({ kind: "drop_index", name: "PRIMARY", ifExists: false });
  });

  test("statements that never change a table's shape", () => {
    const cases: Array<[string, string]> = [
      ["CREATE USER 'u'@'%' IDENTIFIED BY 'x'", "CREATE USER"],
      ["GRANT SELECT ON *.* TO u", "GRANT"],
      ["REVOKE ALL ON db.* FROM u", "REVOKE"],
      ["CREATE OR REPLACE ALGORITHM=MERGE DEFINER=`root`@`localhost` SQL SECURITY DEFINER VIEW v AS SELECT 1", "CREATE VIEW"],
      ["CREATE DEFINER=`root`@`localhost` PROCEDURE p() BEGIN SELECT 1; END", "CREATE PROCEDURE"],
      ["CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1", "CREATE TRIGGER"],
      ["CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO DELETE FROM t", "CREATE EVENT"],
      ["DROP VIEW IF EXISTS v", "DROP VIEW"],
      ["DROP FUNCTION f", "DROP FUNCTION"],
      ["ALTER USER u IDENTIFIED BY 'y'", "ALTER USER"],
      ["RENAME USER a TO b", "RENAME USER"],
      ["OPTIMIZE TABLE t", "OPTIMIZE"],
      ["ANALYZE TABLE t", "ANALYZE"],
      ["FLUSH PRIVILEGES", "FLUSH"],
      ["CREATE SPATIAL REFERENCE SYSTEM 4120 NAME 'x' DEFINITION 'y'", "CREATE SPATIAL"],
    ];
    for (const [sql, what] of cases) expect({ sql, ddl: P(sql) }).toMatchObject({ sql, ddl: { kind: "other", statement: sql, what } });
  });

  test("views, triggers, routines, events: the names they are about (the sink records them)", () => {
    const object = (sql: string) => (P(sql) as { object?: unknown }).object;
    expect(object("CREATE OR REPLACE ALGORITHM=MERGE DEFINER=`root`@`localhost` SQL SECURITY DEFINER VIEW v AS SELECT 1")).toEqual({
      type: "VIEW",
      names: [{ database: "db", table: "v" }],
    });
    expect(object("CREATE DEFINER=`root`@`%` TRIGGER IF NOT EXISTS x.tr AFTER INSERT ON x.t FOR EACH ROW INSERT INTO audit VALUES (NEW.a)")).toEqual({
      type: "TRIGGER",
      names: [{ database: "x", table: "tr" }],
      table: { database: "x", table: "t" },
    });
    expect(object("DROP VIEW IF EXISTS a, o.b")).toEqual({
      type: "VIEW",
      names: [
        { database: "db", table: "a" },
        { database: "o", table: "b" },
      ],
    });
    expect(object("CREATE AGGREGATE FUNCTION f(x INT) RETURNS INT BEGIN RETURN 1; END")).toEqual({ type: "FUNCTION", names: [{ database: "db", table: "f" }] });
    expect(object("CREATE PACKAGE BODY pk AS END")).toEqual({ type: "PACKAGE BODY", names: [{ database: "db", table: "pk" }] });
    expect(object("ALTER EVENT e RENAME TO o.e2")).toEqual({ type: "EVENT", names: [{ database: "db", table: "e" }], renameTo: { database: "o", table: "e2" } });
    expect(object("GRANT SELECT ON *.* TO u")).toBeUndefined();
  });

  test("what is not understood is unparsed, with the tables when known", () => {
    expect(P("CREATE SEQUENCE s START WITH 1")).toMatchObject({ kind: "unparsed", reason: expect.stringContaining("sequences"), tables: [{ database: "db", table: "s" }] });
    expect(P("IMPORT TABLE FROM '/x.sdi'")).toMatchObject({ kind: "unparsed" });
    expect(P("IMPORT TABLE FROM '/x.sdi'")).not.toHaveProperty("tables");
    expect(P("CREATE TABLE t (a INT")).toMatchObject({ kind: "unparsed", tables: [{ database: "db", table: "t" }] });
    expect(P("CREATE TABLE t (a VARCHAR(3) DEFAULT 'x)")).toMatchObject({ kind: "unparsed", reason: expect.stringContaining("unterminated") });
    expect(P("ALTER TABLE t ADD COLUMN (a INT")).toMatchObject({ kind: "unparsed", tables: [{ database: "db", table: "t" }] });
    // MariaDB sql_mode=ORACLE changes what type names mean (DATE is DATETIME there).
    expect(P("CREATE TABLE t (d DATE)", { sqlMode: 512n, flavour: "mariadb" })).toMatchObject({ kind: "unparsed", reason: expect.stringContaining("ORACLE") });
    expect(P("CREATE TABLE t (d DATE)", { sqlMode: 512n, flavour: "mysql" }).kind).toBe("create_table");
  });
});

describe("lexical rules", () => {
  test("identifiers: backquotes, keywords as names, case kept, leading digits, comments anywhere", () => {
    const t = table("create table `My``Db`.`Order` (`select` int, `key` int, 1col int, `from` int) -- trailing\n");
    expect(t.table).toEqual({ database: "My`Db", table: "Order" });
    expect(t.columns.map((c) => c.name)).toEqual(["select", "key", "1col", "from"]);
    expect(table("CREATE /* c */ TABLE t # hash comment\n (a /*+ hint */ INT)").columns[0]!.name).toBe("a");
    expect(P("ALTER TABLE `select` ADD COLUMN `table` INT AFTER `from`;")).toMatchObject({ table: { table: "select" }, ops: [{ op: "add_column", position: { after: "from" } }] });
  });

  test("sql_mode ANSI_QUOTES makes double quotes identifiers", () => {
    expect(table('CREATE TABLE "q" ("a b" INT)', { sqlMode: 4n }).columns[0]!.name).toBe("a b");
    expect(P('CREATE TABLE "q" (a INT)').kind).toBe("unparsed");
  });

  test("an empty default database leaves unqualified names in database ''", () => {
    expect(P("DROP TABLE t", { database: "" })).toMatchObject({ tables: [{ database: "", table: "t" }] });
  });
});

describe("lower_case_table_names ≠ 0 on the source", () => {
  // The server stores database and table names in lower case and row events carry them so,
  // while the binlog keeps each statement as its client wrote it.
  const L = { lowerCaseNames: true, database: "Shop" };
  test("database and table names are lowered; columns and index names keep their case", () => {
    const t = table("CREATE TABLE Shop.MyTable (Id INT PRIMARY KEY, KEY IdxName (Id), FOREIGN KEY (Id) REFERENCES Other.Parent (Pid))", L);
    expect(t.table).toEqual({ database: "shop", table: "mytable" });
    expect(t.columns.map((c) => c.name)).toEqual(["Id"]);
    expect(t.indexes.find((i) => i.kind === "index")?.name).toBe("IdxName");
    expect(t.foreignKeys[0]!.target.table).toEqual({ database: "other", table: "parent" });
    expect(table("CREATE TABLE MyTable (Id INT)", L).table).toEqual({ database: "shop", table: "mytable" });
    expect(only(P("RENAME TABLE MyTable TO Archive.Old", L), "rename_table").renames).toEqual([
      { from: { database: "shop", table: "mytable" }, to: { database: "archive", table: "old" } },
    ]);
    expect(only(P("CREATE DATABASE NewDb", L), "create_database").name).toBe("newdb");
    expect(only(P("DROP DATABASE NewDb", L), "drop_database").name).toBe("newdb");
    expect(ops("ALTER TABLE MyTable RENAME TO Shop.Other", L)).toEqual([{ op: "rename_table", to: { database: "shop", table: "other" } }]);
  });

  test("without it, names keep the case written", () => {
    expect(table("CREATE TABLE Shop.MyTable (Id INT)").table).toEqual({ database: "Shop", table: "MyTable" });
  });
});
