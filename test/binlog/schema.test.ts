// Schema history against a private MariaDB 10.11 whose binlog does NOT name columns
// (binlog_row_metadata=NO_LOG): snapshot, then follow DDL while decoding rows written before
// and after each change; persistence mid-stream; stale histories must fail loudly.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type mysql from "mysql2/promise";
import { BinlogSource } from "../../src/binlog/source.ts";
import { SchemaHistory, type Query, type TableDef } from "../../src/binlog/schema.ts";
import type { TableMap } from "../../src/binlog/events/tablemap.ts";
import type { StreamItem } from "../../src/binlog/transactions.ts";
import { ReplicateError } from "../../src/errors.ts";
import { currentPosition, rowObjects, sourceConfigFor } from "../support/binlog.ts";
import { type MariaDb, startMariadb, uniqueName } from "../support/servers.ts";

const NO_METADATA = ["--log-bin=binlog", "--binlog-format=ROW", "--binlog-row-image=FULL", "--binlog-row-metadata=NO_LOG", "--gtid-strict-mode=ON"];

let server: MariaDb;
let conn: mysql.Connection;
const query: Query = async (sql) => {
  const [rows] = await conn.query(sql);
  return rows as unknown as Array<Record<string, unknown>>;
};

beforeAll(async () => {
  server = await startMariadb({ binlogArgs: NO_METADATA });
  conn = await server.connect();
}, 60_000);

afterAll(async () => {
  await conn?.end();
  await server?.stop();
});

/** Reads from `from` to the end, feeding DDL to the history; stops early when `until` says so. */
async function follow(
  history: SchemaHistory,
  databases: string[],
  from: { file: string; pos: number },
  until?: (item: StreamItem) => boolean,
): Promise<{ items: StreamItem[]; last?: { file: string; pos: number } }> {
  const source = new BinlogSource({
    config: await sourceConfigFor(server, { databases }),
    start: { kind: "file", ...from },
    stopAtEnd: true,
    maxRetries: 0,
    history,
  });
  const items: StreamItem[] = [];
  let last: { file: string; pos: number } | undefined;
  for await (const item of source.items()) {
    items.push(item);
    if (item.kind === "commit") {
      last = { file: item.file, pos: item.pos };
      if (until?.(item)) break;
    }
  }
  return last ? { items, last } : { items };
}

