// Sink throughput: `bun run bench/sink.ts [--events 20000] [--workers 8] [--tables 8]
//                    [--table-size 10000] [--threads 8] [--also 4,16] [--delay-us 500]
//                    [--network-native-events 2000] [--targets opengauss,postgresql]`.
//
// Replays a sysbench oltp_write_only history (sysbench is in Debian) and compares it with the
// same workload run natively on the same target, for each target in turn: a real openGauss 7.0
// and PostgreSQL 15 (bench/support/targets.ts; one runs at a time, so neither loads the other):
//   1. start a throwaway MariaDB (ROW binlog, full metadata)
//   2. sysbench prepare on MariaDB, copy the prepared rows aside (database sbtest_prepared,
//      before the recorded position, so never replayed), record the binlog position, then
//      sysbench run on MariaDB: each transaction is one index update, one non-index update,
//      one delete and one insert
//   3. `gs-replicate source --stop-at-end` once into a journal (timed: events/s)
//   then per target: start it (fsync=off), copy the prepared rows into schema sbtest_template
//   of database bench (same columns and indexes), and
//   4. `gs-replicate sink --stop-at-end` with 1 worker, N workers (and --also counts), each
//      into a fresh schema copied from the template (openGauss's CREATE DATABASE copies only
//      template0, so runs are schemas, and the sink's checkpoint schemas are dropped after each
//      run, as for a fresh migration): wall time from spawn to exit, peak RSS (wait4's
//      ru_maxrss), CPU time; then source and target are compared table by table (row count and
//      md5 of the ordered rows, computed in SQL on both sides)
//   5. native: sysbench oltp_write_only --db-driver=pgsql with 1 and N threads, same event
//      count, on fresh copies of the same template (sysbench's role has search_path = that
//      schema), so it starts from the very rows the replay starts from; its own
//      "transactions: … (X per sec.)" figure
//   6. steps 4 and 5 again through bench/support/delay-proxy.c (--delay-us each way, default
//      500; 0 skips this): a migration host reaches openGauss over a network, where one
//      worker waits a round trip per transaction; on loopback, client and server share two
//      CPUs and one worker already keeps them busy, so parallelism has little to add there
//      (the summary prints native sysbench's own N-thread/1-thread ratio for comparison).
//      Native runs here use --network-native-events (sysbench waits 6 round trips per tx).
// Prints figures and whether the issue's targets are met; it asserts nothing about speed.
// Client and servers share the machine's CPUs; other load moves every figure, the one-session
// ones (replay 1 worker, native 1 thread: latency-bound ping-pong) the most, so the load
// average and the machine's busy share per run are printed with them.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { freePort, startMariadb, type MariaDb, type TargetDialect } from "../test/support/servers.ts";
import { BINARY as BUILT } from "../test/support/cli.ts";

/** GSR_BINARY measures another build (a saved copy, to compare before and after a change). */
const BINARY = process.env.GSR_BINARY ?? BUILT;
import { differences, mariadbSums, postgresSums, type Sums } from "./support/sbtest.ts";
import { startBenchTarget, type BenchTarget } from "./support/targets.ts";

// ---------------------------------------------------------------- options

interface Options {
  events: number;
  workers: number;
  tables: number;
  tableSize: number;
  threads: number;
  also: number[];
  delayUs: number;
  networkNativeEvents: number;
  targets: TargetDialect[];
}

