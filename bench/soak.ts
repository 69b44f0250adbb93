// Soak under faults: `bun run bench/soak.ts [--seconds 150] [--rate 60] [--tables 4]
//                    [--table-size 2000] [--seed N]` (not part of `make test`).
//
//   1. a throwaway MariaDB, PostgreSQL and librdkafka mock broker (in this process); one topic
//   2. `gs-replicate source` and `sink` (Kafka transport) run following from a position taken
//      before `CREATE DATABASE sbtest`, so the sink replicates sysbench's prepare (DDL and rows)
//   3. sysbench oltp_write_only on MariaDB for --seconds at --rate transactions/s, while:
//      source and sink are each killed with -9 at random moments (at least 10 times each) and
//      started again, the target is crash-restarted once (pg_ctl -m immediate), and the broker
//      is taken down once for 15 s
//   4. once sysbench is done, source and sink catch up; then every table is compared on both
//      sides (row count and md5 of the rows in id order), and source and sink stop on SIGTERM
// Prints the faults injected and the rows compared; exits 1 if anything differs or a process
// stopped by itself. The mock keeps 5 MiB per partition: --rate is modest so that a sink
// killed repeatedly never falls that far behind (that would be SINK_LOG_GAP, by design).

import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import type postgres from "postgres";
import { BINARY } from "../test/support/cli.ts";
import { startKafkaMock, type KafkaMock } from "../test/support/kafka-mock.ts";
import { startMariadb, startPostgres, type MariaDb, type Postgres } from "../test/support/servers.ts";
import { crashRestart } from "../test/faults/support.ts";
import { differences, mariadbSums, postgresSums, type Sums } from "./support/sbtest.ts";

// ---------------------------------------------------------------- options

interface Options {
  seconds: number;
  rate: number;
  tables: number;
  tableSize: number;
  seed: number;
}

function options(argv: string[]): Options {
  const o: Options = { seconds: 150, rate: 60, tables: 4, tableSize: 2_000, seed: Date.now() % 1_000_000 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const v = Number(argv[++i]);
    if (!Number.isInteger(v) || v < 1) usage(`${flag}: expected a positive integer`);
    if (flag === "--seconds") o.seconds = v;
    else if (flag === "--rate") o.rate = v;
    else if (flag === "--tables") o.tables = v;
    else if (flag === "--table-size") o.tableSize = v;
    else if (flag === "--seed") o.seed = v;
    else usage(`unknown flag ${flag}`);
  }
  if (o.seconds < 120) usage("--seconds: at least 120 (the soak runs for at least 2 minutes)");
  return o;
}

function usage(message: string): never {
  console.error(`bench/soak.ts: ${message}\nusage: bun run bench/soak.ts [--seconds 150] [--rate 60] [--tables 4] [--table-size 2000] [--seed N]`);
  process.exit(2);
}

