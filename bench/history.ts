// bench/history: `gs-replicate source` on a MariaDB whose binlog does not name columns
// (binlog_row_metadata=NO_LOG), so that the source keeps a schema history in its log. A schema
// of TABLES tables (ten columns, two indexes: about 2 KB of definition each), then DDL
// statements each on another table (ALTER TABLE … ADD COLUMN, and one row inserted after it),
// read by one `source --stop-at-end` run into a journal. Per binary it prints: the first run
// (the snapshot), the run over the DDL (seconds, DDL/s, peak RSS), a restart with nothing new
// (the history reloaded), the journal's size, and the history records (count, total, largest).
// Last, the same with this build and binlog_row_metadata=FULL, where no history is kept: what
// the workload costs without one. Prints figures only.
//
//   bun run bench/history.ts [tables=400] [ddl=300] [label=binary ...]
//
// Binaries default to dist/gs-replicate; to compare with another build, e.g. main's:
//   bun run bench/history.ts 400 300 main=/tmp/gs-replicate-main branch=dist/gs-replicate

import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { recordKind } from "../src/events/decode.ts";
import { openJournalReader } from "../src/transport/journal.ts";
import { BINARY, writeConfig } from "../test/support/cli.ts";
import { startMariadb, type MariaDb } from "../test/support/servers.ts";

const TABLES = Number(process.argv[2] ?? 400);
const DDL = Number(process.argv[3] ?? 300);
const binaries = process.argv.slice(4).map((a) => {
  const [label, path] = a.split("=");
  if (!label || !path) throw new Error(`expected label=binary, got ${a}`);
  return { label, path };
});
if (binaries.length === 0) binaries.push({ label: "this build", path: BINARY });
const work = mkdtempSync(join(tmpdir(), "gsr-bench-history-"));

interface Run {
  seconds: number;
  peakRssMiB: number;
}

/** Runs a binary to the end and samples its peak RSS (VmHWM). */
async function measure(binary: string, args: string[]): Promise<Run> {
  const start = performance.now();
  const p = Bun.spawn([binary, ...args], { stdout: "ignore", stderr: "pipe" });
  let peak = 0;
  const timer = setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.pid}/status`, "utf8"));
      if (m) peak = Math.max(peak, Number(m[1]) / 1024);
    } catch {}
  }, 20);
  const stderr = new Response(p.stderr).text();
  const code = await p.exited;
  clearInterval(timer);
  if (code !== 0) throw new Error(`${binary} ${args.join(" ")} exited ${code}:\n${await stderr}`);
  return { seconds: (performance.now() - start) / 1000, peakRssMiB: peak };
}

const table = (db: string, i: number) =>
  `CREATE TABLE ${db}.t${i} (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL, email VARCHAR(200), status ENUM('new','active','closed'), amount DECIMAL(12,2), created DATETIME, updated TIMESTAMP NULL, notes TEXT, flags SET('a','b','c'), ref BIGINT UNSIGNED, KEY ix_name (name), UNIQUE KEY ux_email (email))`;

async function journalFigures(dir: string): Promise<{ bytes: number; records: number; history: number; historyBytes: number; largest: number }> {
  const bytes = readdirSync(dir)
    .filter((n) => n.endsWith(".seg"))
    .reduce((a, n) => a + statSync(join(dir, n)).size, 0);
  const out = { bytes, records: 0, history: 0, historyBytes: 0, largest: 0 };
  const reader = await openJournalReader({ dir });
  for await (const { record } of reader.read(0n, { follow: false })) {
    out.records++;
    out.largest = Math.max(out.largest, record.value.length);
    if (recordKind(record) === "history") {
      out.history++;
      out.historyBytes += record.value.length;
    }
  }
  await reader.close();
  return out;
}

async function bench(db: MariaDb, label: string, binary: string, n: number): Promise<void> {
  const name = `h${n}`;
  const c = await db.connect();
  await c.query(`CREATE DATABASE ${name}`);
  const t0 = performance.now();
  for (let i = 0; i < TABLES; i += 100) {
    await c.query(Array.from({ length: Math.min(100, TABLES - i) }, (_, k) => table(name, i + k)).join(";"));
  }
  const created = (performance.now() - t0) / 1000;
  const dir = join(work, `journal-${n}`);
  const cfg = writeConfig(
    `[source]\nport = ${db.port}\nuser = "root"\npassword = ""\ndatabases = ["${name}"]\nstart = "current"\n[transport]\nkind = "journal"\n[transport.journal]\ndir = "${dir}"\n[log]\nprogress_seconds = 60\n`,
  );
  const args = ["source", "--config", cfg, "--stop-at-end"];
  const snapshot = await measure(binary, args);
  // Each statement on another table: the worst case for a history of deltas.
  for (let k = 0; k < DDL; k++) {
    const t = `${name}.t${(k * 7) % TABLES}`;
    await c.query(`ALTER TABLE ${t} ADD COLUMN c${k} INT; INSERT INTO ${t} (id, name) VALUES (${k}, 'r${k}')`);
  }
  await c.end();
  const ddl = await measure(binary, args);
  const restart = await measure(binary, args);
  const j = await journalFigures(dir);
  const mib = (b: number) => `${(b / 1048576).toFixed(2)} MiB`;
  console.log(`\n${label} (${binary}), ${TABLES} tables created in ${created.toFixed(1)} s`);
  console.log(`  first run (snapshot):      ${snapshot.seconds.toFixed(2)} s, peak RSS ${snapshot.peakRssMiB.toFixed(0)} MiB`);
  console.log(`  run over ${DDL} DDL + ${DDL} rows: ${ddl.seconds.toFixed(2)} s = ${(DDL / ddl.seconds).toFixed(1)} DDL/s, peak RSS ${ddl.peakRssMiB.toFixed(0)} MiB`);
  console.log(`  restart, nothing new:      ${restart.seconds.toFixed(2)} s`);
  console.log(`  journal:                   ${mib(j.bytes)} in ${j.records} records`);
  console.log(`  history records:           ${j.history}, ${mib(j.historyBytes)} in all, largest record ${(j.largest / 1024).toFixed(1)} KiB`);
}

const db = await startMariadb({
  binlogArgs: ["--log-bin=binlog", "--binlog-format=ROW", "--binlog-row-image=FULL", "--binlog-row-metadata=NO_LOG"],
  // Creating hundreds of InnoDB tables otherwise costs a file and a sync each.
  extraArgs: ["--innodb-file-per-table=OFF", "--innodb-flush-log-at-trx-commit=0", "--sync-binlog=0"],
});
try {
  console.log(`bench/history: ${TABLES} tables, ${DDL} DDL statements on different tables, binlog_row_metadata=NO_LOG, journal`);
  for (const [i, b] of binaries.entries()) await bench(db, b.label, b.path, i);
  const c = await db.connect();
  await c.query("SET GLOBAL binlog_row_metadata = FULL");
  await c.query("FLUSH BINARY LOGS");
  await c.end();
  await bench(db, "reference: binlog_row_metadata=FULL, no history", BINARY, binaries.length);
} finally {
  await db.stop();
  rmSync(work, { recursive: true, force: true });
}
