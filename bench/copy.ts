// Copy throughput: `bun run bench/copy.ts [--tables 8] [--table-size 250000] [--parallel 1,4,8]
//                    [--chunk-rows 200000] [--targets postgresql|opengauss,postgresql]
//                    [--blob-rows 200] [--blob-mb 1] [--pgloader yes|no]`.
//
// Measures `gs-replicate copy` (the compiled binary, as a runbook runs it) on existing data:
//   1. a throwaway MariaDB with sysbench oltp_write_only prepared in it (--tables × --table-size)
//   2. per target (bench/support/targets.ts, one at a time, fsync=off): `copy` with
//      [copy] parallel = each of --parallel, each into a fresh target database; wall time from
//      spawn to exit (schema, data, indexes: the whole command), rows/s, MB/s of COPY text (the
//      copy's own byte count), peak RSS (VmHWM, bench/support/rss.ts) and CPU time of the copy
//      process; then the target is compared with the source (row count and md5 per table,
//      bench/support/sbtest.ts)
//   3. Debian's pgloader MySQL → PostgreSQL on the same tables (PostgreSQL only; it logs in as
//      a mysql_native_password user made for it), its time for comparison
//   4. memory with large rows: --blob-rows rows of a --blob-mb MB LONGBLOB copied with
//      parallel = 1 (peak RSS; --blob-rows 0 leaves it out)
// Prints figures only; it asserts nothing about speed. Client and servers share the machine's
// CPUs, so the machine (nproc, CPU model) and the commit are printed with the figures.
// GSR_BINARY=path measures another build (a saved copy, to compare before and after a change);
// GSR_BENCH_ECHO=1 prints each copy's stderr (per-table and index lines) after its figures.

import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { startMariadb, type MariaDb, type TargetDialect } from "../test/support/servers.ts";
import { BINARY as BUILT } from "../test/support/cli.ts";
import { differences, mariadbSums, postgresSums, type Sums } from "./support/sbtest.ts";
import { startBenchTarget, type BenchTarget } from "./support/targets.ts";
import { measureRss, type MeasuredRun } from "./support/rss.ts";

const BINARY = process.env.GSR_BINARY ?? BUILT;

// ---------------------------------------------------------------- options

interface Options {
  tables: number;
  tableSize: number;
  parallel: number[];
  chunkRows: number;
  targets: TargetDialect[];
  blobRows: number;
  blobMb: number;
  pgloader: boolean;
}

function options(argv: string[]): Options {
  const o: Options = { tables: 8, tableSize: 250_000, parallel: [1, 4, 8], chunkRows: 200_000, targets: ["postgresql"], blobRows: 200, blobMb: 1, pgloader: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) usage(`${flag} needs a value`);
      return v!;
    };
    const int = (min: number) => {
      const v = value();
      const n = Number(v);
      if (!Number.isInteger(n) || n < min) usage(`${flag}: expected an integer ≥ ${min}, found "${v}"`);
      return n;
    };
    switch (flag) {
      case "--tables":
        o.tables = int(1);
        break;
      case "--table-size":
        o.tableSize = int(1);
        break;
      case "--chunk-rows":
        o.chunkRows = int(1000);
        break;
      case "--parallel": {
        const v = value();
        o.parallel = v.split(",").map(Number);
        if (o.parallel.some((n) => !Number.isInteger(n) || n < 1 || n > 64)) usage(`--parallel: expected a comma-separated list of 1..64, found "${v}"`);
        break;
      }
      case "--targets": {
        const v = value();
        const list = [...new Set(v.split(","))];
        if (list.some((d) => d !== "opengauss" && d !== "postgresql")) usage(`--targets: expected opengauss, postgresql or both, found "${v}"`);
        o.targets = list as TargetDialect[];
        break;
      }
      case "--blob-rows":
        o.blobRows = int(0);
        break;
      case "--blob-mb":
        o.blobMb = int(1);
        break;
      case "--pgloader": {
        const v = value();
        if (v !== "yes" && v !== "no") usage(`--pgloader: expected yes or no, found "${v}"`);
        o.pgloader = v === "yes";
        break;
      }
      case "--help":
      case "-h":
        usage();
        break;
      default:
        usage(`unknown flag ${a}`);
    }
  }
  return o;
}

function usage(message?: string): never {
  if (message) console.error(`bench/copy.ts: ${message}`);
  console.error(
    "usage: bun run bench/copy.ts [--tables 8] [--table-size 250000] [--parallel 1,4,8] [--chunk-rows 200000] [--targets postgresql|opengauss,postgresql] [--blob-rows 200] [--blob-mb 1] [--pgloader yes|no]",
  );
  process.exit(message ? 2 : 0);
}

