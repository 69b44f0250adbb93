// AVRO change events: the codec is exact (decode(encode(v)) equals the binlog value for every
// column type and edge value), follows the AVRO spec's single-object encoding, and names the
// identifier that breaks the AVRO naming rule.
import { describe, expect, test } from "bun:test";
import { ChangeEventWriter, singleObject } from "../../src/events/encode.ts";
import { compile, LEGACY_BUILTIN } from "../../src/events/schemas.ts";
import { LogDecoder, type ChangeMessage, type LogMessage } from "../../src/events/decode.ts";
import { rabinFingerprint } from "../../src/events/fingerprint.ts";
import { ReplicateError } from "../../src/errors.ts";
import type { StreamItem } from "../../src/binlog/transactions.ts";
import type { LogRecord } from "../../src/log-contract.ts";
import { getMariadb, uniqueName } from "../support/servers.ts";
import { currentPosition, readItems } from "../support/binlog.ts";

function roundTrip(items: StreamItem[]): { records: LogRecord[]; messages: LogMessage[] } {
  const writer = new ChangeEventWriter("source");
  const records: LogRecord[] = [];
  for (const it of items) writer.write(it, records);
  const decoder = new LogDecoder();
  return { records, messages: records.map((r) => decoder.decode(r)) };
}

describe("AVRO fingerprint and framing", () => {
  test('CRC-64-AVRO of "int" matches the AVRO specification test vector 0x7275d51a3f395c8f', () => {
    expect(rabinFingerprint('"int"')).toBe(0x7275d51a3f395c8fn);
    expect(rabinFingerprint('"string"')).toBe(0x8f014872634503c7n);
  });
});

describe("built-in record layouts", () => {
  test("a DDL record carries lower_case_table_names and FOREIGN_KEY_CHECKS; the layouts written before those fields still decode", () => {
    const begin: StreamItem = {
      kind: "begin",
      flavour: "mariadb",
      gtid: "0-1-9",
      clock: {},
      file: "binlog.000001",
      pos: 4,
      timestampMs: 1_700_000_000_000,
      serverId: 1,
    } as StreamItem;
    const ddl: StreamItem = { kind: "ddl", database: "Shop", statement: "CREATE TABLE MyTable (Id INT)", lowerCaseNames: true };
    const dump: StreamItem = { kind: "ddl", database: "Shop", statement: "CREATE TABLE c (p INT REFERENCES later (id))", noForeignKeyChecks: true };
    const { messages } = roundTrip([begin, ddl, dump]);
    expect(messages.filter((m) => m.kind === "ddl")).toMatchObject([
      { kind: "ddl", database: "Shop", lowerCaseNames: true, foreignKeyChecks: true },
      { kind: "ddl", statement: "CREATE TABLE c (p INT REFERENCES later (id))", lowerCaseNames: false, foreignKeyChecks: false },
    ]);
    // Logs written by earlier releases hold DDL records of the earlier layouts (their
    // fingerprints are what those releases wrote): without the fields, names keep their case
    // and foreign keys were checked.
    const legacy = LEGACY_BUILTIN.filter((l) => l.kind === "ddl").map((l) => compile(l.schema));
    expect(legacy.map((l) => l.fingerprint)).toEqual([0x01ce74cb2e8d5151n, 0x219e98aad72e8343n]);
    const value = { gtid: "0-1-9", database: "Shop", statement: "CREATE TABLE t (a INT)", sql_mode: null, file: "binlog.000001", pos: 4n, ts_ms: 1n };
    expect(new LogDecoder().decode({ key: null, value: singleObject(legacy[0]!, value) })).toMatchObject({
      kind: "ddl",
      database: "Shop",
      statement: "CREATE TABLE t (a INT)",
      lowerCaseNames: false,
      foreignKeyChecks: true,
    });
    expect(new LogDecoder().decode({ key: null, value: singleObject(legacy[1]!, { ...value, lower_case_names: true }) })).toMatchObject({
      kind: "ddl",
      lowerCaseNames: true,
      foreignKeyChecks: true,
    });
  });
});