function options(argv: string[]): Options {
  const o: Options = {
    events: 20_000,
    workers: 8,
    tables: 8,
    tableSize: 10_000,
    threads: 8,
    also: [4, 16],
    delayUs: 500,
    networkNativeEvents: 2_000,
    targets: ["opengauss", "postgresql"],
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) usage(`${flag} needs a value`);
      return v!;
    };
    const int = () => {
      const v = value();
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) usage(`${flag}: expected a positive integer, found "${v}"`);
      return n;
    };
    switch (flag) {
      case "--events":
        o.events = int();
        break;
      case "--workers":
        o.workers = int();
        break;
      case "--tables":
        o.tables = int();
        break;
      case "--table-size":
        o.tableSize = int();
        break;
      case "--threads":
        o.threads = int();
        break;
      case "--also": {
        const v = value();
        o.also = v === "" || v === "none" ? [] : v.split(",").map((x) => Number(x));
        if (o.also.some((n) => !Number.isInteger(n) || n < 1)) usage(`--also: expected a comma-separated list of worker counts, found "${v}"`);
        break;
      }
      case "--delay-us": {
        const v = value();
        o.delayUs = Number(v);
        if (!Number.isInteger(o.delayUs) || o.delayUs < 0) usage(`--delay-us: expected microseconds (0 = no network section), found "${v}"`);
        break;
      }
      case "--network-native-events":
        o.networkNativeEvents = int();
        break;
      case "--targets": {
        const v = value();
        const list = [...new Set(v.split(","))];
        if (list.length === 0 || list.some((d) => d !== "opengauss" && d !== "postgresql")) usage(`--targets: expected opengauss, postgresql or both, found "${v}"`);
        o.targets = list as TargetDialect[];
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
  if (message) console.error(`bench/sink.ts: ${message}`);
  console.error(
    "usage: bun run bench/sink.ts [--events 20000] [--workers 8] [--tables 8] [--table-size 10000] [--threads 8] [--also 4,16|none] [--delay-us 500] [--network-native-events 2000] [--targets opengauss,postgresql]",
  );
  process.exit(message ? 2 : 0);
}

const opt = options(process.argv.slice(2));
const N = opt.workers;
const workerCounts = [...new Set([1, N, ...opt.also])];

// ---------------------------------------------------------------- helpers

const say = (s: string) => console.log(s);
const fmt = (n: number, digits = 0) => n.toLocaleString("en", { minimumFractionDigits: digits, maximumFractionDigits: digits });
const mib = (bytes: number) => `${fmt(bytes / 1048576)} MiB`;
const tableNames = Array.from({ length: opt.tables }, (_, i) => `sbtest${i + 1}`);

let current: Subprocess | undefined;

/** Busy and total jiffies of the whole machine (all CPUs), from /proc/stat. */
function machineCpu(): { busy: number; total: number } {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - (f[3] ?? 0) - (f[4] ?? 0), total };
}

interface Run {
  code: number;
  /** Share of the whole machine's CPU time that was busy during the run (0..1). */
  machineBusy: number;
  seconds: number;
  stdout: string;
  stderr: string;
  maxRss: number;
  cpuSeconds: number;
}

/** Runs a command; its stderr lines are echoed (indented) when `echo` is set, and kept. */
async function spawn(cmd: string[], echo: boolean): Promise<Run> {
  const cpu0 = machineCpu();
  const t0 = performance.now();
  const p = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
  current = p;
  const pump = async (stream: ReadableStream<Uint8Array>, show: boolean): Promise<string> => {
    let all = "";
    let partial = "";
    const dec = new TextDecoder();
    for await (const chunk of stream) {
      const s = dec.decode(chunk, { stream: true });
      all += s;
      if (show) {
        partial += s;
        const lines = partial.split("\n");
        partial = lines.pop()!;
        for (const l of lines) console.log(`    | ${l}`);
      }
    }
    if (show && partial) console.log(`    | ${partial}`);
    return all;
  };
  const [stdout, stderr, code] = await Promise.all([pump(p.stdout, false), pump(p.stderr, echo), p.exited]);
  const seconds = (performance.now() - t0) / 1000;
  const cpu1 = machineCpu();
  const machineBusy = (cpu1.busy - cpu0.busy) / Math.max(1, cpu1.total - cpu0.total);
  current = undefined;
  const ru = p.resourceUsage();
  return { code, machineBusy, seconds, stdout, stderr, maxRss: ru?.maxRSS ?? 0, cpuSeconds: ru ? Number(ru.cpuTime.total) / 1e6 : 0 };
}

function must(r: Run, what: string): Run {
  if (r.code !== 0) throw new Error(`${what} exited with ${r.code}:\n${r.stderr}${r.stdout}`);
  return r;
}

function compareSums(a: Sums, b: Sums): { equal: boolean; detail: string } {
  const bad = differences(a, b);
  const rows = [...a.values()].reduce((s, x) => s + x.rows, 0);
  return bad.length === 0
    ? { equal: true, detail: `${a.size} tables, ${fmt(rows)} rows, row counts and md5 equal` }
    : { equal: false, detail: `${bad.length} of ${a.size} tables differ:\n      ${bad.join("\n      ")}` };
}

const BENCH_DB = "bench";
const TEMPLATE = "sbtest_template";