const opt = options(process.argv.slice(2));

// ---------------------------------------------------------------- helpers

const say = (s: string) => console.log(s);
const fmt = (n: number, digits = 0) => n.toLocaleString("en", { minimumFractionDigits: digits, maximumFractionDigits: digits });
const tableNames = Array.from({ length: opt.tables }, (_, i) => `sbtest${i + 1}`);
const work = mkdtempSync(join(tmpdir(), "gsr-bench-copy-"));

function machine(): string {
  const model = cpus()[0]?.model ?? "unknown CPU";
  const commit = Bun.spawnSync(["git", "rev-parse", "--short", "HEAD"], { cwd: import.meta.dir, stdout: "pipe" })
    .stdout.toString()
    .trim();
  const dirty =
    Bun.spawnSync(["git", "status", "--porcelain", "--untracked-files=no"], { cwd: import.meta.dir, stdout: "pipe" })
      .stdout.toString()
      .trim() !== "";
  return `${navigator.hardwareConcurrency} CPUs (nproc), ${model}; commit ${commit}${dirty ? " (with uncommitted changes)" : ""}; binary ${BINARY}`;
}

function copyConfig(db: MariaDb, t: BenchTarget, database: string, sourceDb: string, parallel: number): string {
  const file = join(work, `copy-${database}.toml`);
  writeFileSync(
    file,
    `[source]\nport = ${db.port}\nuser = "root"\npassword = ""\ndatabases = ["${sourceDb}"]\n\n[target]\n${t.sinkToml(database, t.port)}\n\n` +
      `[copy]\nparallel = ${parallel}\nchunk_rows = ${opt.chunkRows}\n\n[log]\nprogress_seconds = 10\n`,
  );
  return file;
}

interface CopyFigures {
  run: MeasuredRun;
  rows: number;
  bytes: number;
}

/** `copy --json` into `database`; its report's rows and bytes. */
async function runCopy(db: MariaDb, t: BenchTarget, database: string, sourceDb: string, parallel: number): Promise<CopyFigures> {
  await t.createDatabase(database);
  const run = await measureRss(["copy", "--json", "--config", copyConfig(db, t, database, sourceDb, parallel)]);
  if (run.code !== 0) throw new Error(`copy (parallel ${parallel}) exited with ${run.code}:\n${run.stderr}`);
  const report = JSON.parse(run.stdout) as { rows: number; bytes: number };
  return { run, rows: report.rows, bytes: report.bytes };
}

function compareSums(a: Sums, b: Sums): string {
  const bad = differences(a, b);
  return bad.length === 0 ? "EQUAL (row counts and md5 of every table)" : `DIFFERENT: ${bad.join("; ")}`;
}

async function dropDatabase(t: BenchTarget, name: string): Promise<void> {
  const s = t.sql("postgres");
  try {
    await s.unsafe(`DROP DATABASE IF EXISTS ${name}`);
  } finally {
    await s.end();
  }
}

// ---------------------------------------------------------------- pgloader

const PGLOADER_USER = "pgl";
const PGLOADER_PASSWORD = "pglpass";

/**
 * pgloader (Common Lisp, qmynd) speaks mysql_native_password only: a user of its own with that
 * plugin, over TCP (root's login works too but has an empty password, which pgloader's URI
 * cannot carry reliably).
 */
async function pgloaderUser(db: MariaDb): Promise<void> {
  const c = await db.connect();
  try {
    await c.query(`CREATE USER '${PGLOADER_USER}'@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('${PGLOADER_PASSWORD}')`);
    await c.query(`GRANT ALL ON *.* TO '${PGLOADER_USER}'@'%'`);
  } finally {
    await c.end();
  }
}

