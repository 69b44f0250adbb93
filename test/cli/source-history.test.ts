// A source that does not log column names (binlog_row_metadata=NO_LOG, as MySQL 5.7 or a
// default MariaDB): gs-replicate keeps a schema history, records it in the log with the
// position, and a restarted source decodes rows after an ALTER with the schema of their time.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SchemaHistory } from "../../src/binlog/schema.ts";
import { ChangeEventWriter, singleObject } from "../../src/events/encode.ts";
import { decodeBuiltin, recordKind } from "../../src/events/decode.ts";
import { compile, LEGACY_BUILTIN } from "../../src/events/schemas.ts";
import { openJournalReader, openJournalWriter } from "../../src/transport/journal.ts";
import { startMariadb, type MariaDb } from "../support/servers.ts";
import { runCli, writeConfig } from "../support/cli.ts";
import { journalTransport } from "../support/pipeline.ts";
import { changeRows, readLog } from "../support/log.ts";

let db: MariaDb;
beforeAll(async () => {
  db = await startMariadb({ binlogArgs: ["--log-bin=binlog", "--binlog-format=ROW", "--binlog-row-image=FULL", "--binlog-row-metadata=NO_LOG", "--gtid-strict-mode=ON"] });
});
afterAll(async () => {
  await db?.stop();
});

