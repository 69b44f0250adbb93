// bench/binlog-decode: events/s decoding a MariaDB binlog of >= 1,000,000 row events, next to
// `mariadb-binlog --base64-output=decode-rows -vv` on the same file. Prints figures only.
//
//   bun run bench/binlog-decode.ts [rows=1000000]
//
// The binlog is made by a throwaway MariaDB: one single-row INSERT per statement (so one rows
// event per row), 10,000 statements per transaction, on a table of common types.

import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { EventDecoder } from "../src/binlog/decode.ts";
import { splitEvents } from "../src/binlog/header.ts";
import { TransactionAssembler, type StreamItem } from "../src/binlog/transactions.ts";
import { startMariadb } from "../test/support/servers.ts";

const ROWS = Number(process.argv[2] ?? 1_000_000);
const db = await startMariadb({ extraArgs: ["--sync-binlog=0", "--innodb-flush-log-at-trx-commit=0", "--max-binlog-size=1073741824"] });
try {
  const c = await db.connect();
  await c.query(`CREATE DATABASE b; CREATE TABLE b.t (id INT PRIMARY KEY, a BIGINT, s VARCHAR(64), ts DATETIME(6), d DECIMAL(12,2), n INT NULL)`);
  await c.query(`CREATE PROCEDURE b.fill(n INT) BEGIN
    DECLARE i INT DEFAULT 0;
    START TRANSACTION;
    WHILE i < n DO
      INSERT INTO b.t VALUES (i, i * 7919, CONCAT('row-', i, '-payload'), '2024-01-02 03:04:05.123456', i / 100, IF(i % 3 = 0, NULL, i));
      SET i = i + 1;
      IF i % 10000 = 0 THEN COMMIT; START TRANSACTION; END IF;
    END WHILE;
    COMMIT;
  END`);
  await c.query("FLUSH BINARY LOGS");
  const t0 = performance.now();
  await c.query(`CALL b.fill(${ROWS})`);
  console.log(`generated ${ROWS} single-row INSERTs in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  await c.query("FLUSH BINARY LOGS");
  await c.end();

  const files = readdirSync(db.datadir)
    .filter((f) => /^binlog\.\d+$/.test(f))
    .sort();
  const file = files.at(-2)!; // the one the workload went to (the last is the fresh empty one)
  const path = join(db.datadir, file);
  const buf = new Uint8Array(readFileSync(path));
  console.log(`binlog ${file}: ${(buf.length / 1048576).toFixed(1)} MiB`);

  // ours: framing + CRC32 + full decode of every event + transaction assembly
  let best = Infinity;
  let events = 0;
  let rowsEvents = 0;
  let rows = 0;
  for (let round = 0; round < 3; round++) {
    const s = performance.now();
    const decoder = new EventDecoder({ file });
    const asm = new TransactionAssembler({ databases: [] });
    const out: StreamItem[] = [];
    const { events: raws } = splitEvents(buf, file);
    events = raws.length;
    rowsEvents = 0;
    rows = 0;
    for (const { raw } of raws) {
      const ev = decoder.decode(raw);
      if (ev.kind === "rows") {
        rowsEvents++;
        rows += ev.rows.length;
      }
      asm.push(ev, out);
      out.length = 0;
    }
    best = Math.min(best, performance.now() - s);
  }
  const ours = events / (best / 1000);
  console.log(
    `gs-replicate decode : ${events} events (${rowsEvents} rows events, ${rows} rows) in ${(best / 1000).toFixed(2)} s = ${Math.round(ours).toLocaleString("en")} events/s, ${Math.round(rowsEvents / (best / 1000)).toLocaleString("en")} rows events/s`,
  );

  const s = performance.now();
  const tool = Bun.spawnSync(["mariadb-binlog", "--no-defaults", "--base64-output=decode-rows", "-vv", path], { stdout: "ignore", stderr: "pipe" });
  const theirs = (performance.now() - s) / 1000;
  if (tool.exitCode !== 0) throw new Error(`mariadb-binlog failed: ${tool.stderr.toString()}`);
  console.log(`mariadb-binlog -vv  : ${events} events in ${theirs.toFixed(2)} s = ${Math.round(events / theirs).toLocaleString("en")} events/s`);
  console.log(`ratio gs-replicate / mariadb-binlog = ${(ours / (events / theirs)).toFixed(2)}x`);
} finally {
  await db.stop();
}