async function runPgloader(db: MariaDb, t: BenchTarget, sourceSums: Sums): Promise<void> {
  const which = Bun.spawnSync(["sh", "-c", "command -v pgloader"], { stdout: "pipe" });
  if (which.exitCode !== 0) {
    say(`  pgloader: not installed (apt-get install -y pgloader); no comparison`);
    return;
  }
  const version = Bun.spawnSync(["pgloader", "--version"], { stdout: "pipe" }).stdout.toString().split("\n")[0]!.trim();
  const database = "pgloader_run";
  await t.createDatabase(database);
  // The same shape as copy's: tables, rows, then indexes. Debian's pgloader has a 1 GB Lisp
  // heap: with 8 workers and its default prefetch of 100,000 rows per reader it died here
  // ("Heap exhausted, game over"), so 4 workers (its default) and 10,000 rows per batch.
  const load = join(work, "sbtest.load");
  writeFileSync(
    load,
    `LOAD DATABASE\n  FROM mysql://${PGLOADER_USER}:${PGLOADER_PASSWORD}@127.0.0.1:${db.port}/sbtest\n  INTO postgresql://postgres@127.0.0.1:${t.port}/${database}\n` +
      `  WITH include drop, create tables, create indexes, reset sequences, workers = 4, concurrency = 1, prefetch rows = 10000, batch rows = 10000\n;\n`,
  );
  const t0 = performance.now();
  const p = Bun.spawn(["pgloader", "--no-ssl-cert-verification", load], { cwd: work, stdout: "pipe", stderr: "pipe", env: { ...process.env, HOME: work } });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  const seconds = (performance.now() - t0) / 1000;
  const ru = p.resourceUsage();
  if (code !== 0) {
    say(`  pgloader (${version}) could not run here: exit ${code} after ${seconds.toFixed(1)} s:\n    | ${(err + out).trim().split("\n").slice(-15).join("\n    | ")}`);
    return;
  }
  const s = t.sql(database);
  try {
    const rows = [...sourceSums.values()].reduce((a, x) => a + x.rows, 0);
    say(
      `  pgloader (${version}): ${seconds.toFixed(2)} s wall, ${fmt(rows / seconds)} rows/s; peak RSS ${fmt((ru?.maxRSS ?? 0) / 1048576)} MiB, CPU ${(Number(ru?.cpuTime.total ?? 0) / 1e6).toFixed(1)} s`,
    );
    say(`    target vs source: ${compareSums(sourceSums, await postgresSums(s, tableNames, "sbtest"))}`);
    const summary = (err + out).split("\n").filter((l) => /Total import time|Files Processed|COPY Threads/.test(l));
    for (const l of summary) say(`    | ${l.trim()}`);
  } finally {
    await s.end();
    await dropDatabase(t, database);
  }
}

// ---------------------------------------------------------------- blobs

/** --blob-rows rows of --blob-mb MB in database blobs (each value distinct, barely compressible by InnoDB). */
async function prepareBlobs(db: MariaDb): Promise<void> {
  const c = await db.connect();
  try {
    await c.query("CREATE DATABASE blobs");
    await c.query("CREATE TABLE blobs.b (id INT PRIMARY KEY, data LONGBLOB NOT NULL) ENGINE=InnoDB");
    // 1 MB of md5 text per MB, starting with the row's own id: every value differs.
    for (let i = 1; i <= opt.blobRows; i++) await c.query(`INSERT INTO blobs.b VALUES (${i}, REPEAT(MD5(${i}), ${opt.blobMb * 32768}))`);
  } finally {
    await c.end();
  }
}

async function blobSums(db: MariaDb, t: BenchTarget, database: string): Promise<string> {
  const c = await db.connect();
  const s = t.sql(database);
  try {
    await c.query("SET SESSION group_concat_max_len = 1073741824");
    const [[m]] = (await c.query("SELECT COUNT(*) AS n, MD5(GROUP_CONCAT(MD5(data) ORDER BY id)) AS h FROM blobs.b")) as unknown as [[{ n: number; h: string }]];
    const [p] = await s.unsafe("SELECT count(*) AS n, md5(string_agg(md5(data), ',' ORDER BY id)) AS h FROM blobs.b");
    const equal = Number(m.n) === Number(p!.n) && m.h === p!.h;
    return equal ? `EQUAL (${m.n} rows, md5 of every value)` : `DIFFERENT: source ${m.n} rows ${m.h}, target ${p!.n} rows ${p!.h}`;
  } finally {
    await c.end();
    await s.end();
  }
}

// ---------------------------------------------------------------- the bench

let db: MariaDb | undefined;
let target: BenchTarget | undefined;
let cleaned = false;

async function cleanup(): Promise<void> {
  if (cleaned) return;
  cleaned = true;
  await Promise.allSettled([db?.stop(), target?.stop()]);
  rmSync(work, { recursive: true, force: true });
}

for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    console.error(`\n${sig}: stopping the servers and removing ${work}`);
    void cleanup().finally(() => process.exit(130));
  });
}