/** A fresh copy of the template in schema `name`, vacuumed and analyzed as the template was. */
async function cloneTemplate(t: BenchTarget, name: string): Promise<void> {
  const s = t.sql(BENCH_DB);
  try {
    await s.unsafe(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
    await s.unsafe(`CREATE SCHEMA ${name}`);
    for (const table of tableNames) {
      await s.unsafe(`CREATE TABLE ${name}.${table} (LIKE ${TEMPLATE}.${table} INCLUDING ALL)`);
      await s.unsafe(`INSERT INTO ${name}.${table} SELECT * FROM ${TEMPLATE}.${table}`);
      await s.unsafe(`VACUUM ANALYZE ${name}.${table}`);
    }
  } finally {
    await s.end();
  }
}

/** Drops a run's schema and, after a replay, the sink's checkpoint: the next run is a fresh migration. */
async function dropRun(t: BenchTarget, name: string): Promise<void> {
  const s = t.sql(BENCH_DB);
  try {
    for (const schema of [name, "gs_replicate", "gs_replicate_guard"]) await s.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await s.end();
  }
}

/** "transactions:  20000  (1234.56 per sec.)" and "ignored errors: 3 (…)" from sysbench's report. */
function sysbenchFigures(out: string): { tx: number; tps: number; ignored: number; seconds: number } {
  const m = /transactions:\s+(\d+)\s+\(([\d.]+) per sec\.\)/.exec(out);
  if (!m) throw new Error(`no "transactions:" line in sysbench's output:\n${out}`);
  const ig = /ignored errors:\s+(\d+)/.exec(out);
  const tt = /total time:\s+([\d.]+)s/.exec(out);
  return { tx: Number(m[1]), tps: Number(m[2]), ignored: ig ? Number(ig[1]) : 0, seconds: tt ? Number(tt[1]) : 0 };
}

function gtidSeq(pos: string): number {
  // MariaDB @@gtid_binlog_pos: one "domain-server-seq" per domain; this server writes domain 0.
  const m = /(?:^|,)0-\d+-(\d+)/.exec(pos.trim());
  return m ? Number(m[1]) : 0;
}

interface Measured {
  label: string;
  results: SinkResult[];
  native: Map<number, ReturnType<typeof sysbenchFigures> & { machineBusy: number }>;
}

/** Sink runs (each worker count grouped, then 1 and N workers ungrouped) and native sysbench, against `port`. */
async function measure(t: BenchTarget, port: number, label: string, sourceTx: number, sourceSums: Sums, journal: string, nativeEvents: number): Promise<Measured> {
  const results: SinkResult[] = [];
  // Each worker count with grouping (the default), and 1 and N workers without it
  // ([sink] group_transactions = 1), which shows what parallel workers alone bring.
  const runs = [...workerCounts.map((w) => ({ w, group: 16 })), { w: 1, group: 1 }, { w: N, group: 1 }];
  for (const { w, group } of runs) {
    const name = `replay_${w}_${group}`;
    await cloneTemplate(t, name);
    const cfg = join(work, `sink-${t.dialect}-${w}-${group}.toml`);
    writeFileSync(
      cfg,
      `[transport]\nkind = "journal"\n\n[transport.journal]\ndir = "${journal}"\n\n[target]\n${t.sinkToml(BENCH_DB, port)}\nschema_mapping = { sbtest = "${name}" }\n\n[sink]\nworkers = ${w}\ngroup_transactions = ${group}\n\n[log]\nprogress_seconds = 5\n`,
    );
    say(`\n[${label}] gs-replicate sink --stop-at-end, workers = ${w}, group_transactions = ${group}, into fresh schema ${BENCH_DB}.${name} (progress lines follow)`);
    const r = await spawn([BINARY, "sink", "--config", cfg, "--stop-at-end"], true);
    const tps = sourceTx / r.seconds;
    let equal: boolean | undefined;
    let note = "";
    if (r.code !== 0) {
      note = `sink exited with ${r.code}`;
      say(`  FAILED: ${note} after ${r.seconds.toFixed(2)} s (its stderr is above)`);
      exitCode = 1;
    } else {
      const s = t.sql(BENCH_DB);
      const cmp = compareSums(sourceSums, await postgresSums(s, tableNames, name));
      await s.end();
      equal = cmp.equal;
      if (!cmp.equal) exitCode = 1;
      say(
        `  ${fmt(sourceTx)} transactions in ${r.seconds.toFixed(2)} s wall: ${fmt(tps)} tx/s; peak RSS ${mib(r.maxRss)}, CPU ${r.cpuSeconds.toFixed(1)} s ` +
          `(${((100 * r.cpuSeconds) / r.seconds).toFixed(0)}% of one core); whole machine ${(100 * r.machineBusy).toFixed(0)}% busy`,
      );
      say(`  target vs source: ${cmp.equal ? "EQUAL" : "DIFFERENT"} (${cmp.detail})`);
    }
    results.push({ workers: w, group, ok: r.code === 0, seconds: r.seconds, tps, maxRss: r.maxRss, cpuSeconds: r.cpuSeconds, machineBusy: r.machineBusy, equal, note });
    await dropRun(t, name);
  }
  const native = new Map<number, ReturnType<typeof sysbenchFigures> & { machineBusy: number }>();
  for (const threads of [1, N]) {
    const name = `native_${threads}`;
    await cloneTemplate(t, name);
    await setSearchPath(t, name);
    say(
      `\n[${label}] native: sysbench oltp_write_only --db-driver=pgsql --threads=${threads} --events=${nativeEvents} --time=0 on fresh schema ${BENCH_DB}.${name} (same template)`,
    );
    const r = must(
      await spawn(
        [
          "sysbench",
          "oltp_write_only",
          "--db-driver=pgsql",
          ...t.sysbenchArgs(BENCH_DB, port),
          `--tables=${opt.tables}`,
          `--table-size=${opt.tableSize}`,
          `--threads=${threads}`,
          `--events=${nativeEvents}`,
          "--time=0",
          "run",
        ],
        false,
      ),
      `sysbench run (${t.name}, ${threads} threads)`,
    );
    const f = sysbenchFigures(r.stdout);
    native.set(threads, { ...f, machineBusy: r.machineBusy });
    say(
      `  ${fmt(f.tx)} transactions in ${f.seconds.toFixed(2)} s: ${fmt(f.tps)} tx/s (${f.ignored} ignored errors, retried by sysbench); whole machine ${(100 * r.machineBusy).toFixed(0)}% busy`,
    );
    await dropRun(t, name);
  }
  return { label, results, native };
}

function summary(m: Measured): void {
  const one = m.results.find((r) => r.workers === 1 && r.group === 1)!;
  const many = m.results.find((r) => r.workers === N && r.group === 1)!;
  const best = m.results.filter((r) => r.workers === N).reduce((a, b) => (b.tps > a.tps ? b : a));
  const nat1 = m.native.get(1)!;
  const natN = m.native.get(N)!;
  const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
  const line = (label: string, tps: string, secs: string, rss: string, cpu: string, busy: string, eq: string) =>
    say(`${label.padEnd(28)}${tps.padStart(8)}${secs.padStart(9)}${rss.padStart(10)}${cpu.padStart(10)}${busy.padStart(9)}  ${eq}`);
  say(`\n-- ${m.label}`);
  line("", "tx/s", "seconds", "peak RSS", "sink CPU", "machine", "target = source");
  for (const r of m.results) {
    line(
      `replay, ${r.workers} worker${r.workers === 1 ? "" : "s"}${r.group === 1 ? ", no groups" : ""}`,
      r.ok ? fmt(r.tps) : "FAILED",
      r.seconds.toFixed(2),
      r.maxRss ? mib(r.maxRss) : "-",
      `${r.cpuSeconds.toFixed(1)} s`,
      pct(r.machineBusy),
      r.equal === undefined ? r.note : r.equal ? "yes" : "NO",
    );
  }
  line("native sysbench, 1 thread", fmt(nat1.tps), nat1.seconds.toFixed(2), "", "", pct(nat1.machineBusy), "");
  line(`native sysbench, ${N} threads`, fmt(natN.tps), natN.seconds.toFixed(2), "", "", pct(natN.machineBusy), "");
  const valid = (r: SinkResult) => r.ok && r.equal === true;
  const verdict = (ok: boolean, x: number, target: number) => `${x.toFixed(2)} (target ≥ ${target}: ${ok ? "met" : "NOT met"})`;
  const r1 = many.tps / one.tps;
  const r2 = best.tps / natN.tps;
  say(`replay ${N} workers / replay 1 worker, no groups:  ${valid(one) && valid(many) ? verdict(r1 >= 3, r1, 3) : "n/a (a run failed or diverged)"}`);
  say(`replay ${N} workers (best) / native ${N} threads:    ${valid(best) ? verdict(r2 >= 0.8, r2, 0.8) : "n/a (the run failed or diverged)"}`);
  say(`replay 1 worker / native 1 thread:       ${valid(one) ? (one.tps / nat1.tps).toFixed(2) : "n/a"}`);
  // What the machine itself gives a parallel client: the same ratio for sysbench.
  say(`native ${N} threads / native 1 thread:      ${(natN.tps / nat1.tps).toFixed(2)} (the parallel headroom of this machine and link, for comparison)`);
}

/** Builds and starts bench/support/delay-proxy.c in front of `targetPort`; undefined (said why) without a C compiler. */
async function startDelayProxy(targetPort: number, delayUs: number): Promise<{ port: number; stop: () => void } | undefined> {
  const bin = join(work, "delay-proxy");
  const cc = Bun.spawnSync(["cc", "-O2", "-o", bin, join(import.meta.dir, "support", "delay-proxy.c")], { stderr: "pipe" });
  if (cc.exitCode !== 0) {
    say(`\nno network section: cannot build bench/support/delay-proxy.c (${cc.stderr.toString().trim() || "cc failed"})`);
    return undefined;
  }
  const port = await freePort();
  const p = Bun.spawn([bin, String(port), String(targetPort), String(delayUs)], { stdout: "pipe", stderr: "inherit" });
  const first = await p.stdout.getReader().read();
  if (!new TextDecoder().decode(first.value).startsWith("ready")) throw new Error("delay-proxy did not start");
  return { port, stop: () => p.kill("SIGKILL") };
}

async function setSearchPath(t: BenchTarget, schema: string): Promise<void> {
  const s = t.sql(BENCH_DB);
  try {
    await s.unsafe(`ALTER ROLE ${t.sysbenchUser} SET search_path = ${schema}`);
  } finally {
    await s.end();
  }
}

async function roundTripMs(t: BenchTarget, port: number): Promise<number> {
  const s = t.sql("postgres", port);
  try {
    await s`SELECT 1`;
    const t0 = performance.now();
    for (let i = 0; i < 200; i++) await s`SELECT 1`;
    return (performance.now() - t0) / 200;
  } finally {
    await s.end();
  }
}

// ---------------------------------------------------------------- the bench

const work = mkdtempSync(join(tmpdir(), "gsr-bench-sink-"));
let db: MariaDb | undefined;
let target: BenchTarget | undefined;
let cleaned = false;

async function cleanup(): Promise<void> {
  if (cleaned) return;
  cleaned = true;
  if (current && current.exitCode === null) current.kill("SIGKILL");
  await Promise.allSettled([db?.stop(), target?.stop()]);
  rmSync(work, { recursive: true, force: true });
}

for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    console.error(`\n${sig}: stopping the servers and removing ${work}`);
    void cleanup().finally(() => process.exit(130));
  });
}

