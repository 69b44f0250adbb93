// check --data throughput: `bun run bench/check.ts [--rows 1000000] [--keep]` (--keep: leave the
// servers up for inspection until Ctrl-C).
//
//   1. start a throwaway MariaDB (1 GiB buffer pool, so the table is cached like on a server)
//      and PostgreSQL, and load the same rows on both with SQL generators (no replication
//      involved): BIGINT key, INT, DECIMAL(12,2), DATETIME(6), VARCHAR(120), CHAR(60)
//   2. time a plain full scan of the table on each server, as a client reading every row
//      (SELECT * streamed and discarded) and as the server alone (an aggregate over every
//      column's length), each after one warm-up run
//   3. time `gs-replicate check --data --tables db.t` (the compiled binary, wall clock)
// Prints rows/s and MB/s (MB = the source's InnoDB data length) and the ratio of the check to
// the slower client scan (the target: at most 2×). Figures only; nothing is asserted.
// Client and both servers share this machine's CPUs, which the check keeps busy on both sides
// at once; the load average is printed with the figures.

import { cpus, loadavg } from "node:os";
import mysql from "mysql2";
import { startMariadb, startPostgres } from "../test/support/servers.ts";
import { BINARY, writeConfig } from "../test/support/cli.ts";

function options(argv: string[]): { rows: number; keep: boolean } {
  const o = { rows: 1_000_000, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--keep") o.keep = true;
    else if (a === "--rows") {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 1) throw new Error(`--rows: expected a positive integer`);
      o.rows = n;
    } else throw new Error(`unknown option ${a}; usage: bun run bench/check.ts [--rows N] [--keep]`);
  }
  return o;
}

const fmt = (n: number) => Math.round(n).toLocaleString("en");
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function timed<T>(f: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const v = await f();
  return [performance.now() - t0, v];
}