let exitCode = 0;
try {
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: run "make build"`);
  say(
    `copy benchmark: sysbench oltp_write_only prepare, ${opt.tables} tables × ${fmt(opt.tableSize)} rows; copy with parallel ${opt.parallel.join(", ")}; targets ${opt.targets.join(", ")}`,
  );
  say(`machine: ${machine()}`);
  say(`load average before starting: ${loadavg()[0]!.toFixed(2)}`);
  db = await startMariadb({ extraArgs: ["--sync-binlog=0", "--innodb-flush-log-at-trx-commit=0", "--innodb-buffer-pool-size=512M", "--max-connections=300"] });
  const admin = await db.connect();
  await admin.query("CREATE DATABASE sbtest");
  await admin.end();
  let t0 = performance.now();
  const prep = Bun.spawnSync(
    [
      "sysbench",
      "oltp_write_only",
      "--db-driver=mysql",
      "--mysql-host=127.0.0.1",
      `--mysql-port=${db.port}`,
      "--mysql-user=root",
      "--mysql-password=",
      "--mysql-db=sbtest",
      `--tables=${opt.tables}`,
      `--table-size=${opt.tableSize}`,
      `--threads=${Math.min(opt.tables, 4)}`,
      "prepare",
    ],
    { stdout: "pipe", stderr: "pipe" },
  );
  if (prep.exitCode !== 0) throw new Error(`sysbench prepare: ${prep.stderr.toString()}`);
  const sourceSums = await mariadbSums(db, tableNames);
  const sourceRows = [...sourceSums.values()].reduce((a, x) => a + x.rows, 0);
  say(`prepared sbtest on MariaDB in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${fmt(sourceRows)} rows`);
  if (opt.blobRows > 0) {
    t0 = performance.now();
    await prepareBlobs(db);
    say(`prepared blobs.b on MariaDB in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${opt.blobRows} rows × ${opt.blobMb} MB LONGBLOB`);
  }
  if (opt.pgloader) await pgloaderUser(db);

  const results: string[] = [];
  for (const dialect of opt.targets) {
    say(`\n== ${dialect}: starting a throwaway server (fsync=off)${dialect === "opengauss" ? "; gs_initdb takes a minute or two" : ""}`);
    target = await startBenchTarget(dialect);
    const label = target.name.replace(/ \(.*\)$/, "");
    for (const parallel of opt.parallel) {
      const database = `copy_p${parallel}`;
      const f = await runCopy(db, target, database, "sbtest", parallel);
      const s = target.sql(database);
      const cmp = compareSums(sourceSums, await postgresSums(s, tableNames, "sbtest"));
      await s.end();
      if (!cmp.startsWith("EQUAL")) exitCode = 1;
      const r = f.run;
      const line =
        `${label} parallel ${String(parallel).padStart(2)}: ${r.seconds.toFixed(2).padStart(7)} s, ${fmt(f.rows / r.seconds).padStart(9)} rows/s, ` +
        `${fmt(f.bytes / r.seconds / 1e6, 1).padStart(6)} MB/s, peak RSS ${fmt(r.peakRssMiB).padStart(4)} MiB, copy CPU ${r.cpuSeconds.toFixed(1)} s; target ${cmp.startsWith("EQUAL") ? "= source" : "≠ SOURCE"}`;
      say(`  ${line}`);
      if (!cmp.startsWith("EQUAL")) say(`    ${cmp}`);
      // Where the time went: the copy's own lines (tables loaded, indexes), timestamps included.
      if (process.env.GSR_BENCH_ECHO) for (const l of r.stderr.trim().split("\n")) say(`    | ${l}`);
      results.push(line);
      await dropDatabase(target, database);
    }
    if (opt.pgloader) {
      if (dialect === "postgresql") await runPgloader(db, target, sourceSums);
      else say(`  pgloader: not run against ${target.name} (pgloader loads PostgreSQL; openGauss refuses its protocol use)`);
    }
    if (opt.blobRows > 0) {
      const f = await runCopy(db, target, "copy_blobs", "blobs", 1);
      const cmp = await blobSums(db, target, "copy_blobs");
      if (!cmp.startsWith("EQUAL")) exitCode = 1;
      const line = `${label} blobs ${opt.blobRows} × ${opt.blobMb} MB, parallel 1: ${f.run.seconds.toFixed(2)} s, ${fmt(f.bytes / f.run.seconds / 1e6, 1)} MB/s of COPY text, peak RSS ${fmt(f.run.peakRssMiB)} MiB; target ${cmp}`;
      say(`  ${line}`);
      results.push(line);
      await dropDatabase(target, "copy_blobs");
    }
    const stopping = target;
    target = undefined;
    await stopping.stop();
  }
  say(`\n== copy benchmark, ${opt.tables} tables × ${fmt(opt.tableSize)} rows (sysbench), chunk_rows ${fmt(opt.chunkRows)}; ${machine()}`);
  say(`   seconds = spawn to exit of \`gs-replicate copy\` (schema, rows, indexes); MB/s = COPY text bytes; load average now ${loadavg()[0]!.toFixed(2)}`);
  for (const l of results) say(l);
} catch (err) {
  console.error(`bench/copy.ts failed: ${err instanceof Error ? err.message : String(err)}`);
  exitCode = 1;
} finally {
  await cleanup();
  say(`servers stopped, ${work} removed`);
}
process.exit(exitCode);