interface SinkResult {
  workers: number;
  group: number;
  ok: boolean;
  seconds: number;
  tps: number;
  maxRss: number;
  cpuSeconds: number;
  machineBusy: number;
  equal: boolean | undefined;
  note: string;
}

/** Where the prepared rows wait, on MariaDB, for each target's template (outside the captured database). */
const PREPARED = "sbtest_prepared";

/** Copies the prepared rows from MariaDB into schema sbtest_template of database bench. */
async function loadTemplate(t: BenchTarget, source: MariaDb): Promise<void> {
  const t0 = performance.now();
  await t.createDatabase(BENCH_DB);
  const tpl = t.sql(BENCH_DB);
  const my = await source.connect();
  try {
    await tpl.unsafe(`CREATE SCHEMA ${TEMPLATE}`);
    for (const [i, table] of tableNames.entries()) {
      // The columns sysbench's pgsql driver creates (id is SERIAL there; every insert gives it).
      await tpl.unsafe(
        `CREATE TABLE ${TEMPLATE}.${table} (id integer NOT NULL, k integer DEFAULT 0 NOT NULL, c char(120) DEFAULT '' NOT NULL, pad char(60) DEFAULT '' NOT NULL, PRIMARY KEY (id))`,
      );
      const [rows] = (await my.query(`SELECT id, k, c, pad FROM ${PREPARED}.${table} ORDER BY id`)) as unknown as [Array<{ id: number; k: number; c: string; pad: string }>];
      for (let j = 0; j < rows.length; j += 2000) {
        const chunk = rows.slice(j, j + 2000);
        await tpl`INSERT INTO ${tpl(`${TEMPLATE}.${table}`)} ${tpl(chunk, "id", "k", "c", "pad")}`;
      }
      await tpl.unsafe(`CREATE INDEX k_${i + 1} ON ${TEMPLATE}.${table} (k)`);
      await tpl.unsafe(`VACUUM ANALYZE ${TEMPLATE}.${table}`);
    }
    const copied = compareSums(await mariadbSums(source, tableNames, PREPARED), await postgresSums(tpl, tableNames, TEMPLATE));
    if (!copied.equal) throw new Error(`the copy of the prepared tables differs from MariaDB: ${copied.detail}`);
    say(`copied the prepared rows into ${t.name}, database ${BENCH_DB}, schema ${TEMPLATE}, in ${((performance.now() - t0) / 1000).toFixed(1)} s (${copied.detail})`);
  } finally {
    await my.end();
    await tpl.end();
  }
}

