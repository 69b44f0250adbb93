// bench/source: end-to-end `gs-replicate source` throughput (binlog → AVRO → log) for a
// 1,000,000-row history, into the journal and into Kafka (librdkafka's mock broker), and the
// peak RSS of the process; then one single 1,000,000-row transaction, whose peak RSS must stay
// under 300 MiB. Prints figures only.
//
//   bun run bench/source.ts [rows=1000000]

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startMariadb, getKafka, stopAllServers, type MariaDb } from "../test/support/servers.ts";
import { writeConfig } from "../test/support/cli.ts";
import { measureRss } from "./support/rss.ts";

const ROWS = Number(process.argv[2] ?? 1_000_000);
const work = mkdtempSync(join(tmpdir(), "gsr-bench-source-"));

async function history(db: MariaDb, table: string, rows: number, oneTransaction: boolean): Promise<{ file: string; pos: number }> {
  const c = await db.connect();
  await c.query(`CREATE TABLE b.${table} (id INT PRIMARY KEY, a BIGINT, s VARCHAR(64), ts DATETIME(6), d DECIMAL(12,2), n INT NULL)`);
  const [[pos]] = (await c.query("SHOW MASTER STATUS")) as unknown as [[{ File: string; Position: number }]];
  const t0 = performance.now();
  if (oneTransaction) {
    await c.query(
      `INSERT INTO b.${table} SELECT seq, seq * 7919, CONCAT('row-', seq, '-payload'), '2024-01-02 03:04:05.123456', seq / 100, IF(seq % 3 = 0, NULL, seq) FROM b.seq_1_to_${rows}`,
    );
  } else {
    await c.query(`CALL b.fill('${table}', ${rows})`);
  }
  console.log(
    `  generated ${rows.toLocaleString("en")} rows${oneTransaction ? " in ONE transaction" : " (single-row INSERTs, 100 per transaction)"} in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  await c.end();
  return { file: pos.File, pos: Number(pos.Position) };
}

function config(db: MariaDb, from: { file: string; pos: number }, transport: string): string {
  return writeConfig(
    `[source]\nport = ${db.port}\nuser = "root"\npassword = ""\ndatabases = ["b"]\nstart = "file:${from.file}:${from.pos}"\n${transport}\n[log]\nprogress_seconds = 5\n`,
  );
}

const db = await startMariadb({ extraArgs: ["--sync-binlog=0", "--innodb-flush-log-at-trx-commit=0", "--max-binlog-size=1073741824"] });
try {
  const c = await db.connect();
  await c.query("CREATE DATABASE b");
  await c.query(`CREATE PROCEDURE b.fill(t VARCHAR(64), n INT) BEGIN
    DECLARE i INT DEFAULT 0;
    SET @sql = CONCAT('INSERT INTO b.', t, ' VALUES (?, ? * 7919, CONCAT(''row-'', ?, ''-payload''), ''2024-01-02 03:04:05.123456'', ? / 100, IF(? % 3 = 0, NULL, ?))');
    PREPARE st FROM @sql;
    START TRANSACTION;
    WHILE i < n DO
      SET @i = i;
      EXECUTE st USING @i, @i, @i, @i, @i, @i;
      SET i = i + 1;
      IF i % 100 = 0 THEN COMMIT; START TRANSACTION; END IF;
    END WHILE;
    COMMIT;
  END`);
  await c.end();

  console.log(`history of ${ROWS.toLocaleString("en")} rows, one rows event each:`);
  const from = await history(db, "many", ROWS, false);
  const events = ROWS; // change events; Begin/End and schema records come on top
  const journal = await measureRss(["source", "--config", config(db, from, `[transport]\nkind = "journal"\n[transport.journal]\ndir = "${join(work, "j1")}"`), "--stop-at-end"]);
  console.log(
    `  → journal: ${(events / journal.seconds).toFixed(0)} change events/s (${journal.seconds.toFixed(1)} s), peak RSS ${journal.peakRssMiB.toFixed(0)} MiB${journal.code ? `, EXIT ${journal.code}` : ""}`,
  );
  const kafka = getKafka();
  kafka.createTopic("bench_source", 1);
  const viaKafka = await measureRss([
    "source",
    "--config",
    config(db, from, `[transport]\nkind = "kafka"\n[transport.kafka]\nbrokers = ["${kafka.bootstrap}"]\ntopic = "bench_source"`),
    "--stop-at-end",
  ]);
  console.log(
    `  → kafka (mock broker): ${(events / viaKafka.seconds).toFixed(0)} change events/s (${viaKafka.seconds.toFixed(1)} s), peak RSS ${viaKafka.peakRssMiB.toFixed(0)} MiB${viaKafka.code ? `, EXIT ${viaKafka.code}` : ""}`,
  );

  console.log(`one transaction of ${ROWS.toLocaleString("en")} rows:`);
  const bigFrom = await history(db, "big", ROWS, true);
  const big = await measureRss(["source", "--config", config(db, bigFrom, `[transport]\nkind = "journal"\n[transport.journal]\ndir = "${join(work, "j2")}"`), "--stop-at-end"]);
  console.log(
    `  → journal: ${(ROWS / big.seconds).toFixed(0)} change events/s (${big.seconds.toFixed(1)} s), peak RSS ${big.peakRssMiB.toFixed(0)} MiB (target < 300 MiB: ${big.peakRssMiB < 300 ? "met" : "NOT met"})${big.code ? `, EXIT ${big.code}` : ""}`,
  );
} finally {
  await db.stop();
  await stopAllServers();
  rmSync(work, { recursive: true, force: true });
}
