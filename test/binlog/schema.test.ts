// Schema history against a private MariaDB 10.11 whose binlog does NOT name columns
// (binlog_row_metadata=NO_LOG): snapshot, then follow DDL while decoding rows written before
// and after each change; persistence mid-stream; stale histories must fail loudly.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type mysql from "mysql2/promise";
import { BinlogSource } from "../../src/binlog/source.ts";
import { SchemaHistory, type Query, type TableDef } from "../../src/binlog/schema.ts";
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
];

const EXPECTED = (db: string) => [
  { op: "insert", table: `${db}.t1`, before: undefined, after: { id: 1, name: "één", e: "a,b", s: "r,b", u: 200, j: '{"k":1}', v: 2, h: 7, txt: "tëxt", bin: new Uint8Array([0, 255]), uu: expect.any(Uint8Array) } },
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
    for (const t of ["t2", "t3", "t4"]) expect(shape(history.table(db, t))).toEqual(shape(fresh.table(db, t)));
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

  test("a table the history does not know, and DDL it cannot follow, are errors", async () => {
    const { db, history, from } = await setup();
    const other = uniqueName("other");
    await conn.query(`CREATE DATABASE ${other}; CREATE TABLE ${other}.x (a INT)`);
    await conn.query(`INSERT INTO ${other}.x VALUES (1)`);
    const err = (await follow(history, [db, other], from).catch((e: unknown) => e)) as ReplicateError;
    expect(err.code).toBe("BINLOG_SCHEMA_MISSING");
    expect(err.message).toContain(`no schema known for ${other}.x`);

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