const opts = options(process.argv.slice(2));
console.log(`bench/check: ${fmt(opts.rows)} rows, ${cpus().length} CPUs`);
const my = await startMariadb({ extraArgs: ["--innodb-buffer-pool-size=1G"] });
const pg = await startPostgres();
try {
  const db = "bench_check";
  const c = await my.connect();
  await c.query(
    `CREATE DATABASE ${db} CHARACTER SET utf8mb4; CREATE TABLE ${db}.t (id BIGINT PRIMARY KEY, k INT NOT NULL, amount DECIMAL(12,2), created DATETIME(6), c VARCHAR(120), pad CHAR(60))`,
  );
  const [load] = await timed(() =>
    c.query(`INSERT INTO ${db}.t SELECT seq, seq % 1000, (seq % 100000) / 100, TIMESTAMPADD(MICROSECOND, seq * 1001, '2024-01-01 00:00:00'),
      CONCAT('row-', seq, '-', MD5(seq)), REPEAT(CHAR(97 + seq % 26), 60) FROM ${db}.seq_1_to_${opts.rows}`),
  );
  await c.query(`ANALYZE TABLE ${db}.t`);
  await pg.createDatabase(db);
  const sql = pg.sql(db);
  await sql.unsafe(
    `CREATE SCHEMA ${db}; CREATE TABLE ${db}.t (id bigint PRIMARY KEY, k integer NOT NULL, amount numeric(12,2), created timestamp(6) without time zone, c character varying(120), pad character(60))`,
  );
  const [pgLoad] = await timed(() =>
    sql.unsafe(`INSERT INTO ${db}.t SELECT i, i % 1000, (i % 100000) / 100.0, timestamp '2024-01-01' + (i * 1001) * interval '1 microsecond',
      'row-' || i || '-' || md5(i::text), repeat(chr(97 + (i % 26)::int), 60) FROM generate_series(1, ${opts.rows}) AS i`),
  );
  await sql.unsafe(`VACUUM ANALYZE ${db}.t`);
  const [[size]] = (await c.query(`SELECT DATA_LENGTH AS bytes FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${db}' AND TABLE_NAME = 't'`)) as unknown as [
    [{ bytes: number }],
  ];
  const mb = Number(size.bytes) / 1e6;
  console.log(`loaded: MariaDB ${secs(load)}, PostgreSQL ${secs(pgLoad)}; source data length ${mb.toFixed(0)} MB`);

  // Plain scans: a client reading every row, and the server alone touching every column.
  const myClient = async () => {
    let n = 0;
    const conn = mysql.createConnection({ host: "127.0.0.1", port: my.port, user: "root", password: "" });
    for await (const _ of conn.query(`SELECT * FROM ${db}.t`).stream()) n++;
    await new Promise((resolve) => conn.end(resolve));
    return n;
  };
  const pgClient = async () => {
    let n = 0;
    for await (const rows of sql.unsafe(`SELECT * FROM ${db}.t`).cursor(10_000)) n += rows.length;
    return n;
  };
  const myServer = () => c.query(`SELECT COUNT(*), SUM(LENGTH(id) + LENGTH(k) + LENGTH(amount) + LENGTH(created) + LENGTH(c) + LENGTH(pad)) FROM ${db}.t`);
  const pgServer = () =>
    sql.unsafe(`SELECT count(*), sum(length(id::text) + length(k::text) + length(amount::text) + length(created::text) + length(c) + length(pad)) FROM ${db}.t`);
  const scans: Record<string, number> = {};
  for (const [name, f] of [
    ["MariaDB client scan", myClient],
    ["PostgreSQL client scan", pgClient],
    ["MariaDB server scan", myServer],
    ["PostgreSQL server scan", pgServer],
  ] as const) {
    await f();
    const [ms] = await timed(f as () => Promise<unknown>);
    scans[name] = ms;
    console.log(`${name.padEnd(24)} ${secs(ms).padStart(9)}  ${fmt(opts.rows / (ms / 1000)).padStart(11)} rows/s  ${(mb / (ms / 1000)).toFixed(1).padStart(7)} MB/s`);
  }
  await c.end();
  await sql.end();

  const cfg = writeConfig(
    `[source]\nport = ${my.port}\nuser = "root"\npassword = ""\ndatabases = ["${db}"]\n[target]\nport = ${pg.port}\nuser = "postgres"\ndatabase = "${db}"\ndialect = "postgresql"\n[log]\nprogress_seconds = 5\n`,
  );
  const run = async () => {
    const proc = Bun.spawn([BINARY, "check", "--config", cfg, "--data", "--tables", `${db}.t`], { stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    if (code !== 0) throw new Error(`check exited ${code}:\n${out}\n${err}`);
    return out;
  };
  const [checkMs, out] = await timed(run);
  console.log(
    `check --data             ${secs(checkMs).padStart(9)}  ${fmt(opts.rows / (checkMs / 1000)).padStart(11)} rows/s  ${(mb / (checkMs / 1000)).toFixed(1).padStart(7)} MB/s   (${out.trim().split("\n")[0]})`,
  );
  const slower = Math.max(scans["MariaDB client scan"]!, scans["PostgreSQL client scan"]!);
  const slowerServer = Math.max(scans["MariaDB server scan"]!, scans["PostgreSQL server scan"]!);
  console.log(`check / slower client scan: ${(checkMs / slower).toFixed(2)}× (target ≤ 2×); check / slower server scan: ${(checkMs / slowerServer).toFixed(2)}×`);
  console.log(
    `load average: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")}`,
  );
  if (opts.keep) {
    console.log(`servers kept for inspection: MariaDB 127.0.0.1:${my.port}, PostgreSQL 127.0.0.1:${pg.port} (database ${db}); Ctrl-C stops them`);
    await new Promise<void>((resolve) => process.once("SIGINT", () => resolve()));
  }
} finally {
  await my.stop();
  await pg.stop();
}
