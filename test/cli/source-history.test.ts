// A source that does not log column names (binlog_row_metadata=NO_LOG, as MySQL 5.7 or a
// default MariaDB): gs-replicate keeps a schema history, records it in the log with the
// position, and a restarted source decodes rows after an ALTER with the schema of their time.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { openJournalReader } from "../../src/transport/journal.ts";
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
});