const WORKLOAD = (db: string) => [
  `INSERT INTO ${db}.t1 (id, name, e, s, u, j, txt, bin, uu) VALUES (1, 'één', 'a,b', 'r,b', 200, '{"k":1}', 'tëxt', x'00ff', '123e4567-e89b-12d3-a456-426614174000')`,
  `ALTER TABLE ${db}.t1 ADD COLUMN mid VARCHAR(10) CHARACTER SET utf8mb4 DEFAULT 'm' AFTER id, ALGORITHM=COPY, LOCK=SHARED`,
  `INSERT INTO ${db}.t1 (id, name, e, s, u) VALUES (2, 'deux', 'c''d', 'g', 255)`,
  `ALTER TABLE ${db}.t1 DROP COLUMN u`,
  `INSERT INTO ${db}.t1 (id, name, e) VALUES (3, 'trois', 'x\\\\y')`,
  `ALTER TABLE ${db}.t1 CHANGE COLUMN name title VARCHAR(30) CHARACTER SET utf8mb4 NOT NULL DEFAULT '' FIRST`,
  `INSERT INTO ${db}.t1 (id, title) VALUES (4, '四')`,
  `UPDATE ${db}.t1 SET title = 'uno' WHERE id = 1`,
  `RENAME TABLE ${db}.t1 TO ${db}.t2`,
  `INSERT INTO ${db}.t2 (id, title) VALUES (5, 'cinq')`,
  `CREATE TABLE ${db}.t3 (k BIGINT UNSIGNED NOT NULL, label CHAR(3) CHARACTER SET latin1, amount DECIMAL(10,2), memo TINYTEXT, PRIMARY KEY (k))`,
  `INSERT INTO ${db}.t3 VALUES (18446744073709551615, 'é', -12.50, 'ø')`,
  `ALTER TABLE ${db}.t3 MODIFY amount DECIMAL(12,4), ADD COLUMN note TEXT FIRST, CONVERT TO CHARACTER SET utf8mb4`,
  `INSERT INTO ${db}.t3 (k, label, amount, note, memo) VALUES (7, 'ü€', 1.5, 'n', REPEAT('ж', 200))`,
  `CREATE TABLE ${db}.t4 LIKE ${db}.t3`,
  `ALTER TABLE ${db}.t4 DROP PRIMARY KEY, ADD PRIMARY KEY (label, k), ALGORITHM=INPLACE, LOCK=NONE`,
  `INSERT INTO ${db}.t4 (k, label) VALUES (8, 'abc')`,
  `CREATE UNIQUE INDEX ux ON ${db}.t2 (mid, id)`,
  `ALTER TABLE ${db}.t2 ADD INDEX (title(5)), ADD UNIQUE KEY (bin), RENAME INDEX ux TO uy`,
  `DROP INDEX bin ON ${db}.t2`,
  // Column placement corners, as the server resolves them (the final shape is compared below).
  `CREATE TABLE ${db}.t6 (a INT, b INT, c INT)`,
  `ALTER TABLE ${db}.t6 ADD COLUMN x INT AFTER c, MODIFY c INT FIRST`,
  `ALTER TABLE ${db}.t6 ADD COLUMN y INT AFTER a, CHANGE b b2 INT AFTER y`,
  `ALTER TABLE ${db}.t6 ADD COLUMN a INT, DROP COLUMN a`,
  `ALTER TABLE ${db}.t6 DROP COLUMN x, ADD COLUMN x BIGINT FIRST, CHANGE y y2 INT, ADD COLUMN w INT AFTER y2`,
  `ALTER TABLE ${db}.t6 RENAME COLUMN w TO w2, ADD COLUMN v CHAR(1) CHARACTER SET utf8mb4 BINARY AFTER c, ADD COLUMN u TINYTEXT`,
];

const EXPECTED = (db: string) => [
  {
    op: "insert",
    table: `${db}.t1`,
    before: undefined,
    after: { id: 1, name: "één", e: "a,b", s: "r,b", u: 200, j: '{"k":1}', v: 2, h: 7, txt: "tëxt", bin: new Uint8Array([0, 255]), uu: expect.any(Uint8Array) },
  },
  { op: "insert", table: `${db}.t1`, before: undefined, after: { id: 2, mid: "m", name: "deux", e: "c'd", s: "g", u: 255, j: null, v: 4, h: 7, txt: null, bin: null, uu: null } },
  { op: "insert", table: `${db}.t1`, before: undefined, after: { id: 3, mid: "m", name: "trois", e: "x\\y", s: null, j: null, v: 6, h: 7, txt: null, bin: null, uu: null } },
  { op: "insert", table: `${db}.t1`, before: undefined, after: { title: "四", id: 4, mid: "m", e: null, s: null, j: null, v: 8, h: 7, txt: null, bin: null, uu: null } },
  {
    op: "update",
    table: `${db}.t1`,
    before: expect.objectContaining({ title: "één", id: 1, e: "a,b" }),
    after: expect.objectContaining({ title: "uno", id: 1, e: "a,b", s: "r,b" }),
  },
  { op: "insert", table: `${db}.t2`, before: undefined, after: expect.objectContaining({ title: "cinq", id: 5, v: 10 }) },
  { op: "insert", table: `${db}.t3`, before: undefined, after: { k: 18446744073709551615n, label: "é", amount: "-12.50", memo: "ø" } },
  { op: "insert", table: `${db}.t3`, before: undefined, after: { note: "n", k: 7n, label: "ü€", amount: "1.5000", memo: "ж".repeat(200) } },
  { op: "insert", table: `${db}.t4`, before: undefined, after: { note: null, k: 8n, label: "abc", amount: null, memo: null } },
];

