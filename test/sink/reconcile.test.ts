// Taking over from `copy` (src/sink/reconcile.ts): the filter on hand-built transactions (every
// row and DDL case against chunks read at different positions), then end to end on MariaDB and
// each target: a target built as copy builds it (two chunks, each read in its own consistent
// snapshot), the log from before both snapshots, and the sink leaving the target equal to the
// source; a copy that has not finished stops the sink.
import { describe, expect, test } from "bun:test";
import type { BeginMessage, ChangeMessage, DdlMessage, LoggedTable } from "../../src/events/decode.ts";
import type { SinkTx, TxItem } from "../../src/sink/assembler.ts";
import { CopyFilter } from "../../src/sink/reconcile.ts";
import type { LedgerChunk, LedgerTable } from "../../src/copy/ledger.ts";
import { chunkLoaded, ensureLedger, planTable, saveHandover, setRunState, startRun } from "../../src/copy/ledger.ts";
import { ReplicateError } from "../../src/errors.ts";
import { getMariadb, getTarget, TARGETS, uniqueName } from "../support/servers.ts";
import { currentPosition } from "../support/binlog.ts";
import { runCli } from "../support/cli.ts";
import { bothSides, journalTransport, pipelineConfig } from "../support/pipeline.ts";

const FILE = "binlog.000007";

function loggedTable(table: string, names = ["id", "v"]): LoggedTable {
  return { database: "d", table, names, descriptors: [], key: [names[0]!], version: `${table}-1` };
}

function begin(pos: number, file = FILE): BeginMessage {
  return {
    kind: "begin",
    gtid: `0-1-${pos}`,
    flavour: "mariadb",
    serverId: 1,
    file,
    pos,
    tsMs: 0,
    lastCommitted: null,
    sequenceNumber: null,
    commitId: null,
    foreignKeyChecks: true,
  };
}

function tx(pos: number, items: TxItem[]): SinkTx {
  const b = begin(pos);
  return {
    offset: BigInt(pos),
    begin: b,
    items,
    end: { kind: "end", gtid: b.gtid, file: FILE, pos: pos + 50, tsMs: 0, eventCount: items.length, historyOffset: null, foreignKeyChecks: true },
    next: BigInt(pos) + 3n,
  };
}

type Row = Array<number | bigint | string | null>;
const ins = (t: LoggedTable, after: Row): ChangeMessage => ({ kind: "change", table: t, op: "c", before: null, after, gtid: null });
const del = (t: LoggedTable, before: Row): ChangeMessage => ({ kind: "change", table: t, op: "d", before, after: null, gtid: null });
const upd = (t: LoggedTable, before: Row, after: Row): ChangeMessage => ({ kind: "change", table: t, op: "u", before, after, gtid: null });
const ddl = (statement: string): DdlMessage => ({
  kind: "ddl",
  gtid: null,
  database: "d",
  statement,
  sqlMode: null,
  lowerCaseNames: false,
  foreignKeyChecks: true,
  file: FILE,
  pos: 0,
  tsMs: 0,
});

function ledgerTable(table: string, splitColumn: string | null): LedgerTable {
  return { database: "d", table, targetSchema: "d", targetTable: table, definition: "", splitColumn, state: "indexed" };
}
function chunk(table: string, n: number, lo: string | null, hi: string | null, pos: number | null): LedgerChunk {
  return { database: "d", table, chunk: n, lo, hi, at: pos === null ? null : { file: FILE, pos }, rows: 0, bytes: 0 };
}

// t: split on ID (the log names it "id"), [.., 50) read at 1000, [50, ..) at 2000.
// b: BIGINT keys around 2^63, [.., 9223372036854775800) read at 1000, the rest at 3000 (the horizon).
// n: no split column, one chunk read at 1200. m: no split column, read at 1800.
const LEDGER = {
  tables: [ledgerTable("t", "ID"), ledgerTable("b", "k"), ledgerTable("n", null), ledgerTable("m", null)],
  chunks: [
    chunk("t", 1, "50", null, 2000),
    chunk("t", 0, null, "50", 1000),
    chunk("b", 0, null, "9223372036854775800", 1000),
    chunk("b", 1, "9223372036854775800", null, 3000),
    chunk("n", 0, null, null, 1200),
    chunk("m", 0, null, null, 1800),
  ],
};
const T = loggedTable("t");
const B = loggedTable("b", ["name", "k"]);
const N = loggedTable("n", ["a", "b"]);
const OTHER = loggedTable("other");

