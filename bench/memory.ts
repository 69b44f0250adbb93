// bench/memory: peak RSS of `source` and `sink` (issue 14 item 3), each run to the end of the
// log on its own:
//   - one transaction updating 1,000,000 rows (goal: < 300 MiB for each), after the
//     transaction that inserted them (as large: it is replicated too);
//   - one row holding a 10, 50 and 100 MB LONGBLOB (goal: at most 3 × the value + 150 MiB).
// Prints figures only (speed and memory are measured here, never asserted in tests).
//
//   bun run bench/memory.ts [--target opengauss|postgresql] [--rows 1000000] [--values 10,50,100]
// (--rows 0 leaves the row case out; GSR_BINARY=path measures another build, bench/support/rss.ts)

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startMariadb, stopAllServers, type MariaDb, type TargetDialect } from "../test/support/servers.ts";
import { writeConfig } from "../test/support/cli.ts";
import { startBenchTarget, type BenchTarget } from "./support/targets.ts";
import { measureRss, type MeasuredRun } from "./support/rss.ts";

function options(argv: string[]): { target: TargetDialect; rows: number; values: number[] } {
  const o = { target: "opengauss" as TargetDialect, rows: 1_000_000, values: [10, 50, 100] };
  for (let i = 0; i < argv.length; i += 2) {
    const [k, v] = [argv[i], argv[i + 1] ?? ""];
    if (k === "--target") o.target = v as TargetDialect;
    else if (k === "--rows") o.rows = Number(v);
    else if (k === "--values") o.values = v.split(",").map(Number);
    else throw new Error(`unknown option ${k}`);
  }
  return o;
}

const o = options(process.argv.slice(2));
const work = mkdtempSync(join(tmpdir(), "gsr-bench-memory-"));
const MIB = 1024 * 1024;

async function position(db: MariaDb): Promise<{ file: string; pos: number }> {
  const c = await db.connect();
  const [[p]] = (await c.query("SHOW MASTER STATUS")) as unknown as [[{ File: string; Position: number }]];
  await c.end();
  return { file: p.File, pos: Number(p.Position) };
}

function config(db: MariaDb, target: BenchTarget, database: string, from: { file: string; pos: number }, journal: string): string {
  return writeConfig(
    `[source]\nport = ${db.port}\nuser = "root"\npassword = ""\ndatabases = ["${database}"]\nstart = "file:${from.file}:${from.pos}"\n` +
      `[transport]\nkind = "journal"\n[transport.journal]\ndir = "${join(work, journal)}"\n` +
      `[target]\n${target.sinkToml(database, target.port)}\n[sink]\nworkers = 4\n[log]\nprogress_seconds = 30\n`,
  );
}

/** source then sink over the same journal, each measured. */
async function pipeline(cfg: string): Promise<{ source: MeasuredRun; sink: MeasuredRun }> {
  const source = await measureRss(["source", "--config", cfg, "--stop-at-end"]);
  const sink = await measureRss(["sink", "--config", cfg, "--stop-at-end"]);
  return { source, sink };
}

const line = (label: string, r: MeasuredRun, goal: number) =>
  `  ${label.padEnd(8)} peak RSS ${r.peakRssMiB.toFixed(0).padStart(5)} MiB (goal ${goal.toFixed(0)} MiB: ${r.peakRssMiB <= goal ? "met" : "NOT met"}), ${r.seconds.toFixed(1)} s${r.code ? `, EXIT ${r.code}` : ""}`;

const db = await startMariadb({
  extraArgs: ["--sync-binlog=0", "--innodb-flush-log-at-trx-commit=0", "--max-binlog-size=1073741824", "--max-allowed-packet=1073741824", "--innodb-log-file-size=512M"],
});
const target = await startBenchTarget(o.target);
try {
  console.log(`bench/memory: source and sink peak RSS, target ${target.name}`);
  if (o.rows > 0) {
    const name = "mem_rows";
    await target.createDatabase(name);
    const from = await position(db);
    const c = await db.connect();
    await c.query(`CREATE DATABASE ${name}; CREATE TABLE ${name}.t (id INT PRIMARY KEY, n INT NOT NULL, pad CHAR(20) NOT NULL)`);
    await c.query(`INSERT INTO ${name}.t SELECT seq, 0, 'padding-padding' FROM ${name}.seq_1_to_${o.rows}`);
    await c.query(`UPDATE ${name}.t SET n = n + 1`);
    await c.end();
    const r = await pipeline(config(db, target, name, from, "rows"));
    console.log(`${o.rows.toLocaleString("en")}-row INSERT, then a ${o.rows.toLocaleString("en")}-row UPDATE, each one transaction:`);
    console.log(line("source", r.source, 300));
    console.log(line("sink", r.sink, 300));
  }
  for (const mb of o.values) {
    const name = `mem_blob_${mb}`;
    await target.createDatabase(name);
    const from = await position(db);
    const c = await db.connect();
    await c.query(`CREATE DATABASE ${name}; CREATE TABLE ${name}.b (id INT PRIMARY KEY, v LONGBLOB)`);
    // Bytes that do not compress to nothing: a 1 KiB random block repeated.
    await c.query(`INSERT INTO ${name}.b VALUES (1, REPEAT(RANDOM_BYTES(1024), ${mb * 1024}))`);
    await c.end();
    const r = await pipeline(config(db, target, name, from, `blob${mb}`));
    const goal = (3 * mb * 1_000_000) / MIB + 150;
    console.log(`one row with a ${mb} MB LONGBLOB:`);
    console.log(line("source", r.source, goal));
    console.log(line("sink", r.sink, goal));
  }
} finally {
  await target.stop();
  await stopAllServers();
  rmSync(work, { recursive: true, force: true });
}
