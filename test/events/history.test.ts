// The schema history in the log as a chain of parts (src/events/history.ts), written to and read
// from a real journal: a full snapshot of a 1,000-table schema is split into records under the
// bound, each DDL adds a delta naming only what it touched, a load at any history offset
// rebuilds exactly the history of that moment, a new full snapshot bounds the chain, and the
// one-record layout of earlier versions still loads.
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SchemaHistory } from "../../src/binlog/schema.ts";
import { ReplicateError } from "../../src/errors.ts";
import { ChangeEventWriter, singleObject } from "../../src/events/encode.ts";
import { decodeBuiltin } from "../../src/events/decode.ts";
import { HISTORY_RECORD_BYTES, HistoryLog, MAX_DELTAS, MAX_PASSES, READ_GAP, readHistory } from "../../src/events/history.ts";
import { compile, LEGACY_BUILTIN } from "../../src/events/schemas.ts";
import { openJournalReader, openJournalWriter, type JournalWriter } from "../../src/transport/journal.ts";
import type { LogRecord } from "../../src/log-contract.ts";

const temps: string[] = [];
afterEach(() => {
  for (const t of temps.splice(0)) rmSync(t, { recursive: true, force: true });
});

async function journal(): Promise<{ dir: string; w: JournalWriter }> {
  const t = mkdtempSync(join(tmpdir(), "gsr-history-"));
  temps.push(t);
  const dir = join(t, "journal");
  return { dir, w: await openJournalWriter({ dir, segment_mib: 128 }) };
}

function empty(lowerCaseTableNames = 0): SchemaHistory {
  return SchemaHistory.fromJSON({
    format: 1,
    version: 0,
    flavour: "mariadb",
    serverVersion: 101106,
    lowerCaseTableNames,
    explicitDefaultsForTimestamp: true,
    server: { charset: "latin1", collation: "latin1_swedish_ci" },
    databases: ["d"],
    charsets: [
      ["latin1", "latin1_swedish_ci", 1],
      ["utf8mb4", "utf8mb4_general_ci", 4],
      ["binary", "binary", 1],
    ],
    collations: [
      ["latin1_swedish_ci", 8, "latin1"],
      ["latin1_bin", 47, "latin1"],
      ["utf8mb4_general_ci", 45, "utf8mb4"],
      ["utf8mb4_bin", 46, "utf8mb4"],
      ["binary", 63, "binary"],
    ],
    databaseDefaults: [["d", "utf8mb4", "utf8mb4_general_ci"]],
    tables: [],
    unknown: [],
  });
}

/** A table of ten columns and two indexes: about 2 KB in the history, as the application schema. */
const create = (name: string) =>
  `CREATE TABLE ${name} (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL, email VARCHAR(200), status ENUM('new','active','closed'), amount DECIMAL(12,2), created DATETIME, updated TIMESTAMP NULL, notes TEXT, flags SET('a','b','c'), ref BIGINT UNSIGNED, KEY ix_name (name), UNIQUE KEY ux_email (email))`;

function schema(tables: number): SchemaHistory {
  const h = empty();
  for (let i = 0; i < tables; i++) h.apply({ database: "d", statement: create(`t${i}`) });
  return h;
}

/** The history as plain JSON, entries in key order (a reload rebuilds maps in another order). */
function canonical(h: SchemaHistory): unknown {
  const j = h.toJSON();
  const by = (a: { database: string; table: string }, b: { database: string; table: string }) => `${a.database}.${a.table}`.localeCompare(`${b.database}.${b.table}`);
  return JSON.parse(JSON.stringify({ ...j, version: 0, tables: [...j.tables].sort(by), unknown: [...j.unknown].sort(), databaseDefaults: [...j.databaseDefaults].sort() }));
}

/** Records of other kinds between history writes, as a transaction's rows would be. */
function filler(events: ChangeEventWriter, n: number): LogRecord[] {
  return Array.from({ length: n }, (_, i) => events.positionRecord("binlog.000001", 4 + i, null));
}