const filter = () => new CopyFilter(LEDGER.tables, LEDGER.chunks);
const filtered = (f: CopyFilter, pos: number, items: TxItem[]) => f.transaction(tx(pos, items)).items;
const thrown = (fn: () => unknown): ReplicateError => {
  try {
    fn();
  } catch (err) {
    return err as ReplicateError;
  }
  throw new Error("did not throw");
};

describe("the copy filter (unit)", () => {
  test("inserts and deletes: dropped when the chunk holding the row was read after the transaction began", () => {
    const f = filter();
    expect(filtered(f, 900, [ins(T, [10, "a"]), del(T, [11, "b"]), ins(T, [60, "c"]), del(T, [61, "d"])])).toEqual([]);
    // 1100: chunk [.., 50) was read at 1000 (before), [50, ..) at 2000 (after).
    expect(filtered(f, 1100, [ins(T, [10, "a"]), del(T, [11, "b"]), ins(T, [60, "c"]), del(T, [61, "d"])])).toEqual([ins(T, [10, "a"]), del(T, [11, "b"])]);
    // At a chunk's own position the transaction is not in it (the snapshot holds what began before).
    expect(filtered(f, 1000, [ins(T, [10, "a"])])).toEqual([ins(T, [10, "a"])]);
    expect(filtered(f, 2500, [ins(T, [10, "a"]), ins(T, [60, "c"])])).toEqual([ins(T, [10, "a"]), ins(T, [60, "c"])]);
  });

  test("updates: both sides, one side or neither already in the copy", () => {
    const f = filter();
    // Both in the copy: dropped, within one chunk and across them.
    expect(filtered(f, 900, [upd(T, [10, "a"], [10, "b"]), upd(T, [60, "a"], [10, "a"])])).toEqual([]);
    expect(filtered(f, 1500, [upd(T, [60, "a"], [61, "a"])])).toEqual([]);
    // Neither: unchanged (the same object).
    const same = upd(T, [10, "a"], [11, "b"]);
    expect(filtered(f, 1100, [same])[0]).toBe(same);
    // Moved from the chunk read earlier (1000) to the one read later (2000): the later one holds the new row already; delete the old.
    expect(filtered(f, 1100, [upd(T, [10, "a"], [60, "b"])])).toEqual([{ ...del(T, [10, "a"]) }]);
    // Moved from the later chunk to the earlier: the later one already lacks the old row; insert the new.
    expect(filtered(f, 1100, [upd(T, [60, "a"], [10, "b"])])).toEqual([ins(T, [10, "b"])]);
  });

  test("BIGINT split keys are compared exactly (past 2^53)", () => {
    const f = filter();
    const low = 9223372036854775799n;
    const high = 9223372036854775801n;
    expect(filtered(f, 2000, [ins(B, ["x", low]), ins(B, ["y", high]), del(B, ["z", 9223372036854775800n])])).toEqual([ins(B, ["x", low])]);
    expect(filtered(f, 2000, [upd(B, ["x", low], ["x", high])])).toEqual([del(B, ["x", low])]);
    expect(filtered(f, 2000, [upd(B, ["x", high], ["x", low])])).toEqual([ins(B, ["x", low])]);
    expect(filtered(f, 900, [ins(B, ["x", -5n])])).toEqual([]);
  });

  test("a table without split column is one chunk; a table not in the ledger passes untouched", () => {
    const f = filter();
    expect(filtered(f, 1100, [ins(N, [1, "a"]), upd(N, [1, "a"], [2, "b"]), del(N, [3, "c"]), ins(OTHER, [1, "x"])])).toEqual([ins(OTHER, [1, "x"])]);
    expect(filtered(f, 1300, [ins(N, [1, "a"]), del(OTHER, [1, "x"])])).toEqual([ins(N, [1, "a"]), del(OTHER, [1, "x"])]);
  });

  test("a transaction left empty stays a transaction (its checkpoint row is still written)", () => {
    const f = filter();
    const t = f.transaction(tx(900, [ins(T, [1, "a"])]));
    expect(t.items).toEqual([]);
    expect(t.offset).toBe(900n);
    expect(t.end.eventCount).toBe(1);
  });

  test("the horizon: from the latest chunk position on the filter is off for good", () => {
    const f = filter();
    expect(f.horizon).toEqual({ file: FILE, pos: 3000 });
    expect(f.describe()).toBe(`4 tables, 6 chunks, positions from ${FILE}:1000 to ${FILE}:3000`);
    expect(f.active).toBe(true);
    expect(filtered(f, 2999, [ins(B, ["y", 9223372036854775801n])])).toEqual([]);
    expect(f.active).toBe(true);
    const at = tx(3000, [ins(B, ["y", 9223372036854775801n])]);
    expect(f.transaction(at)).toBe(at);
    expect(f.active).toBe(false);
    // Off for good: no transaction is looked at again.
    const earlier = tx(900, [ins(T, [1, "a"])]);
    expect(f.transaction(earlier)).toBe(earlier);
    // A later binlog file is past the horizon too.
    const g = filter();
    expect(g.items(begin(4, "binlog.000008"), [ins(T, [1, "a"])])).toEqual([ins(T, [1, "a"])]);
    expect(g.active).toBe(false);
    // Nothing copied: nothing to hold back.
    expect(new CopyFilter([], []).active).toBe(false);
  });

  test("DDL: applied when every chunk was read at or before it, dropped when every chunk was read after it, COPY_OVERLAP between", () => {
    const f = filter();
    const alter = ddl("ALTER TABLE t ADD COLUMN w INT");
    expect(filtered(f, 900, [alter, ins(T, [1, "a", 5] as Row)])).toEqual([]);
    expect(filtered(f, 2000, [alter])).toEqual([alter]);
    expect(filtered(f, 2100, [alter])).toEqual([alter]);
    const e = thrown(() => filtered(f, 1500, [alter]));
    expect(e.code).toBe("COPY_OVERLAP");
    expect(e.retriable).toBe(false);
    expect(e.message).toContain("ALTER TABLE t ADD COLUMN w INT");
    expect(e.message).toContain("d.t");
    expect(e.message).toContain(`${FILE}:1500`);
    expect(e.message).toContain("changed d.t while copy read it");
    expect(e.message).toContain("start the migration again");
    // Tables not copied, and tables a statement only reads (a foreign key's parent), do not count.
    const create = ddl("CREATE TABLE c2 (id INT PRIMARY KEY, t_id INT, FOREIGN KEY (t_id) REFERENCES t (id))");
    expect(filtered(f, 1500, [create])).toEqual([create]);
    // A rename of a copied table read after it: dropped.
    expect(filtered(f, 1100, [ddl("RENAME TABLE n TO n2")])).toEqual([]);
    // Two tables, one read before the statement (n at 1200), one after (m at 1800).
    const both = thrown(() => filtered(f, 1500, [ddl("DROP TABLE n, m")]));
    expect(both.code).toBe("COPY_OVERLAP");
    expect(both.message).toContain("d.m");
    // DROP DATABASE names every copied table in it.
    expect(thrown(() => filtered(f, 1500, [ddl("DROP DATABASE d")])).code).toBe("COPY_OVERLAP");
    expect(filtered(f, 900, [ddl("DROP DATABASE d")])).toEqual([]);
  });

  test("ledger faults: an unloaded chunk is an unfinished copy; a row without the split column is an overlap", () => {
    const unloaded = thrown(() => new CopyFilter([ledgerTable("t", "id")], [chunk("t", 0, null, "50", 1000), chunk("t", 1, "50", null, null)]));
    expect(unloaded.code).toBe("COPY_UNFINISHED");
    const f = filter();
    const renamed = loggedTable("t", ["ident", "v"]);
    expect(thrown(() => filtered(f, 900, [ins(renamed, [1, "a"])])).code).toBe("COPY_OVERLAP");
  });
});