describe("source with a schema history (no column names in the binlog)", () => {
  test("restarts around ALTERs decode every row with the columns of its time", async () => {
    const c = await db.connect();
    await c.query("CREATE DATABASE h; CREATE TABLE h.t (id INT PRIMARY KEY, a VARCHAR(10))");
    const j = journalTransport();
    const cfg = writeConfig(`[source]\nport = ${db.port}\nuser = "root"\npassword = ""\ndatabases = ["h"]\nstart = "current"\n${j.toml}\n`);
    const run = async () => {
      const r = await runCli(["source", "--config", cfg, "--stop-at-end"]);
      expect(r.stderr).not.toContain("ERROR");
      expect(r.code).toBe(0);
      return r;
    };
    const first = await run(); // pins the start position and the snapshot in the log
    expect(first.stderr).toContain("binlog_row_metadata is not FULL");
    await c.query("INSERT INTO h.t VALUES (1, 'one')");
    await c.query("ALTER TABLE h.t ADD COLUMN b INT AFTER id");
    await c.query("INSERT INTO h.t VALUES (2, 20, 'two')");
    const second = await run();
    expect(second.stderr).toContain("schema history reloaded");
    await c.query("ALTER TABLE h.t DROP COLUMN a, ADD COLUMN c DECIMAL(5,2)");
    await c.query("INSERT INTO h.t VALUES (3, 30, 3.5)");
    await c.query("UPDATE h.t SET b = 21 WHERE id = 2");
    await run();
    await c.end();
    const log = await readLog(await openJournalReader({ dir: j.dir }));
    expect(log.fragments).toBe(0);
    expect(changeRows(log.transactions).map((r) => [r.op, r.before, r.after])).toEqual([
      ["c", null, { id: 1, a: "one" }],
      ["c", null, { id: 2, b: 20, a: "two" }],
      ["c", null, { id: 3, b: 30, c: "3.50" }],
      ["u", { id: 2, b: 20, c: null }, { id: 2, b: 21, c: null }],
    ]);
    expect(log.transactions.flatMap((t) => t.ddl.map((d) => d.statement))).toEqual([
      "ALTER TABLE h.t ADD COLUMN b INT AFTER id",
      "ALTER TABLE h.t DROP COLUMN a, ADD COLUMN c DECIMAL(5,2)",
    ]);
  }, 60_000);

  // Issue 13 (1): a restart reloaded the history but the records after it no longer pointed at
  // it, so the NEXT start took a fresh snapshot of the live schema: a row written before a
  // column move, read on that third start, came out with its columns swapped.
  test("DDL while stopped, after a run that reloaded the history: the third start decodes the rows of before the DDL with their own columns", async () => {
    const c = await db.connect();
    await c.query("CREATE DATABASE h3; CREATE TABLE h3.t (id INT PRIMARY KEY, a INT, b INT); CREATE TABLE h3.u (id INT PRIMARY KEY, x INT)");
    const j = journalTransport();
    const cfg = writeConfig(`[source]\nport = ${db.port}\nuser = "root"\npassword = ""\ndatabases = ["h3"]\nstart = "current"\n${j.toml}\n`);
    const run = async () => {
      const r = await runCli(["source", "--config", cfg, "--stop-at-end"]);
      expect(r.stderr).not.toContain("ERROR");
      expect(r.code).toBe(0);
      return r;
    };
    await run(); // the snapshot
    await c.query("INSERT INTO h3.t VALUES (1, 10, 20)");
    expect((await run()).stderr).toContain("schema history reloaded");
    await c.query("INSERT INTO h3.t VALUES (2, 11, 21); INSERT INTO h3.u VALUES (1, 5)");
    await c.query("ALTER TABLE h3.t MODIFY b INT AFTER id; ALTER TABLE h3.u ADD COLUMN y INT");
    await c.query("INSERT INTO h3.t (id, a, b) VALUES (3, 12, 22); INSERT INTO h3.u VALUES (2, 6, 7)");
    expect((await run()).stderr).toContain("schema history reloaded");
    await c.query("INSERT INTO h3.t (id, a, b) VALUES (4, 13, 23)");
    await run();
    await c.end();
    const log = await readLog(await openJournalReader({ dir: j.dir }));
    expect(changeRows(log.transactions).map((r) => r.after)).toEqual([
      { id: 1, a: 10, b: 20 },
      { id: 2, a: 11, b: 21 },
      { id: 1, x: 5 },
      { id: 3, b: 22, a: 12 },
      { id: 2, x: 6, y: 7 },
      { id: 4, b: 23, a: 13 },
    ]);
  }, 60_000);

  // Issue 13 (1): with the history's rows still in the binlog, turning binlog_row_metadata to
  // FULL (the advice of BINLOG_SCHEMA_MISSING) must not drop the history those rows need.
  test("binlog_row_metadata turned FULL between runs: rows logged before still decode with the history", async () => {
    const c = await db.connect();
    try {
      await c.query("CREATE DATABASE h4; CREATE TABLE h4.t (id INT PRIMARY KEY, a INT)");
      const j = journalTransport();
      const cfg = writeConfig(`[source]\nport = ${db.port}\nuser = "root"\npassword = ""\ndatabases = ["h4"]\nstart = "current"\n${j.toml}\n`);
      const run = async () => {
        const r = await runCli(["source", "--config", cfg, "--stop-at-end"]);
        expect(r.stderr).not.toContain("ERROR");
        expect(r.code).toBe(0);
      };
      await run();
      await c.query("INSERT INTO h4.t VALUES (1, 10); ALTER TABLE h4.t ADD COLUMN b INT FIRST; INSERT INTO h4.t VALUES (5, 2, 20)");
      await c.query("SET GLOBAL binlog_row_metadata = FULL");
      await c.query("FLUSH BINARY LOGS");
      await c.query("INSERT INTO h4.t VALUES (6, 3, 30)");
      await run();
      const log = await readLog(await openJournalReader({ dir: j.dir }));
      expect(changeRows(log.transactions).map((r) => r.after)).toEqual([
        { id: 1, a: 10 },
        { b: 5, id: 2, a: 20 },
        { b: 6, id: 3, a: 30 },
      ]);
    } finally {
      await c.query("SET GLOBAL binlog_row_metadata = NO_LOG");
      await c.end();
    }
  }, 60_000);

  // A snapshot taken now describes rows from an earlier position only if no DDL changed a
  // captured table in between (src/binlog/ddl-gap.ts): otherwise stop before publishing a row.
  test("a first start at a past position: new tables in between are fine, an ALTER stops before any row is published", async () => {
    const c = await db.connect();
    await c.query("CREATE DATABASE h5; CREATE TABLE h5.t (id INT PRIMARY KEY, a INT, b INT)");
    const [[p]] = (await c.query("SHOW MASTER STATUS")) as unknown as [[{ File: string; Position: number }]];
    await c.query("INSERT INTO h5.t VALUES (1, 10, 20); CREATE TABLE h5.n (id INT PRIMARY KEY); INSERT INTO h5.n VALUES (7)");
    const start = `start = "file:${p.File}:${p.Position}"`;
    const good = journalTransport();
    const ok = await runCli([
      "source",
      "--config",
      writeConfig(`[source]\nport = ${db.port}\nuser = "root"\npassword = ""\ndatabases = ["h5"]\n${start}\n${good.toml}\n`),
      "--stop-at-end",
    ]);
    expect(ok.stderr).not.toContain("ERROR");
    expect(changeRows((await readLog(await openJournalReader({ dir: good.dir }))).transactions).map((r) => r.after)).toEqual([{ id: 1, a: 10, b: 20 }, { id: 7 }]);

    await c.query("ALTER TABLE h5.t MODIFY b INT AFTER id");
    await c.end();
    const bad = journalTransport();
    const r = await runCli([
      "source",
      "--config",
      writeConfig(`[source]\nport = ${db.port}\nuser = "root"\npassword = ""\ndatabases = ["h5"]\n${start}\n${bad.toml}\n`),
      "--stop-at-end",
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("ALTER TABLE h5.t MODIFY b INT AFTER id");
    expect(r.stderr).toMatch(/start at a position after that statement.*\[BINLOG_SCHEMA_MISSING at binlog\.\d+:\d+\]/);
    expect(changeRows((await readLog(await openJournalReader({ dir: bad.dir }))).transactions)).toEqual([]);
  }, 60_000);

  test("a log written while the source named its columns, resumed after it stopped naming them: taken on when no DDL ran since, refused when one did", async () => {
    const c = await db.connect();
    try {
      await c.query("CREATE DATABASE h6; CREATE TABLE h6.t (id INT PRIMARY KEY, a INT, b INT)");
      await c.query("SET GLOBAL binlog_row_metadata = FULL");
      await c.query("FLUSH BINARY LOGS");
      const j = journalTransport();
      const cfg = writeConfig(`[source]\nport = ${db.port}\nuser = "root"\npassword = ""\ndatabases = ["h6"]\nstart = "current"\n${j.toml}\n`);
      expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);
      await c.query("INSERT INTO h6.t VALUES (1, 10, 20)");
      expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);
      await c.query("SET GLOBAL binlog_row_metadata = NO_LOG");
      await c.query("FLUSH BINARY LOGS");
      await c.query("INSERT INTO h6.t VALUES (2, 11, 21)");
      const quiet = await runCli(["source", "--config", cfg, "--stop-at-end"]);
      expect(quiet.stderr).not.toContain("ERROR");
      await c.query("INSERT INTO h6.t VALUES (3, 12, 22); ALTER TABLE h6.t MODIFY b INT AFTER id; INSERT INTO h6.t (id, a, b) VALUES (4, 13, 23)");
      // The history recorded by the second run carries the third.
      const third = await runCli(["source", "--config", cfg, "--stop-at-end"]);
      expect(third.stderr).not.toContain("ERROR");
      expect(changeRows((await readLog(await openJournalReader({ dir: j.dir }))).transactions).map((r) => r.after)).toEqual([
        { id: 1, a: 10, b: 20 },
        { id: 2, a: 11, b: 21 },
        { id: 3, a: 12, b: 22 },
        { id: 4, b: 23, a: 13 },
      ]);

      // The same, with the DDL before the first start without column names.
      await c.query("CREATE TABLE h6.u (id INT PRIMARY KEY, a INT, b INT); SET GLOBAL binlog_row_metadata = FULL");
      await c.query("FLUSH BINARY LOGS");
      const k = journalTransport();
      const cfg2 = writeConfig(`[source]\nport = ${db.port}\nuser = "root"\npassword = ""\ndatabases = ["h6"]\nstart = "current"\n${k.toml}\n`);
      expect((await runCli(["source", "--config", cfg2, "--stop-at-end"])).code).toBe(0);
      await c.query("INSERT INTO h6.u VALUES (1, 10, 20)");
      expect((await runCli(["source", "--config", cfg2, "--stop-at-end"])).code).toBe(0);
      await c.query("SET GLOBAL binlog_row_metadata = NO_LOG");
      await c.query("FLUSH BINARY LOGS");
      await c.query("INSERT INTO h6.u VALUES (2, 11, 21); ALTER TABLE h6.u MODIFY b INT AFTER id");
      const refused = await runCli(["source", "--config", cfg2, "--stop-at-end"]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain("holds no schema history for that position");
      expect(refused.stderr).toContain("ALTER TABLE h6.u MODIFY b INT AFTER id");
      expect(changeRows((await readLog(await openJournalReader({ dir: k.dir }))).transactions).map((r) => r.after)).toEqual([{ id: 1, a: 10, b: 20 }]);
    } finally {
      await c.query("SET GLOBAL binlog_row_metadata = NO_LOG");
      await c.end();
    }
  }, 90_000);

  // Issue 13 (2): the log is the product's persistent state. Versions before history parts
  // wrote the whole history in one record; a log of theirs resumes, and the first DDL after it
  // starts a chain of parts.
  test("a log whose history is one record of the earlier layout resumes; the next DDL writes a snapshot in parts that the next start reloads", async () => {
    const c = await db.connect();
    await c.query("CREATE DATABASE h7; CREATE TABLE h7.t (id INT PRIMARY KEY, a INT, b INT)");
    const j = journalTransport();
    // What the earlier version's first run wrote: its history record, then the start position pointing at it.
    const history = await SchemaHistory.snapshot(async (sql) => (await c.query(sql))[0] as unknown as Array<Record<string, unknown>>, ["h7"]);
    const [[p]] = (await c.query("SHOW MASTER STATUS")) as unknown as [[{ File: string; Position: number }]];
    const legacy = compile(LEGACY_BUILTIN.find((l) => l.kind === "history")!.schema);
    const events = new ChangeEventWriter("source");
    events.historyOffset = 0n;
    const w = await openJournalWriter({ dir: j.dir, segment_mib: 128 });
    await w.append([{ key: null, value: singleObject(legacy, { json: JSON.stringify(history.toJSON()) }) }, events.positionRecord(p.File, Number(p.Position), null)]);
    await w.close();

    const cfg = writeConfig(`[source]\nport = ${db.port}\nuser = "root"\npassword = ""\ndatabases = ["h7"]\nstart = "current"\n${j.toml}\n`);
    const run = async () => {
      const r = await runCli(["source", "--config", cfg, "--stop-at-end"]);
      expect(r.stderr).not.toContain("ERROR");
      expect(r.code).toBe(0);
      return r.stderr;
    };
    await c.query("INSERT INTO h7.t VALUES (1, 10, 20); ALTER TABLE h7.t MODIFY b INT AFTER id; INSERT INTO h7.t (id, a, b) VALUES (2, 11, 21)");
    expect(await run()).toContain("schema history reloaded from log offset 0 (1 record in 1 read of the log)");
    await c.query("ALTER TABLE h7.t ADD COLUMN c INT FIRST; INSERT INTO h7.t (c, id, a, b) VALUES (5, 3, 12, 22)");
    expect(await run()).toMatch(/schema history reloaded from log offset \d+ \(2 records in 1 read of the log\)/);
    await c.end();

    const reader = await openJournalReader({ dir: j.dir });
    const parts: unknown[] = [];
    for await (const { record } of reader.read(1n, { follow: false })) {
      const m = recordKind(record) === "history" ? decodeBuiltin(record) : undefined;
      if (m?.kind === "history") parts.push({ part: (JSON.parse(m.json) as { part: string }).part, runs: m.chain?.length });
    }
    await reader.close();
    expect(parts).toEqual([
      { part: "base", runs: 1 },
      { part: "change", runs: 1 },
      { part: "change", runs: 2 },
    ]);
    expect(changeRows((await readLog(await openJournalReader({ dir: j.dir }))).transactions).map((r) => r.after)).toEqual([
      { id: 1, a: 10, b: 20 },
      { id: 2, b: 21, a: 11 },
      { c: 5, id: 3, b: 22, a: 12 },
    ]);
  }, 60_000);
});