async function load(dir: string, offset: bigint) {
  const reader = await openJournalReader({ dir });
  try {
    return await readHistory(reader, offset);
  } finally {
    await reader.close();
  }
}

async function failure(p: Promise<unknown>): Promise<ReplicateError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ReplicateError) return err;
    throw err;
  }
  throw new Error("expected a ReplicateError");
}

describe("schema history parts in the log", () => {
  test("1,000 tables: the snapshot is split under the bound, each DDL writes one small delta, a load at every point rebuilds exactly that history", async () => {
    const { dir, w } = await journal();
    const events = new ChangeEventWriter("source");
    const log = new HistoryLog(events);
    const h = schema(1000);
    const points: Array<{ offset: bigint; state: unknown }> = [];

    await w.append(filler(events, 3));
    const full = log.records(h, w.endOffset());
    await w.append(full);
    points.push({ offset: events.historyOffset!, state: canonical(h) });
    const fullBytes = full.reduce((a, r) => a + r.value.length, 0);
    expect(fullBytes).toBeGreaterThan(2 * HISTORY_RECORD_BYTES);
    expect(full.length).toBeGreaterThan(2);
    for (const r of full) expect(r.value.length).toBeLessThanOrEqual(HISTORY_RECORD_BYTES);

    const ddl = [
      "ALTER TABLE t1 ADD COLUMN extra INT AFTER id",
      "RENAME TABLE t2 TO t2_old, t3 TO t2",
      "DROP TABLE t4",
      "CREATE TABLE n1 LIKE d.nosuch",
      "ALTER TABLE t5 MODIFY email VARCHAR(300), DROP INDEX ix_name",
      "CREATE TABLE t4 (a INT)",
      "ALTER TABLE n1 ADD COLUMN z INT",
      "DROP TABLE IF EXISTS t6, nosuch",
      "ALTER DATABASE d CHARACTER SET latin1",
      "CREATE TABLE n2 (x VARCHAR(10))",
      "ALTER TABLE t1 DROP COLUMN extra, ADD COLUMN extra2 BIGINT FIRST",
    ];
    for (const [i, statement] of ddl.entries()) {
      h.apply({ database: "d", statement });
      // 20,000 records between two parts (more than READ_GAP) make the load read them in two passes.
      await w.append(filler(events, i === 3 ? 20_000 : i + 1));
      const delta = log.records(h, w.endOffset());
      expect(delta.length).toBe(1);
      expect(delta[0]!.value.length).toBeLessThan(8 * 1024);
      await w.append(delta);
      points.push({ offset: events.historyOffset!, state: canonical(h) });
    }
    await w.close();

    for (const p of points) {
      const got = await load(dir, p.offset);
      expect(canonical(got.history)).toEqual(p.state);
    }
    // The last load read the snapshot's records and one per DDL: the first read met the parts
    // written after the 20,000 records, a second pass the ones before; it continues the chain.
    const last = await load(dir, points.at(-1)!.offset);
    expect(last.records).toBe(full.length + ddl.length);
    expect(last.reads).toBe(2);
    expect((await load(dir, points[3]!.offset)).reads).toBe(1);
    expect(last.chain!.runs.length).toBe(1 + ddl.length);
    last.history.apply({ database: "d", statement: "ALTER TABLE t7 ADD COLUMN q INT" });
    const events2 = new ChangeEventWriter("source");
    const next = new HistoryLog(events2, last.chain).records(last.history, 10_000_000n);
    expect(next.length).toBe(1);
    expect(decodeBuiltin(next[0]!)).toMatchObject({ kind: "history", chain: [...last.chain!.runs, { first: 10_000_000n, count: 1 }] });
  }, 60_000);

  test("DROP DATABASE removes its tables in one delta; the database created again loads with its new default", async () => {
    const { dir, w } = await journal();
    const events = new ChangeEventWriter("source");
    const log = new HistoryLog(events);
    const h = schema(3);
    await w.append(log.records(h, w.endOffset()));
    h.apply({ database: "d", statement: "DROP DATABASE d" });
    expect(h.changed).toBe(true);
    const drop = log.records(h, w.endOffset());
    const m = decodeBuiltin(drop[0]!);
    expect(m.kind === "history" && JSON.parse(m.json)).toMatchObject({
      part: "change",
      droppedDatabases: ["d"],
      removed: [
        ["d", "t0"],
        ["d", "t1"],
        ["d", "t2"],
      ],
      tables: [],
    });
    await w.append(drop);
    const dropped = { offset: events.historyOffset!, state: canonical(h) };
    h.apply({ database: "d", statement: "CREATE DATABASE d CHARACTER SET latin1" });
    h.apply({ database: "d", statement: "CREATE TABLE t1 (a VARCHAR(5))" });
    await w.append(log.records(h, w.endOffset()));
    await w.close();
    expect(canonical((await load(dir, dropped.offset)).history)).toEqual(dropped.state);
    const again = (await load(dir, events.historyOffset!)).history;
    expect(canonical(again)).toEqual(canonical(h));
    expect(again.table("d", "t1")?.columns[0]?.type.charset).toBe("latin1");
    expect(again.table("d", "t0")).toBeUndefined();
  });

  test("a new full snapshot after MAX_DELTAS deltas, after MAX_PASSES passes, and once the deltas together outgrow the snapshot: a load stays bounded", () => {
    const events = new ChangeEventWriter("source");
    const big = new HistoryLog(events);
    const h = schema(300);
    const first = big.records(h, 0n).length;
    let at = 1000n;
    const chainOf = (recs: LogRecord[]) => {
      const m = decodeBuiltin(recs.at(-1)!);
      return m.kind === "history" ? m.chain! : [];
    };
    for (let i = 1; i <= MAX_DELTAS; i++) {
      h.apply({ database: "d", statement: `ALTER TABLE t${i % 7} ADD COLUMN c${i} INT` });
      const recs = big.records(h, (at += 10n));
      expect(recs.length).toBe(1);
      expect(chainOf(recs).length).toBe(1 + i);
    }
    h.apply({ database: "d", statement: "ALTER TABLE t0 ADD COLUMN last INT" });
    const renewed = big.records(h, (at += 10n));
    expect(renewed.length).toBe(first);
    expect(chainOf(renewed)).toEqual([{ first: at, count: first }]);
    expect(JSON.parse((decodeBuiltin(renewed[0]!) as { json: string }).json)).toMatchObject({ part: "base" });

    // DDL far apart: each delta needs a pass of its own, so a snapshot follows MAX_PASSES of them.
    const sparse = new HistoryLog(events);
    sparse.records(h, 0n);
    for (let i = 1; i <= MAX_PASSES; i++) {
      h.apply({ database: "d", statement: `ALTER TABLE t9 ADD COLUMN s${i} INT` });
      const recs = sparse.records(h, (READ_GAP + 1000n) * BigInt(i));
      expect(chainOf(recs).length).toBe(i < MAX_PASSES ? 1 + i : 1);
    }

    // Three tables: their snapshot is a few KB, so a handful of wide deltas outgrow it.
    const small = new HistoryLog(events);
    const s3 = schema(3);
    const snapshot = small.records(s3, 0n).reduce((a, r) => a + r.value.length, 0);
    let deltas = 0;
    let written = 0;
    for (let i = 0; i < 50; i++) {
      s3.apply({ database: "d", statement: create(`w${i}`) });
      const recs = small.records(s3, BigInt(100 * (i + 1)));
      const chain = chainOf(recs);
      if (chain.length === 1) break;
      deltas++;
      written += recs.reduce((a, r) => a + r.value.length, 0);
    }
    expect(deltas).toBeGreaterThan(0);
    expect(deltas).toBeLessThan(50);
    expect(written).toBeLessThanOrEqual(snapshot);
  });

  test("a history record of the earlier layout (the whole history in one record) still loads; the next change writes a full snapshot in parts", async () => {
    const { dir, w } = await journal();
    const events = new ChangeEventWriter("source");
    const h = schema(5);
    // Logs written before history parts hold this layout (its fingerprint is what they wrote).
    const legacy = compile(LEGACY_BUILTIN.find((l) => l.kind === "history")!.schema);
    expect(legacy.fingerprint).toBe(0xc0e35c7069cc6d49n);
    await w.append([...filler(events, 2), { key: null, value: singleObject(legacy, { json: JSON.stringify(h.toJSON()) }) }]);
    await w.close();
    const got = await load(dir, 2n);
    expect(got.chain).toBeNull();
    expect(canonical(got.history)).toEqual(canonical(h));
    got.history.apply({ database: "d", statement: "ALTER TABLE t1 ADD COLUMN x INT" });
    const recs = new HistoryLog(events, got.chain).records(got.history, 3n);
    expect(recs.length).toBe(2);
    expect(decodeBuiltin(recs[0]!)).toMatchObject({ kind: "history", chain: [{ first: 3n, count: 1 }] });
    expect(JSON.parse((decodeBuiltin(recs[0]!) as { json: string }).json)).toMatchObject({ part: "base" });
  });

  test("a table definition larger than one record may hold is refused naming the table; a chain with a part missing is refused naming its offset", async () => {
    const h = empty();
    const values = Array.from({ length: 3000 }, (_, i) => `'${String(i).padStart(4, "0")}${"v".repeat(200)}'`).join(",");
    h.apply({ database: "d", statement: `CREATE TABLE huge (id INT PRIMARY KEY, e ENUM(${values}))` });
    let err: unknown;
    try {
      new HistoryLog(new ChangeEventWriter("source")).records(h, 0n);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ReplicateError);
    expect((err as ReplicateError).code).toBe("BINLOG_SCHEMA_MISSING");
    expect((err as ReplicateError).where).toBe("d.huge");
    expect((err as ReplicateError).message).toMatch(/table d\.huge takes \d+ bytes .* set binlog_row_metadata=FULL/);

    const { dir, w } = await journal();
    const events = new ChangeEventWriter("source");
    const log = new HistoryLog(events);
    const s = schema(2);
    // The snapshot's records are written at 1 and 2; a record of another kind is at 0.
    const full = log.records(s, 1n);
    expect(full.length).toBe(2);
    await w.append([...filler(events, 1), full[0]!, ...filler(events, 1)]);
    s.apply({ database: "d", statement: "DROP TABLE t0" });
    await w.append(log.records(s, 3n));
    await w.close();
    const missing = await failure(load(dir, 3n));
    expect(missing.code).toBe("JOURNAL_CORRUPT");
    expect(missing.where).toBe("log offset 2");
    expect(missing.message).toContain("is not a schema history part");
    const none = await failure(load(dir, 0n));
    expect(none.code).toBe("JOURNAL_CORRUPT");
    expect(none.message).toContain("no schema history record at offset 0");
  });

  test("lower_case_table_names=2: a delta removes a renamed table by its folded key, and keeps the case of the names it puts", async () => {
    const { dir, w } = await journal();
    const events = new ChangeEventWriter("source");
    const log = new HistoryLog(events);
    const h = empty(2);
    h.apply({ database: "d", statement: "CREATE TABLE Orders (Id INT PRIMARY KEY)" });
    await w.append(log.records(h, w.endOffset()));
    h.apply({ database: "d", statement: "RENAME TABLE ORDERS TO Archive" });
    const delta = log.records(h, w.endOffset());
    const m = decodeBuiltin(delta[0]!);
    expect(m.kind === "history" && JSON.parse(m.json)).toMatchObject({ removed: [["d", "orders"]], tables: [{ table: "Archive" }] });
    await w.append(delta);
    await w.close();
    const got = (await load(dir, events.historyOffset!)).history;
    expect(canonical(got)).toEqual(canonical(h));
    expect(got.table("d", "orders")).toBeUndefined();
    expect(got.table("d", "ARCHIVE")?.table).toBe("Archive");
  });
});