interface Snapshot {
  at: { file: string; pos: number };
  rows: Array<{ id: number; v: string }>;
}

describe.each(TARGETS)("sink taking over from copy (%s)", (dialect) => {
  test("chunks read at two positions, the log from before both: the target ends equal to the source; an unfinished copy stops the sink", async () => {
    const db = await getMariadb();
    const pg = await getTarget(dialect);
    const name = uniqueName("reconcile");
    await pg.createDatabase(name);
    const c = await db.connect();
    await c.query(`CREATE DATABASE ${name}; CREATE TABLE ${name}.t (id INT PRIMARY KEY, v VARCHAR(20))`);
    for (let i = 1; i <= 90; i += 3) await c.query(`INSERT INTO ${name}.t VALUES (${i}, 'v${i}')`);
    // The hand-over position: the log starts here, before both chunks' snapshots.
    const handover = await currentPosition(db);
    // Phase A (before both snapshots: in both chunks already).
    await c.query(`INSERT INTO ${name}.t VALUES (2, 'a2'), (62, 'a62')`);
    await c.query(`UPDATE ${name}.t SET v = 'a-moved' , id = 65 WHERE id = 4`);
    await c.query(`DELETE FROM ${name}.t WHERE id IN (7, 61)`);
    await c.query(`UPDATE ${name}.t SET v = 'a1' WHERE id = 1`);

    // Chunk 0, [.., 50), read in its own snapshot the way copy reads it; writes go on meanwhile.
    const reader = await db.connect();
    const snapshot = async (where: string, meanwhile: () => Promise<void>): Promise<Snapshot> => {
      await reader.query("START TRANSACTION WITH CONSISTENT SNAPSHOT");
      const [status] = (await reader.query("SHOW STATUS LIKE 'binlog_snapshot_%'")) as unknown as [Array<{ Variable_name: string; Value: string }>];
      const get = (n: string) => status.find((s) => s.Variable_name === n)!.Value;
      await meanwhile();
      const [rows] = (await reader.query(`SELECT id, v FROM ${name}.t WHERE ${where} ORDER BY id`)) as unknown as [Array<{ id: number; v: string }>];
      await reader.query("COMMIT");
      return { at: { file: get("Binlog_snapshot_file"), pos: Number(get("Binlog_snapshot_position")) }, rows };
    };
    const phaseB = async () => {
      await c.query(`INSERT INTO ${name}.t VALUES (5, 'b5'), (69, 'b69')`);
      await c.query(`UPDATE ${name}.t SET id = 66, v = 'b-up' WHERE id = 10`); // low → high
      await c.query(`UPDATE ${name}.t SET id = 11, v = 'b-down' WHERE id = 64`); // high → low
      await c.query(`DELETE FROM ${name}.t WHERE id IN (13, 67)`);
      await c.query(
        `BEGIN; UPDATE ${name}.t SET v = 'b16' WHERE id = 16; UPDATE ${name}.t SET v = 'b73' WHERE id = 73; INSERT INTO ${name}.t VALUES (8, 'b8'), (80, 'b80'); COMMIT`,
      );
    };
    const chunk0 = await snapshot("id < 50", phaseB);
    // Phase B ran after chunk 0's snapshot and before chunk 1's.
    const phaseB2 = async () => {
      // Past the sink's in-memory bound (assembler.ts LARGE_ITEMS): streamed, filtered chunk by chunk.
      const big = Array.from({ length: 25_000 }, (_, i) => `(${1000 + i}, 'L')`);
      await c.query(`INSERT INTO ${name}.t VALUES (44, 'L44'), ${big.join(", ")}, (47, 'L47')`);
      await c.query(`UPDATE ${name}.t SET id = 68, v = 'b2-up' WHERE id = 19`);
      await c.query(`DELETE FROM ${name}.t WHERE id = 22`);
    };
    await phaseB2();
    const chunk1 = await snapshot("id >= 50", async () => {
      // After chunk 1's snapshot: not in either chunk.
      await c.query(`INSERT INTO ${name}.t VALUES (3, 'c3'), (71, 'c71')`);
      await c.query(`UPDATE ${name}.t SET id = 26, v = 'c-down' WHERE id = 70`);
      await c.query(`UPDATE ${name}.t SET id = 72, v = 'c-up' WHERE id = 28`);
    });
    await reader.end();
    await c.query(`DELETE FROM ${name}.t WHERE id IN (31, 76); UPDATE ${name}.t SET v = 'c-last' WHERE id IN (34, 79)`);
    await c.end();

    // The target as copy leaves it: the table, each chunk's rows and position in the ledger.
    const sql = pg.sql(name);
    await sql.unsafe(`CREATE SCHEMA "${name}"; CREATE TABLE "${name}".t (id int PRIMARY KEY, v varchar(20))`);
    await ensureLedger(sql);
    await startRun(sql);
    await startRun(sql); // a rerun of copy finds its run and keeps it (both dialects: openGauss has no ON CONFLICT)
    await saveHandover(sql, { ...handover, gtid: null });
    await planTable(sql, { database: name, table: "t", targetSchema: name, targetTable: "t", definition: "", splitColumn: "id", state: "created" }, [
      { lo: null, hi: "50" },
      { lo: "50", hi: null },
    ]);
    for (const [i, ch] of [chunk0, chunk1].entries()) {
      for (let i = 0; i < ch.rows.length; i += 1000) {
        const part = ch.rows.slice(i, i + 1000);
        await sql.unsafe(
          `INSERT INTO "${name}".t VALUES ${part.map((_, k) => `($${2 * k + 1}, $${2 * k + 2})`).join(", ")}`,
          part.flatMap((r) => [r.id, r.v]),
        );
      }
      await chunkLoaded(sql, { database: name, table: "t", chunk: i }, ch.at, ch.rows.length, 0);
    }
    await setRunState(sql, "data");
    expect(chunk0.at.pos).toBeGreaterThan(handover.pos);
    expect(chunk1.at.pos).toBeGreaterThan(chunk0.at.pos);

    const j = journalTransport();
    const cfg = await pipelineConfig(db, pg, name, name, handover, j.toml);
    const s = await runCli(["source", "--config", cfg, "--stop-at-end"]);
    expect(s.code).toBe(0);

    // A copy that has not finished: the sink stops at once, applying nothing.
    const early = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
    expect(early.code).toBe(1);
    expect(early.stderr).toContain("COPY_UNFINISHED");
    expect(early.stderr).toContain("copy has not finished on this target (state data)");
    const applied = await sql.unsafe(`SELECT count(*)::int AS n FROM gs_replicate.applied`);
    expect(applied[0]!.n).toBe(0);

    await setRunState(sql, "done");
    const k = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
    expect(k.stderr).not.toContain("ERROR");
    expect(k.code).toBe(0);
    expect(k.stderr).toContain(`taking over from copy: 1 table, 2 chunks, positions from ${chunk0.at.file}:${chunk0.at.pos} to ${chunk1.at.file}:${chunk1.at.pos}`);
    expect(k.stderr).toContain(`passed the copy's last snapshot position ${chunk1.at.file}:${chunk1.at.pos}`);
    const { src, dst } = await bothSides(db, pg, name, name, "t", "id, v", "id, v");
    expect(src.length).toBeGreaterThan(25_000);
    expect(dst).toEqual(src);
    // Every transaction was recorded as applied, those the copy held whole included: a second
    // run finds nothing left to apply (a duplicate insert would be refused).
    const lowWater = async () => (await sql.unsafe(`SELECT low_water::text AS lw FROM gs_replicate.progress`))[0]!.lw as string;
    const lw = await lowWater();
    const again = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
    expect(again.code).toBe(0);
    expect(await lowWater()).toBe(lw);
    expect((await bothSides(db, pg, name, name, "t", "id, v", "id, v")).dst).toEqual(src);
    await sql.end();
  }, 120_000);
});