const opt = options(process.argv.slice(2));
const tables = Array.from({ length: opt.tables }, (_, i) => `sbtest${i + 1}`);
const say = (s: string) => console.log(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${s}`);
const fmt = (n: number) => n.toLocaleString("en");
const t0 = performance.now();

/** A small seeded generator (Park–Miller), so a run can be repeated with --seed. */
let seed = opt.seed;
function random(): number {
  seed = (seed * 48271) % 2147483647;
  return seed / 2147483647;
}

// ---------------------------------------------------------------- supervised processes

/** A gs-replicate command kept running: restarted after each kill, its stderr appended to a file. */
class Supervised {
  private proc: Subprocess | undefined;
  private killing = false;
  private stopping = false;
  kills = 0;
  starts = 0;
  readonly unexpected: string[] = [];
  private loop: Promise<void> | undefined;

  constructor(
    readonly what: "source" | "sink",
    private readonly config: string,
    private readonly logPath: string,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      const fd = openSync(this.logPath, "a");
      const logStart = existsSync(this.logPath) ? readFileSync(this.logPath).length : 0;
      this.proc = Bun.spawn([BINARY, this.what, "--config", this.config], { stdin: "ignore", stdout: "ignore", stderr: fd, env: { ...process.env, NO_COLOR: "1" } });
      closeSync(fd);
      this.starts++;
      const code = await this.proc.exited;
      if (this.killing) {
        this.killing = false;
      } else if (!this.stopping || code !== 0) {
        const tail = readFileSync(this.logPath, "utf8").slice(logStart);
        const line = tail.split("\n").find((l) => l.includes("ERROR")) ?? `exit ${code}`;
        this.unexpected.push(line);
        say(`${this.what} stopped by itself (exit ${code}): ${line}`);
      }
      if (!this.stopping) await Bun.sleep(300 + random() * 700);
    }
  }

  /** kill -9 now (if it runs); the loop starts it again. */
  kill9(): boolean {
    const p = this.proc;
    if (!p || p.exitCode !== null || this.killing) return false;
    this.killing = true;
    p.kill("SIGKILL");
    this.kills++;
    return true;
  }

  /** SIGTERM and wait: a clean stop exits 0. */
  async stop(): Promise<void> {
    this.stopping = true;
    const p = this.proc;
    if (p && p.exitCode === null) p.kill("SIGTERM");
    await this.loop;
  }
}

// ---------------------------------------------------------------- comparison

/** The target's sums, or null while it is not replicated yet or restarting. */
async function targetSums(sql: postgres.Sql): Promise<Sums | null> {
  try {
    return await postgresSums(sql, tables);
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------- the soak

const work = mkdtempSync(join(tmpdir(), "gsr-soak-"));
let db: MariaDb | undefined;
let pg: Postgres | undefined;
let kafka: KafkaMock | undefined;
const procs: Supervised[] = [];

async function cleanup(): Promise<void> {
  await Promise.allSettled(procs.map((p) => p.stop()));
  kafka?.brokerUp();
  await Promise.allSettled([db?.stop(), pg?.stop()]);
  kafka?.stop();
}

for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    console.error(`\n${sig}: stopping everything; logs stay in ${work}`);
    void cleanup().finally(() => process.exit(130));
  });
}

let exitCode = 0;
try {
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: run "make build"`);
  say(
    `soak: sysbench oltp_write_only for ${opt.seconds} s at ${opt.rate} tx/s on ${opt.tables} tables × ${fmt(opt.tableSize)} rows, Kafka transport, seed ${opt.seed}; logs in ${work}`,
  );
  [db, pg] = await Promise.all([startMariadb({ extraArgs: ["--sync-binlog=0", "--innodb-flush-log-at-trx-commit=2", "--max-connections=300"] }), startPostgres()]);
  kafka = startKafkaMock();
  const topic = "soak_cdc";
  kafka.createTopic(topic, 1);
  await pg.createDatabase("soak");
  const admin = await db.connect();
  const [[pos]] = (await admin.query("SHOW MASTER STATUS")) as unknown as [[{ File: string; Position: number }]];
  const config = join(work, "gs-replicate.toml");
  writeFileSync(
    config,
    `[source]\nport = ${db.port}\nuser = "root"\npassword = ""\ndatabases = ["sbtest"]\nstart = "file:${pos.File}:${pos.Position}"\nheartbeat_seconds = 2\n\n` +
      `[transport]\nkind = "kafka"\n\n[transport.kafka]\nbrokers = ["${kafka.bootstrap}"]\ntopic = "${topic}"\n\n` +
      `[target]\nport = ${pg.port}\nuser = "postgres"\ndatabase = "soak"\ndialect = "postgresql"\n\n[sink]\nworkers = 8\n\n[log]\nprogress_seconds = 5\n`,
  );
  const source = new Supervised("source", config, join(work, "source.log"));
  const sink = new Supervised("sink", config, join(work, "sink.log"));
  procs.push(source, sink);
  source.start();
  sink.start();

  // sysbench prepare: replicated by the sink (CREATE DATABASE, CREATE TABLE, the rows, CREATE INDEX).
  await admin.query("CREATE DATABASE sbtest");
  const mysqlArgs = ["--db-driver=mysql", "--mysql-host=127.0.0.1", `--mysql-port=${db.port}`, "--mysql-user=root", "--mysql-password=", "--mysql-db=sbtest"];
  const shape = [`--tables=${opt.tables}`, `--table-size=${opt.tableSize}`];
  const prep = Bun.spawnSync(["sysbench", "oltp_write_only", ...mysqlArgs, ...shape, "--threads=1", "prepare"], { stdout: "pipe", stderr: "pipe" });
  if (prep.exitCode !== 0) throw new Error(`sysbench prepare failed: ${prep.stderr.toString()}${prep.stdout.toString()}`);
  say(`sysbench prepare done on MariaDB (${opt.tables} tables); source and sink are running`);

  // The load, and the faults at random moments during it.
  const bench = Bun.spawn(["sysbench", "oltp_write_only", ...mysqlArgs, ...shape, "--threads=4", `--rate=${opt.rate}`, `--time=${opt.seconds}`, "--report-interval=30", "run"], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const benchOut = new Response(bench.stdout).text();
  const loadStart = performance.now();
  const elapsed = () => (performance.now() - loadStart) / 1000;
  const faults = { sourceKills: 0, sinkKills: 0, targetRestarts: 0, brokerOutages: 0 };
  const end = opt.seconds - 5;
  // Kill times: at least 10 per process, spread over the run with random gaps.
  const schedule = (n: number) => {
    const slot = (end - 5) / n;
    return Array.from({ length: n }, (_, i) => 5 + i * slot + random() * slot * 0.8);
  };
  type Fault = { at: number; run: () => Promise<void> };
  const kill = (p: Supervised): void => {
    if (!p.kill9()) return; // between a kill and its restart
    if (p.what === "source") faults.sourceKills++;
    else faults.sinkKills++;
    say(`kill -9 ${p.what} (#${p.kills})`);
  };
  const plan: Fault[] = [
    ...schedule(12).map((at) => ({ at, run: async () => kill(source) })),
    ...schedule(12).map((at) => ({ at, run: async () => kill(sink) })),
    {
      at: end * (0.3 + random() * 0.15),
      run: async () => {
        say("target: crash restart (pg_ctl restart -m immediate)");
        await crashRestart(pg!);
        faults.targetRestarts++;
        say("target: back");
      },
    },
    {
      at: end * (0.6 + random() * 0.15),
      run: async () => {
        say("Kafka broker down for 15 s");
        kafka!.brokerDown();
        faults.brokerOutages++;
        await Bun.sleep(15_000);
        kafka!.brokerUp();
        say("Kafka broker up");
      },
    },
  ].sort((a, b) => a.at - b.at);
  const running: Promise<void>[] = [];
  for (const f of plan) {
    const wait = f.at - elapsed();
    if (wait > 0) await Bun.sleep(wait * 1000);
    running.push(f.run());
  }
  await Promise.all(running);
  const benchCode = await bench.exited;
  const out = await benchOut;
  if (benchCode !== 0) throw new Error(`sysbench run exited ${benchCode}: ${await new Response(bench.stderr).text()}${out}`);
  const tx = /transactions:\s+(\d+)\s+\(([\d.]+) per sec\.\)/.exec(out);
  say(`sysbench done: ${tx ? `${fmt(Number(tx[1]))} transactions (${tx[2]} per sec.)` : "no transaction count in its report"} in ${elapsed().toFixed(0)} s`);

  // Catch up, then compare.
  const sourceSums = await mariadbSums(db, tables);
  const target = pg.sql("soak");
  let diff: string[] = [];
  const deadline = Date.now() + 300_000;
  for (;;) {
    diff = differences(sourceSums, await targetSums(target));
    if (diff.length === 0 || Date.now() > deadline) break;
    await Bun.sleep(2_000);
  }
  say(diff.length === 0 ? "the target caught up" : "the target did not catch up within 5 minutes");
  await source.stop();
  await sink.stop();
  await target.end();
  await admin.end();

  const rows = [...sourceSums.values()].reduce((s, x) => s + x.rows, 0);
  const count = (file: string, re: RegExp) => (readFileSync(join(work, file), "utf8").match(re) ?? []).length;
  console.log("\nsoak summary");
  console.log(`  load:      sysbench oltp_write_only, ${opt.seconds} s at ${opt.rate} tx/s, ${tx ? fmt(Number(tx[1])) : "?"} transactions`);
  console.log(
    `  faults:    source kill -9 ×${faults.sourceKills}, sink kill -9 ×${faults.sinkKills}, target crash restart ×${faults.targetRestarts}, broker outage ×${faults.brokerOutages} (15 s)`,
  );
  console.log(`  restarts:  source started ${source.starts} times, sink ${sink.starts} times`);
  console.log(
    `  recovery:  source reconnected to MariaDB ${count("source.log", /reconnecting in \d+ ms/g)}×, restarted its pipeline ${count("source.log", /restarting from the log's tail/g)}×, ` +
      `closed ${count("source.log", /closing it with an Abort record/g)} fragments of killed runs; sink retried ${count("sink.log", /retrying the whole transaction|retrying the DDL transaction/g)} transactions ` +
      `and ${count("sink.log", /the target is unreachable/g)} checkpoint statements, read the log again ${count("sink.log", /reading again from offset/g)}×`,
  );
  console.log(`  unexpected stops: source ${source.unexpected.length}, sink ${sink.unexpected.length}`);
  for (const l of [...source.unexpected, ...sink.unexpected]) console.log(`    ${l}`);
  console.log(`  compared:  ${tables.length} tables, ${fmt(rows)} rows (count and md5 of the rows in id order on both sides)`);
  console.log(`  result:    ${diff.length === 0 ? "EQUAL, row for row" : `DIFFERENT:\n    ${diff.join("\n    ")}`}`);
  if (diff.length > 0 || source.unexpected.length + sink.unexpected.length > 0 || faults.sourceKills < 10 || faults.sinkKills < 10) exitCode = 1;
} catch (err) {
  console.error(`soak failed: ${err instanceof Error ? err.stack : String(err)}`);
  exitCode = 1;
} finally {
  await cleanup();
  if (exitCode === 0) rmSync(work, { recursive: true, force: true });
  else console.log(`logs kept in ${work}`);
}
process.exit(exitCode);
