// Issue 13 (2): a 1,000-table schema on a MariaDB whose binlog does not name columns
// (binlog_row_metadata=NO_LOG). The schema history's snapshot is split into records under the
// bound (HISTORY_RECORD_BYTES, within Kafka's default message.max.bytes), DDL on a few tables
// writes records a small fraction of a snapshot, and restarts after several DDLs rebuild the
// history from the chain and decode every row with the columns of its time, through the
// journal and through Kafka.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type mysql from "mysql2/promise";
import { decodeBuiltin, recordKind } from "../../src/events/decode.ts";
import { HISTORY_RECORD_BYTES } from "../../src/events/history.ts";
import { openJournalReader } from "../../src/transport/journal.ts";
import { openKafkaReader } from "../../src/transport/kafka.ts";
import type { LogReader } from "../../src/log-contract.ts";
import { runCli, writeConfig } from "../support/cli.ts";
import { changeRows, readLog } from "../support/log.ts";
import { journalTransport } from "../support/pipeline.ts";
import { getKafka, startMariadb, uniqueName, type MariaDb } from "../support/servers.ts";

const TABLES = 1000;
let db: MariaDb;
let c: mysql.Connection;

beforeAll(async () => {
  // Creating 1,000 InnoDB tables takes half a minute with a file and a sync each.
  db = await startMariadb({
    binlogArgs: ["--log-bin=binlog", "--binlog-format=ROW", "--binlog-row-image=FULL", "--binlog-row-metadata=NO_LOG", "--gtid-strict-mode=ON"],
    extraArgs: ["--innodb-file-per-table=OFF", "--innodb-flush-log-at-trx-commit=0", "--sync-binlog=0"],
  });
  c = await db.connect();
  await c.query("CREATE DATABASE big");
  const ddl: string[] = [];
  for (let i = 0; i < TABLES; i++) {
    ddl.push(
      `CREATE TABLE big.t${i} (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL, email VARCHAR(200), status ENUM('new','active','closed'), amount DECIMAL(12,2), created DATETIME, updated TIMESTAMP NULL, notes TEXT, flags SET('a','b','c'), ref BIGINT UNSIGNED, KEY ix_name (name), UNIQUE KEY ux_email (email))`,
    );
  }
  for (let i = 0; i < ddl.length; i += 100) await c.query(ddl.slice(i, i + 100).join(";"));
}, 120_000);

afterAll(async () => {
  await c?.end();
  await db?.stop();
});

interface HistorySizes {
  /** Value bytes of each history record, in log order, with the number of runs in its chain. */
  records: Array<{ bytes: number; runs: number }>;
  largest: number;
}

async function historySizes(reader: LogReader): Promise<HistorySizes> {
  const out: HistorySizes = { records: [], largest: 0 };
  try {
    for await (const { record } of reader.read(0n, { follow: false })) {
      out.largest = Math.max(out.largest, record.value.length);
      if (recordKind(record) !== "history") continue;
      const m = decodeBuiltin(record);
      out.records.push({ bytes: record.value.length, runs: m.kind === "history" ? (m.chain?.length ?? 0) : 0 });
    }
  } finally {
    await reader.close();
  }
  return out;
}

const BASE = ["id", "name", "email", "status", "amount", "created", "updated", "notes", "flags", "ref"];

/**
 * The workload on tables t{n+1}…t{n+5}: DDL on a few of the 1,000 tables between rows, `source`
 * restarted in between, and 20,000 rows between two DDLs (parts of the chain further apart
 * than one pass of a read, READ_GAP). Returns the rows expected in the log, with their column names in order.
 */