async function setup(): Promise<{ db: string; history: SchemaHistory; from: { file: string; pos: number }; mid?: { file: string; pos: number } }> {
  const db = uniqueName("hist");
  await conn.query(`CREATE DATABASE ${db} CHARACTER SET latin1`);
  await conn.query(
    `CREATE TABLE ${db}.t1 (id INT UNSIGNED NOT NULL PRIMARY KEY, name VARCHAR(20), e ENUM('a,b','c''d','x\\\\y'), s SET('r','g','b'),
       u TINYINT UNSIGNED, j JSON, v INT AS (id * 2) VIRTUAL, h INT INVISIBLE DEFAULT 7, txt TEXT CHARACTER SET utf8mb4,
       bin VARBINARY(4), uu UUID)`,
  );
  const history = await SchemaHistory.snapshot(query, [db]);
  return { db, history, from: await currentPosition(server) };
}

describe("schema history (MariaDB, binlog_row_metadata=NO_LOG)", () => {
  test("without a history the source refuses to guess column names", async () => {
    const { db, from } = await setup();
    await conn.query(`INSERT INTO ${db}.t1 (id) VALUES (1)`);
    const source = new BinlogSource({ config: await sourceConfigFor(server, { databases: [db] }), start: { kind: "file", ...from }, stopAtEnd: true, maxRetries: 0 });
    const err = await (async () => {
      for await (const _ of source.items());
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReplicateError);
    expect((err as ReplicateError).code).toBe("BINLOG_SCHEMA_MISSING");
  });

  test("every row decodes with the definition in effect when it was written", async () => {
    const { db, history, from } = await setup();
    for (const sql of WORKLOAD(db)) await conn.query(sql);
    const { items } = await follow(history, [db], from);
    expect(items.filter((i) => i.kind === "rollback")).toEqual([]);
    expect(rowObjects(items)).toEqual(EXPECTED(db));
    const rows = items.filter((i) => i.kind === "rows");
    const t4 = rows.at(-1);
    if (t4?.kind !== "rows") throw new Error("shape");
    expect(t4.table.primaryKey.map((i) => t4.table.columns[i]!.name)).toEqual(["label", "k"]);
    expect(history.table(db, "t1")).toBeUndefined();

    // The history's definitions match what the server reports after the same DDL.
    const fresh = await SchemaHistory.snapshot(query, [db]);
    for (const t of ["t2", "t3", "t4", "t6"]) expect(shape(history.table(db, t))).toEqual(shape(fresh.table(db, t)));
    expect(history.table(db, "t2")?.indexes.map((ix) => ix.name)).toEqual(["uy", "title"]);
    // CONVERT TO CHARACTER SET grows TEXT types to keep their length in characters.
    expect(history.table(db, "t3")?.columns.find((c) => c.name === "memo")?.type.name).toBe("text");
  }, 60_000);

  test("CREATE TABLE ... SELECT is followed in the form row-based logging writes", async () => {
    const { db, history, from } = await setup();
    await conn.query(`INSERT INTO ${db}.t1 (id, name, e) VALUES (1, 'a', 'c''d')`);
    await conn.query(`CREATE TABLE ${db}.t5 SELECT id, name, e FROM ${db}.t1`);
    // The rows of t5 share the CREATE's transaction, which the transaction assembler rejects
    // today (it commits a DDL at once when no BEGIN was seen); what this test owns is that the
    // DDL item, as the server rewrote it, is followed before those rows.
    const seen: string[] = [];
    const source = new BinlogSource({
      config: await sourceConfigFor(server, { databases: [db] }),
      start: { kind: "file", ...from },
      stopAtEnd: true,
      maxRetries: 0,
      history,
    });
    try {
      for await (const item of source.items()) if (item.kind === "ddl") seen.push(item.statement);
    } catch (err) {
      if ((err as ReplicateError).code === "BINLOG_SCHEMA_MISSING") throw err;
    }
    expect(seen).toEqual([expect.stringContaining(`CREATE TABLE \`${db}\`.\`t5\` (`)]);
    const fresh = await SchemaHistory.snapshot(query, [db]);
    expect(shape(history.table(db, "t5"))).toEqual(shape(fresh.table(db, "t5")));
    expect(history.table(db, "t5")?.columns.map((c) => c.name)).toEqual(["id", "name", "e"]);
  }, 60_000);

  test("persisted mid-stream, restored, continued: same rows", async () => {
    const { db, history, from } = await setup();
    const work = WORKLOAD(db);
    for (const sql of work.slice(0, 7)) await conn.query(sql);
    const mid = await currentPosition(server);
    for (const sql of work.slice(7)) await conn.query(sql);

    const first = await follow(history, [db], from, (item) => item.kind === "commit" && item.pos >= mid.pos);
    expect(first.last?.pos).toBe(mid.pos);
    const stored = JSON.stringify(history.toJSON());
    const restored = SchemaHistory.fromJSON(JSON.parse(stored) as unknown);
    expect(restored.version).toBe(history.version);
    const second = await follow(restored, [db], first.last!);
    expect([...rowObjects(first.items), ...rowObjects(second.items)]).toEqual(EXPECTED(db));
  }, 60_000);

  test("a stale history stops decoding with a clear error instead of wrong data", async () => {
    const { db, history, from } = await setup();
    await conn.query(`INSERT INTO ${db}.t1 (id, name) VALUES (1, 'x')`);
    // The history believes in a DDL the server never ran: `name` an INT.
    history.apply({ database: db, statement: "ALTER TABLE t1 MODIFY name INT" });
    const err = await follow(history, [db], from).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReplicateError);
    const e = err as ReplicateError;
    expect(e.code).toBe("BINLOG_SCHEMA_MISSING");
    expect(e.where).toBe(`${db}.t1`);
    expect(e.message).toContain("name is INT in the history but the binlog writes VARCHAR");
    expect(e.message).toContain("binlog_row_metadata=FULL");

    const dropped = await SchemaHistory.snapshot(query, [db]);
    dropped.apply({ database: db, statement: "ALTER TABLE t1 DROP COLUMN j" });
    const err2 = (await follow(dropped, [db], from).catch((x: unknown) => x)) as ReplicateError;
    expect(err2.message).toMatch(/the binlog has 11 columns, the history 10 .*generated\/invisible columns: v \(generated\), h \(invisible\)/);
  }, 60_000);

  test("other databases' rows never stop the stream; an unknown table of a followed one does", async () => {
    const { db, history, from } = await setup();
    const other = uniqueName("other");
    // Text the history cannot know the charset of, in a database it does not follow.
    await conn.query(`CREATE DATABASE ${other}; CREATE TABLE ${other}.x (a INT, s VARCHAR(5) CHARACTER SET latin1)`);
    await conn.query(`INSERT INTO ${other}.x VALUES (1, 'é'); INSERT INTO ${db}.t1 (id, name) VALUES (1, 'ok')`);
    const { items } = await follow(history, [db], from);
    expect(rowObjects(items).map((r) => [r.table, r.after?.name])).toEqual([[`${db}.t1`, "ok"]]);

    // A table created without the binlog knowing (sql_log_bin=0) in a followed database.
    const from2 = await currentPosition(server);
    await conn.query(`SET sql_log_bin = 0; CREATE TABLE ${db}.x (a INT); SET sql_log_bin = 1; INSERT INTO ${db}.x VALUES (1)`);
    const err = (await follow(history, [db], from2).catch((e: unknown) => e)) as ReplicateError;
    expect(err.code).toBe("BINLOG_SCHEMA_MISSING");
    expect(err.where).toBe(`${db}.x`);
    expect(err.message).toContain(`no schema known for ${db}.x`);

    expect(() => history.apply({ database: db, statement: "ALTER TABLE t1 ADD PERIOD FOR SYSTEM_TIME (a, b)" })).toThrow(/cannot follow "ADD PERIOD/);
    expect(() => history.apply({ database: db, statement: "CREATE TABLE t9 AS SELECT 1 AS a" })).toThrow(/CREATE TABLE \.\.\. SELECT/);
    // Not about a followed database, or not about tables at all: nothing to do.
    expect(history.apply({ database: "elsewhere", statement: "CREATE TABLE t9 AS SELECT 1 AS a" }).kind).toBe("unparsed");
    expect(history.apply({ database: db, statement: "CREATE VIEW v1 AS SELECT 1" }).kind).toBe("other");
  }, 60_000);

  test("resolve() caches per table definition and TABLE_MAP shape", async () => {
    const { db, history, from } = await setup();
    await conn.query(`INSERT INTO ${db}.t1 (id) VALUES (1); INSERT INTO ${db}.t1 (id) VALUES (2)`);
    const { items } = await follow(history, [db], from);
    const tables = items.flatMap((i) => (i.kind === "rows" ? [i.table] : []));
    expect(tables.length).toBe(2);
    expect(tables[0]!.columns).toBe(tables[1]!.columns);
  }, 60_000);
});

/** The parts of a definition both the DDL path and information_schema must agree on. */
function shape(def: TableDef | undefined) {
  if (!def) return undefined;
  return {
    columns: def.columns.map((c) => ({
      name: c.name,
      type: c.type.name,
      // Integer display width is cosmetic and filled in by the server (int(11)); not compared.
      length: /int$/.test(c.type.name) ? undefined : c.type.length,
      precision: c.type.precision,
      scale: c.type.scale,
      fsp: c.type.fsp,
      unsigned: c.type.unsigned,
      charset: c.type.charset,
      collation: c.type.collation,
      values: c.type.values,
      nullable: c.nullable,
      generated: c.generated?.stored,
      invisible: c.invisible,
    })),
    primaryKey: def.primaryKey,
    // information_schema lists indexes by name, the history in creation order.
    indexes: def.indexes.map((ix) => ({ name: ix.name, kind: ix.kind, parts: ix.parts })).sort((a, b) => String(a.name).localeCompare(String(b.name))),
    charset: def.charset,
    collation: def.collation,
  };
}

// ---------------------------------------------------------------- rules, without a server

const CATALOG = {
  charsets: [
    ["latin1", "latin1_swedish_ci", 1],
    ["utf8mb4", "utf8mb4_0900_ai_ci", 4],
    ["utf8mb3", "utf8mb3_general_ci", 3],
    ["binary", "binary", 1],
  ],
  collations: [
    ["latin1_swedish_ci", 8, "latin1"],
    ["latin1_bin", 47, "latin1"],
    ["utf8mb4_0900_ai_ci", 255, "utf8mb4"],
    ["utf8mb4_bin", 46, "utf8mb4"],
    ["utf8mb3_general_ci", 33, "utf8mb3"],
    ["binary", 63, "binary"],
  ],
};

function history(over: Record<string, unknown> = {}): SchemaHistory {
  return SchemaHistory.fromJSON({
    format: 1,
    version: 0,
    flavour: "mysql",
    serverVersion: 80036,
    lowerCaseTableNames: 0,
    explicitDefaultsForTimestamp: true,
    server: { charset: "latin1", collation: "latin1_swedish_ci" },
    databases: ["d"],
    ...CATALOG,
    databaseDefaults: [["d", "latin1", "latin1_swedish_ci"]],
    tables: [],
    unknown: [],
    ...over,
  });
}

function run(h: SchemaHistory, ...statements: string[]): SchemaHistory {
  for (const statement of statements) h.apply({ database: "d", statement });
  return h;
}

const names = (h: SchemaHistory, t: string) => h.table("d", t)?.columns.map((c) => c.name);

/** A TABLE_MAP as a binlog without optional metadata gives it. */
function mapOf(table: string, cols: Array<[number, number]>, database = "d", have: Partial<TableMap["metadata"]["missing"]> = {}, unsigned: boolean[] = []): TableMap {
  return {
    table: {
      tableId: 7n,
      database,
      table,
      columns: cols.map(([type, meta], i) => ({ name: `@${i + 1}`, type, meta, nullable: true, unsigned: unsigned[i] ?? false })),
      primaryKey: [],
    },
    flags: 0,
    namesFromMetadata: false,
    metadata: { missing: { names: true, signedness: true, charsets: true, enumSetValues: true, primaryKey: true, ...have } },
  };
}

describe("schema history rules", () => {
  test("ALTER TABLE places columns the way the server does", () => {
    const h = run(history(), "CREATE TABLE t (a INT, b INT, c INT)");
    run(h, "ALTER TABLE t DROP COLUMN a, ADD COLUMN a BIGINT FIRST");
    expect(names(h, "t")).toEqual(["a", "b", "c"]);
    expect(h.table("d", "t")?.columns[0]?.type.name).toBe("bigint");
    // Changed columns with a position are placed with the additions, in written order, by new names.
    // A changed column keeps its old slot until its own FIRST/AFTER is applied (MariaDB 10.11).
    run(h, "ALTER TABLE t ADD COLUMN x INT AFTER c, CHANGE b b2 INT AFTER x, MODIFY c INT FIRST");
    expect(names(h, "t")).toEqual(["c", "a", "x", "b2"]);
    expect(() => run(history(), "CREATE TABLE t (a INT, b INT)", "ALTER TABLE t ADD z INT AFTER b, CHANGE b b2 INT FIRST")).toThrow(/AFTER b: no such column/);
    run(h, "ALTER TABLE t RENAME COLUMN x TO y, ALTER COLUMN a SET DEFAULT 3, ADD COLUMN IF NOT EXISTS y INT");
    expect(names(h, "t")).toEqual(["c", "a", "y", "b2"]);
    expect(h.table("d", "t")?.columns[1]?.default).toEqual({ kind: "number", text: "3" });
    expect(() => run(h, "ALTER TABLE t DROP COLUMN nope")).toThrow(/DROP COLUMN nope: no such column/);
    expect(() => run(h, "ALTER TABLE t ADD COLUMN q INT AFTER nope")).toThrow(/AFTER nope: no such column/);
  });

  test("keys follow column renames and drops; primary key columns are NOT NULL", () => {
    const h = run(history(), "CREATE TABLE t (a INT, b INT, c INT, PRIMARY KEY (a, b), UNIQUE KEY u (b, c), KEY (c))");
    run(h, "ALTER TABLE t CHANGE b bb INT, DROP COLUMN c");
    const t = h.table("d", "t")!;
    expect(t.primaryKey).toEqual(["a", "bb"]);
    expect(t.indexes).toEqual([{ name: "u", kind: "unique", parts: [{ column: "bb" }] }]);
    expect(t.columns.map((c) => c.nullable)).toEqual([false, false]);
    run(h, "ALTER TABLE t DROP PRIMARY KEY, ADD PRIMARY KEY (bb)", "CREATE INDEX i ON t (a)", "ALTER TABLE t ADD KEY (a)", "DROP INDEX u ON t");
    expect(h.table("d", "t")?.primaryKey).toEqual(["bb"]);
    expect(h.table("d", "t")?.indexes.map((ix) => ix.name)).toEqual(["i", "a"]);
    run(h, "DROP INDEX `PRIMARY` ON t");
    expect(h.table("d", "t")?.primaryKey).toEqual([]);
  });

  test("character sets: column, table, database and server defaults; BINARY; TEXT(M); CONVERT TO", () => {
    const h = run(
      history(),
      "CREATE DATABASE e CHARACTER SET utf8mb4",
      "CREATE TABLE t (a VARCHAR(5), b CHAR(2) BINARY, c TEXT(60) CHARACTER SET utf8mb4, d TEXT(100) CHARSET utf8mb4, e TINYTEXT, f VARBINARY(3), g ENUM('x') COLLATE utf8mb4_bin, h BLOB(300), j NATIONAL CHAR(1))",
    );
    const cols = h.table("d", "t")!.columns.map((c) => [c.name, c.type.name, c.type.charset, c.type.collation]);
    expect(cols).toEqual([
      ["a", "varchar", "latin1", "latin1_swedish_ci"],
      ["b", "char", "latin1", "latin1_bin"],
      ["c", "tinytext", "utf8mb4", "utf8mb4_0900_ai_ci"],
      ["d", "text", "utf8mb4", "utf8mb4_0900_ai_ci"],
      ["e", "tinytext", "latin1", "latin1_swedish_ci"],
      ["f", "varbinary", "binary", "binary"],
      ["g", "enum", "utf8mb4", "utf8mb4_bin"],
      ["h", "blob", "binary", "binary"],
      ["j", "char", "utf8mb3", "utf8mb3_general_ci"],
    ]);
    h.apply({ database: "e", statement: "CREATE TABLE u (a VARCHAR(1))" });
    expect(h.table("e", "u")).toBeUndefined(); // database e is not followed
    run(h, "ALTER TABLE t DEFAULT CHARSET utf8mb4, ADD COLUMN k VARCHAR(1)");
    expect(h.table("d", "t")?.columns.at(-1)?.type.charset).toBe("utf8mb4");
    expect(h.table("d", "t")?.columns[0]?.type.charset).toBe("latin1");
    run(h, "ALTER TABLE t CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin");
    const after = h.table("d", "t")!;
    expect(after.columns.map((c) => [c.name, c.type.name, c.type.collation])).toEqual([
      ["a", "varchar", "utf8mb4_bin"],
      ["b", "char", "utf8mb4_bin"],
      ["c", "tinytext", "utf8mb4_bin"],
      ["d", "text", "utf8mb4_bin"],
      ["e", "text", "utf8mb4_bin"],
      ["f", "varbinary", "binary"],
      ["g", "enum", "utf8mb4_bin"],
      ["h", "blob", "binary"],
      ["j", "char", "utf8mb4_bin"],
      ["k", "varchar", "utf8mb4_bin"],
    ]);
    expect([after.charset, after.collation]).toEqual(["utf8mb4", "utf8mb4_bin"]);
  });

  test("renames: chains, swaps, across databases; unknown tables explain themselves", () => {
    const h = run(history({ databases: ["d", "x"] }), "CREATE TABLE a (i INT)", "CREATE TABLE b (s VARCHAR(3))");
    run(h, "RENAME TABLE a TO tmp, b TO a, tmp TO b");
    expect(names(h, "a")).toEqual(["s"]);
    expect(names(h, "b")).toEqual(["i"]);
    run(h, "RENAME TABLE b TO x.b", "ALTER TABLE a RENAME TO elsewhere.a");
    expect(h.table("x", "b")?.columns[0]?.name).toBe("i");
    expect(h.table("d", "a")).toBeUndefined();
    run(h, "RENAME TABLE outside.z TO d.z");
    expect(() => h.resolve(mapOf("z", [[3, 0]]))).toThrow(/no schema known for d\.z.*renamed from outside\.z/);
    run(h, "CREATE TABLE c LIKE outside.q");
    expect(() => h.resolve(mapOf("c", [[3, 0]]))).toThrow(/created LIKE outside\.q/);
    run(h, "CREATE TABLE c LIKE x.b", "DROP DATABASE x");
    expect(names(h, "c")).toEqual(["i"]);
    expect(h.table("x", "b")).toBeUndefined();
    run(h, "DROP TABLE IF EXISTS c, nope /* generated by server */");
    expect(h.table("d", "c")).toBeUndefined();
  });

  test("lower_case_table_names folds names; IF NOT EXISTS keeps the existing table", () => {
    const h = run(history({ lowerCaseTableNames: 1 }), "CREATE TABLE MixedCase (a INT)", "ALTER TABLE MIXEDCASE ADD COLUMN B INT", "CREATE TABLE IF NOT EXISTS mixedcase (z INT)");
    expect(h.table("d", "mixedcase")?.table).toBe("mixedcase");
    expect(names(h, "MixedCase")).toEqual(["a", "B"]);
    expect(
      h
        .resolve(
          mapOf("mixedcase", [
            [3, 0],
            [3, 0],
          ]),
        )
        .columns.map((c) => c.name),
    ).toEqual(["a", "B"]);
  });

  test("resolve() checks sizes and signedness against the binlog, and takes what the binlog knows", () => {
    const h = run(
      history(),
      "CREATE TABLE t (id INT UNSIGNED PRIMARY KEY, d DECIMAL(10,2), v VARCHAR(5) CHARACTER SET utf8mb4, e ENUM('a','b'), s SET('x','y'), ts TIMESTAMP(3) NULL, j JSON)",
    );
    const good: Array<[number, number]> = [
      [3, 0],
      [246, 10 * 256 + 2],
      [15, 20],
      [247, 1],
      [248, 1],
      [17, 3],
      [245, 4],
    ];
    const info = h.resolve(mapOf("t", good));
    expect(info.columns.map((c) => [c.name, c.unsigned, c.collation, c.enumValues ?? c.setValues])).toEqual([
      ["id", true, undefined, undefined],
      ["d", false, undefined, undefined],
      ["v", false, 255, undefined],
      ["e", false, 8, ["a", "b"]],
      ["s", false, 8, ["x", "y"]],
      ["ts", false, undefined, undefined],
      ["j", false, undefined, undefined],
    ]);
    expect(info.primaryKey).toEqual([0]);
    expect(info.tableId).toBe(7n);
    const bad = (k: number, col: [number, number]) => () =>
      h.resolve(
        mapOf(
          "t",
          good.map((c, i) => (i === k ? col : c)),
        ),
      );
    expect(bad(1, [246, 12 * 256 + 4])).toThrow(/column #2 d is DECIMAL\(10,2\) in the history but the binlog writes NEWDECIMAL/);
    expect(bad(2, [15, 5])).toThrow(/column #3 v is VARCHAR\(5\) CHARACTER SET utf8mb4 .* \(5 bytes in the binlog\)/);
    expect(bad(5, [17, 6])).toThrow(/TIMESTAMP\(3\).*fsp 3, binlog 6/);
    expect(() => h.resolve(mapOf("t", good.slice(1)))).toThrow(/the binlog has 6 columns, the history 7/);
    // MySQL's MINIMAL metadata carries signedness and charsets: used, and checked.
    const minimal = h.resolve(mapOf("t", good, "d", { signedness: false }, [true]));
    expect(minimal.columns[0]?.unsigned).toBe(true);
    expect(() => h.resolve(mapOf("t", good, "d", { signedness: false }, [false]))).toThrow(/id is UNSIGNED in the history but not in the binlog/);
  });

  test("explicit_defaults_for_timestamp off: TIMESTAMP is NOT NULL unless declared NULL", () => {
    const h = run(history({ explicitDefaultsForTimestamp: false }), "CREATE TABLE t (a TIMESTAMP, b TIMESTAMP NULL, c DATETIME)");
    expect(h.table("d", "t")?.columns.map((c) => c.nullable)).toEqual([false, true, true]);
  });

  test("the stored form is checked before it is trusted", () => {
    const json = run(history(), "CREATE TABLE t (a INT)").toJSON();
    expect(SchemaHistory.fromJSON(JSON.stringify(json)).table("d", "t")?.columns[0]?.name).toBe("a");
    expect(() => SchemaHistory.fromJSON({ ...json, format: 2 })).toThrow(/format 2, this version reads 1/);
    expect(() => SchemaHistory.fromJSON({ ...json, tables: [{ database: "d" }] })).toThrow(/not readable \(a table entry\)/);
    expect(() => SchemaHistory.fromJSON({ ...json, collations: [["x", "1", "latin1"]] })).toThrow(/an entry of collations/);
    expect(() => SchemaHistory.fromJSON("[]")).toThrow(/not an object/);
  });

  test("the parts form: a base, then changes replayed in order; its shape is checked too", () => {
    const h = run(history(), "CREATE TABLE t (a INT)", "CREATE TABLE u (b INT)");
    h.takeChanges();
    const base = h.base();
    const all = h.everything();
    expect(h.changed).toBe(false);
    run(h, "RENAME TABLE t TO t2", "ALTER DATABASE d CHARACTER SET utf8mb4");
    expect(h.changed).toBe(true);
    const delta = h.takeChanges();
    expect(h.changed).toBe(false);
    expect(delta).toMatchObject({ part: "change", databaseDefaults: [["d", "utf8mb4", "utf8mb4_0900_ai_ci"]], removed: [["d", "t"]], tables: [{ table: "t2" }] });
    const back = SchemaHistory.fromParts([JSON.stringify(base), all, delta]);
    expect(back.toJSON()).toEqual({ ...h.toJSON(), version: 0 });
    expect(() => SchemaHistory.fromParts([all])).toThrow(/the first part is a change, not the base/);
    expect(() => SchemaHistory.fromParts([base, base])).toThrow(/part 2 is a base, not a change/);
    expect(() => SchemaHistory.fromParts([{ ...base, format: 1 }])).toThrow(/part 1 has format 1, this version reads 2/);
    expect(() => SchemaHistory.fromParts([base, { ...all, removed: [["d"]] }])).toThrow(/an entry of removed/);
    expect(() => SchemaHistory.fromParts([])).toThrow(/no parts/);
  });
});