describe("rows written with FOREIGN_KEY_CHECKS=0", () => {
  test("the rows event's NO_FOREIGN_KEY_CHECKS_F (flags bit 1) reaches the End record; Ends of the earlier layout read as checked", async () => {
    const db = await getMariadb();
    const name = uniqueName("fkrows");
    const c = await db.connect();
    await c.query(
      `CREATE DATABASE ${name}; CREATE TABLE ${name}.p (id INT PRIMARY KEY); CREATE TABLE ${name}.k (id INT PRIMARY KEY, p INT, FOREIGN KEY (p) REFERENCES ${name}.p (id))`,
    );
    const from = await currentPosition();
    // A dump's data: a child row before its parent, under FOREIGN_KEY_CHECKS=0; then a checked one.
    await c.query(`SET FOREIGN_KEY_CHECKS = 0; INSERT INTO ${name}.k VALUES (1, 7); SET FOREIGN_KEY_CHECKS = 1; INSERT INTO ${name}.p VALUES (7)`);
    await c.end();
    const items = await readItems([name], from);
    expect(items.flatMap((i) => (i.kind === "rows" ? [[i.table.table, i.noForeignKeyChecks]] : []))).toEqual([
      ["k", true],
      ["p", false],
    ]);
    const ends = roundTrip(items).messages.flatMap((m) => (m.kind === "end" ? [m.foreignKeyChecks] : []));
    expect(ends).toEqual([false, true]);
    const begins = roundTrip(items).messages.flatMap((m) => (m.kind === "begin" ? [m.foreignKeyChecks] : []));
    expect(begins).toEqual([false, true]);
    // Logs written before the field: the End layout those releases wrote (its fingerprint).
    const legacy = compile(LEGACY_BUILTIN.find((l) => l.kind === "end")!.schema);
    expect(legacy.fingerprint).toBe(0x3595c0c45928ec7cn);
    const value = { gtid: "0-1-9", file: "binlog.000001", pos: 4n, ts_ms: 1n, event_count: 1n, history_offset: null, data_collections: [] };
    expect(new LogDecoder().decode({ key: null, value: singleObject(legacy, value) })).toMatchObject({ kind: "end", eventCount: 1, foreignKeyChecks: true });
    const legacyBegin = compile(LEGACY_BUILTIN.find((l) => l.kind === "begin")!.schema);
    expect(legacyBegin.fingerprint).toBe(0x307aa194e73e287en);
    const begin = { gtid: "0-1-9", flavour: "mariadb", server_id: 1n, file: "binlog.000001", pos: 4n, ts_ms: 1n, last_committed: null, sequence_number: null, commit_id: null };
    expect(new LogDecoder().decode({ key: null, value: singleObject(legacyBegin, begin) })).toMatchObject({ kind: "begin", serverId: 1, foreignKeyChecks: true });
  });
});

describe("change events through a real MariaDB binlog", () => {
  test("every column type survives binlog → AVRO → decoded value exactly; transaction framing is complete", async () => {
    const db = await getMariadb();
    const name = uniqueName("avro");
    const c = await db.connect();
    await c.query(`SET time_zone = '+00:00', sql_mode = ''`);
    await c.query(`CREATE DATABASE ${name}; CREATE TABLE ${name}.t (
      id BIGINT UNSIGNED PRIMARY KEY, i INT, iu INT UNSIGNED, b BIGINT, d DECIMAL(65,30), d2 DECIMAL(10,2), f FLOAT, g DOUBLE, bt BIT(10),
      y YEAR, dt DATE, tm TIME(6), dtm DATETIME(6), ts TIMESTAMP(3) NULL, ch VARCHAR(20), bn VARBINARY(8), tx TEXT, bl BLOB,
      e ENUM('a','b'), st SET('x','y'), j JSON, geo GEOMETRY)`);
    const from = await currentPosition();
    await c.query(`INSERT INTO ${name}.t VALUES
      (18446744073709551615, -2147483648, 4294967295, -9223372036854775808, '-99999999999999999999999999999999999.999999999999999999999999999999', -0.05, 1.5, -2.25e-300, b'1000000001',
       2155, '0000-00-00', '-838:59:59.000001', '2024-02-29 23:59:59.999999', '2038-01-19 03:14:07.999', 'ünï 😀', x'00ff', 'text', x'0102', 'b', 'x,y', '{"k": [1, 2]}', ST_GeomFromText('POINT(1 2)')),
      (0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '2024-00-00', NULL, '0000-00-00 00:00:00', '0000-00-00 00:00:00', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
      (1, 0, 0, 0, 0, 0, 0, 0, b'0', 0, '1000-01-01', '00:00:00', '1000-01-01 00:00:00.000001', '1970-01-01 00:00:01', '', x'', '', x'', 'a', '', '[]', NULL)`);
    await c.query(`UPDATE ${name}.t SET i = i + 1 WHERE id = 1; DELETE FROM ${name}.t WHERE id = 0`);
    await c.end();
    const items = await readItems([name], from);
    const { messages } = roundTrip(items);
    const expected = items.flatMap((it) => (it.kind === "rows" ? it.rows.map((r) => ({ before: r.before ?? null, after: r.after ?? null })) : []));
    const changes = messages.filter((m): m is ChangeMessage => m.kind === "change");
    expect(changes.map((m) => ({ before: m.before, after: m.after })) as unknown).toEqual(expected);
    expect(changes.map((m) => m.op)).toEqual(["c", "c", "c", "u", "d"]);
    expect(changes[0]!.table.key).toEqual(["id"]);
    // framing: schema records first, then Begin … End per transaction with the right counts
    const kinds = messages.map((m) => m.kind);
    expect(kinds.filter((k) => k === "begin").length).toBe(3);
    expect(kinds.filter((k) => k === "end").length).toBe(3);
    const ends = messages.filter((m) => m.kind === "end");
    expect(ends.map((e) => (e.kind === "end" ? e.eventCount : 0))).toEqual([3, 1, 1]);
    const firstChange = kinds.indexOf("change");
    expect(kinds.slice(0, firstChange)).toContain("schema");
  });

  test("a table name that breaks the AVRO rule stops with AVRO_NAME naming it", async () => {
    const db = await getMariadb();
    const name = uniqueName("badname");
    const c = await db.connect();
    await c.query(`CREATE DATABASE ${name}; CREATE TABLE ${name}.\`order-items\` (id INT PRIMARY KEY)`);
    const from = await currentPosition();
    await c.query(`INSERT INTO ${name}.\`order-items\` VALUES (1)`);
    await c.end();
    const items = await readItems([name], from);
    let caught: unknown;
    try {
      roundTrip(items);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ReplicateError);
    expect((caught as ReplicateError).code).toBe("AVRO_NAME");
    expect((caught as ReplicateError).message).toContain("order-items");
  });
});