async function scenario(n: number, run: () => Promise<string>): Promise<Array<{ table: string; cols: string[]; values: Record<string, unknown> }>> {
  const [t1, t2, t3, t4, t5] = [1, 2, 3, 4, 5].map((k) => `big.t${n + k}`);
  const first = await run();
  expect(first).toContain("binlog_row_metadata is not FULL");
  await c.query(`INSERT INTO ${t1} (id, name) VALUES (1, 'one')`);
  await c.query(`ALTER TABLE ${t1} ADD COLUMN b INT AFTER id`);
  await c.query(`INSERT INTO ${t5} (id, name, email) SELECT seq, 'bulk', CONCAT('e', seq) FROM big.seq_1_to_20000`);
  await c.query(`INSERT INTO ${t1} (id, b, name) VALUES (2, 20, 'two')`);
  await c.query(`ALTER TABLE ${t2} MODIFY email VARCHAR(200) FIRST`);
  await c.query(`INSERT INTO ${t2} (id, name, email) VALUES (1, 'x', 'x@example')`);
  expect(await run()).toContain("schema history reloaded");
  await c.query(`RENAME TABLE ${t3} TO ${t3}r`);
  await c.query(`ALTER TABLE ${t3}r ADD COLUMN z INT FIRST`);
  await c.query(`INSERT INTO ${t3}r (z, id, name) VALUES (9, 1, 'r')`);
  await c.query(`ALTER TABLE ${t1} DROP COLUMN name`);
  await c.query(`INSERT INTO ${t1} (id, b) VALUES (3, 30)`);
  expect(await run()).toContain("schema history reloaded");
  await c.query(`DROP TABLE ${t4}; CREATE TABLE ${t4} (a INT PRIMARY KEY, b VARCHAR(5))`);
  await c.query(`INSERT INTO ${t4} VALUES (1, 'x')`);
  await c.query(`UPDATE ${t1} SET b = 21 WHERE id = 2`);
  // The snapshot and seven deltas are read back: the first read (from 16,384 records before the
  // End's history record) meets the deltas after the 20,000 rows, a second the rest.
  expect(await run()).toMatch(/schema history reloaded from log offset \d+ \(\d+ records in 2 reads of the log\)/);
  await c.query(`UPDATE ${t2} SET name = 'y' WHERE id = 1`);
  await run();
  const rest = BASE.slice(1);
  return [
    { table: t1!, cols: BASE, values: { id: 1, name: "one", email: null } },
    { table: t1!, cols: ["id", "b", ...rest], values: { id: 2, b: 20, name: "two" } },
    { table: t2!, cols: ["email", "id", "name", ...rest.slice(2)], values: { email: "x@example", id: 1, name: "x" } },
    { table: `${t3}r`, cols: ["z", ...BASE], values: { z: 9, id: 1, name: "r" } },
    { table: t1!, cols: ["id", "b", ...rest.slice(1)], values: { id: 3, b: 30, email: null } },
    { table: t4!, cols: ["a", "b"], values: { a: 1, b: "x" } },
    { table: t1!, cols: ["id", "b", ...rest.slice(1)], values: { id: 2, b: 21 } },
    { table: t2!, cols: ["email", "id", "name", ...rest.slice(2)], values: { email: "x@example", id: 1, name: "y" } },
  ];
}

function checkRows(log: Awaited<ReturnType<typeof readLog>>, expected: Awaited<ReturnType<typeof scenario>>, bulk: string): void {
  expect(log.fragments).toBe(0);
  const rows = changeRows(log.transactions);
  const bulkRows = rows.filter((r) => r.table === bulk);
  expect(bulkRows.length).toBe(20_000);
  expect(bulkRows[19_999]!.after).toMatchObject({ id: 20_000, name: "bulk", email: "e20000" });
  const mine = rows.filter((r) => r.table !== bulk);
  expect(mine.map((r) => ({ table: r.table, cols: Object.keys(r.after!) }))).toEqual(expected.map((e) => ({ table: e.table, cols: e.cols })));
  mine.forEach((r, i) => expect(r.after).toMatchObject(expected[i]!.values));
}

function checkSizes(s: HistorySizes): void {
  const snapshot = s.records.filter((r) => r.runs === 1);
  const deltas = s.records.filter((r) => r.runs > 1);
  const snapshotBytes = snapshot.reduce((a, r) => a + r.bytes, 0);
  // About 2 MB of definitions in several records, none over the bound.
  expect(snapshotBytes).toBeGreaterThan(3 * HISTORY_RECORD_BYTES);
  expect(snapshot.length).toBeGreaterThanOrEqual(4);
  expect(s.largest).toBeLessThanOrEqual(HISTORY_RECORD_BYTES);
  // One record per DDL that changed a definition (DROP and CREATE of t4 are two).
  expect(deltas.length).toBe(7);
  for (const d of deltas) expect(d.bytes).toBeLessThan(snapshotBytes / 200);
}

describe("a 1,000-table schema without column names in the binlog", () => {
  test("journal: the snapshot is split under the bound, DDL writes small deltas, restarts decode every row with its own columns", async () => {
    const j = journalTransport();
    const cfg = writeConfig(`[source]\nport = ${db.port}\nuser = "root"\npassword = ""\ndatabases = ["big"]\nstart = "current"\n${j.toml}\n`);
    const expected = await scenario(0, async () => {
      const r = await runCli(["source", "--config", cfg, "--stop-at-end"]);
      expect(r.stderr).not.toContain("ERROR");
      expect(r.code).toBe(0);
      return r.stderr;
    });
    checkSizes(await historySizes(await openJournalReader({ dir: j.dir })));
    checkRows(await readLog(await openJournalReader({ dir: j.dir })), expected, "big.t5");
  }, 180_000);

  test("Kafka: the same, the history read back from the topic", async () => {
    const kafka = getKafka();
    const topic = uniqueName("history");
    kafka.createTopic(topic, 1);
    const transport = `[transport]\nkind = "kafka"\n[transport.kafka]\nbrokers = ["${kafka.bootstrap}"]\ntopic = "${topic}"`;
    const cfg = writeConfig(`[source]\nport = ${db.port}\nuser = "root"\npassword = ""\ndatabases = ["big"]\nstart = "current"\n${transport}\n`);
    const expected = await scenario(10, async () => {
      const r = await runCli(["source", "--config", cfg, "--stop-at-end"], { timeoutMs: 120_000 });
      expect(r.stderr).not.toContain("ERROR");
      expect(r.code).toBe(0);
      return r.stderr;
    });
    const reader = () => openKafkaReader({ brokers: [kafka.bootstrap], topic, client_id: "test", group_id: `${topic}_g`, create_topic: false });
    checkSizes(await historySizes(await reader()));
    checkRows(await readLog(await reader()), expected, "big.t15");
  }, 240_000);
});