let exitCode = 0;
try {
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: run "make build"`);
  say(
    `sink benchmark: sysbench oltp_write_only, ${opt.tables} tables × ${fmt(opt.tableSize)} rows, ${fmt(opt.events)} transactions generated by ${opt.threads} threads; replay with ${workerCounts.join(", ")} workers; targets ${opt.targets.join(", ")}`,
  );
  const load0 = loadavg()[0]!;
  say(`load average before starting: ${load0.toFixed(2)} (other work on this machine skews every figure below)`);
  say(`starting a throwaway MariaDB (ROW binlog, binlog_row_metadata=FULL, sync_binlog=0, innodb_flush_log_at_trx_commit=0)`);
  db = await startMariadb({ extraArgs: ["--sync-binlog=0", "--innodb-flush-log-at-trx-commit=0", "--innodb-buffer-pool-size=256M", "--max-connections=300"] });
  const mysqlArgs = [`--db-driver=mysql`, `--mysql-host=127.0.0.1`, `--mysql-port=${db.port}`, `--mysql-user=root`, `--mysql-password=`, `--mysql-db=sbtest`];
  const shape = [`--tables=${opt.tables}`, `--table-size=${opt.tableSize}`];

  // 1. prepare on MariaDB, keep a copy of the prepared rows for the targets' templates, position
  const admin = await db.connect();
  await admin.query("CREATE DATABASE sbtest");
  let t0 = performance.now();
  must(await spawn(["sysbench", "oltp_write_only", ...mysqlArgs, ...shape, "--threads=1", "prepare"], false), "sysbench prepare (MariaDB)");
  await admin.query(`CREATE DATABASE ${PREPARED}`);
  for (const table of tableNames) await admin.query(`CREATE TABLE ${PREPARED}.${table} AS SELECT * FROM sbtest.${table}`);
  const [[pos]] = (await admin.query("SHOW MASTER STATUS")) as unknown as [[{ File: string; Position: number }]];
  const [[g0]] = (await admin.query("SELECT @@gtid_binlog_pos AS g")) as unknown as [[{ g: string }]];
  say(`prepared sbtest on MariaDB in ${((performance.now() - t0) / 1000).toFixed(1)} s; binlog position ${pos.File}:${pos.Position} (GTID ${g0.g})`);

  // 2. the history
  const gen = must(
    await spawn(["sysbench", "oltp_write_only", ...mysqlArgs, ...shape, `--threads=${opt.threads}`, `--events=${opt.events}`, "--time=0", "run"], false),
    "sysbench run (MariaDB)",
  );
  const genFig = sysbenchFigures(gen.stdout);
  const [[g1]] = (await admin.query("SELECT @@gtid_binlog_pos AS g")) as unknown as [[{ g: string }]];
  const sourceTx = gtidSeq(g1.g) - gtidSeq(g0.g);
  await admin.end();
  say(
    `generated the history on MariaDB: ${fmt(genFig.tx)} transactions in ${genFig.seconds.toFixed(1)} s (${fmt(genFig.tps)} tx/s, ${genFig.ignored} ignored errors); ${fmt(sourceTx)} transactions in the binlog (GTID ${g0.g} → ${g1.g})`,
  );
  const sourceSums = await mariadbSums(db, tableNames);

  // 3. source → journal
  const journal = join(work, "journal");
  const sourceConfig = join(work, "source.toml");
  writeFileSync(
    sourceConfig,
    `[source]\nport = ${db.port}\nuser = "root"\npassword = ""\ndatabases = ["sbtest"]\nstart = "file:${pos.File}:${pos.Position}"\n\n[transport]\nkind = "journal"\n\n[transport.journal]\ndir = "${journal}"\n\n[log]\nprogress_seconds = 5\n`,
  );
  say(`\ngs-replicate source --stop-at-end (progress lines of the binary follow)`);
  const src = must(await spawn([BINARY, "source", "--config", sourceConfig, "--stop-at-end"], true), "gs-replicate source");
  const totals = [...src.stderr.matchAll(/total ([\d,]+) events, ([\d,]+) tx/g)].at(-1);
  const srcEvents = totals ? Number(totals[1]!.replace(/,/g, "")) : NaN;
  const srcTx = totals ? Number(totals[2]!.replace(/,/g, "")) : NaN;
  say(
    `  source: ${fmt(srcEvents)} events, ${fmt(srcTx)} transactions in ${src.seconds.toFixed(2)} s wall (spawn to exit): ` +
      `${fmt(srcEvents / src.seconds)} events/s, ${fmt(srcTx / src.seconds)} tx/s; peak RSS ${mib(src.maxRss)}, CPU ${src.cpuSeconds.toFixed(1)} s`,
  );
  if (srcTx !== sourceTx) say(`  note: source reports ${srcTx} transactions, the binlog GTIDs say ${sourceTx}`);

  const sections: Measured[] = [];
  const names: string[] = [];
  for (const dialect of opt.targets) {
    say(`\n== ${dialect}: starting a throwaway server (fsync=off)${dialect === "opengauss" ? "; gs_initdb takes a minute or two" : ""}`);
    target = await startBenchTarget(dialect);
    names.push(target.name);
    await loadTemplate(target, db);
    // 4-5. loopback: sink runs, then native
    sections.push(await measure(target, target.port, `${target.name}, loopback`, sourceTx, sourceSums, journal, opt.events));
    // 6. the same through a delaying proxy: the target on another host, as in a migration
    if (opt.delayUs > 0) {
      const proxy = await startDelayProxy(target.port, opt.delayUs);
      if (proxy) {
        try {
          const rttMs = await roundTripMs(target, proxy.port);
          say(`\n== ${target.name} through bench/support/delay-proxy.c: ${opt.delayUs} µs each way, measured round trip of SELECT 1: ${rttMs.toFixed(2)} ms`);
          sections.push(await measure(target, proxy.port, `${target.name}, network (${rttMs.toFixed(2)} ms round trip)`, sourceTx, sourceSums, journal, opt.networkNativeEvents));
        } finally {
          proxy.stop();
        }
      }
    }
    const stopping = target;
    target = undefined;
    await stopping.stop();
  }

  // 7. summary
  say(`\n== sink benchmark: sysbench oltp_write_only history, ${fmt(sourceTx)} transactions (4 row changes each), ${opt.tables} tables × ${fmt(opt.tableSize)} rows`);
  say(`   ${names.join(" and ")}, one at a time, with fsync=off (applies equally to replay and native); ${navigator.hardwareConcurrency} CPUs shared by client and server;`);
  say(`   load average (1 min) ${load0.toFixed(2)} before the bench, ${loadavg()[0]!.toFixed(2)} at the end (this bench alone keeps it near 1-2)`);
  say(`   replay time = spawn to exit of dist/gs-replicate sink; native = sysbench's own figure; "machine" = share of all CPUs busy during the run`);
  for (const m of sections) summary(m);
  say(`source (binlog → journal):               ${fmt(srcEvents / src.seconds)} events/s, ${fmt(srcTx / src.seconds)} tx/s, peak RSS ${mib(src.maxRss)}`);
} catch (err) {
  console.error(`bench/sink.ts failed: ${err instanceof Error ? err.message : String(err)}`);
  exitCode = 1;
} finally {
  await cleanup();
  say(`servers stopped, ${work} removed`);
}
process.exit(exitCode);
