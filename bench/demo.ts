// `make demo`: the whole job end to end on throwaway local servers.
//   1. start a private MariaDB (binlog on) and PostgreSQL (the openGauss stand-in)
//   2. create the sample schema on both, as the full-copy step of a migration would have
//   3. run a mixed insert/update/delete workload on MariaDB from several sessions
//   4. run `gs-replicate source` and `gs-replicate sink` through the journal (progress shown)
//   5. run `gs-replicate check --data`, and compare source and target row by row independently
//      of it, print a summary, stop and remove everything

import { consola } from "consola";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startMariadb, startPostgres } from "../test/support/servers.ts";
import { BINARY, writeConfig } from "../test/support/cli.ts";

const log = consola.withTag("demo");
const work = mkdtempSync(join(tmpdir(), "gsr-demo-"));
log.start("starting throwaway MariaDB (binlog on) and PostgreSQL (openGauss stand-in)");
const [db, pg] = await Promise.all([startMariadb(), startPostgres()]);

const TABLES = {
  customers: {
    mysql: "id INT PRIMARY KEY, name VARCHAR(100) NOT NULL, email VARCHAR(120), balance DECIMAL(12,2) NOT NULL DEFAULT 0, updated DATETIME(6)",
    pg: "id int PRIMARY KEY, name varchar(100) NOT NULL, email varchar(120), balance numeric(12,2) NOT NULL DEFAULT 0, updated timestamp(6)",
    cmpMysql: "id, name, email, CAST(balance AS CHAR), DATE_FORMAT(updated, '%Y-%m-%d %H:%i:%s.%f')",
    cmpPg: "id, name, email, balance::text, to_char(updated, 'YYYY-MM-DD HH24:MI:SS.US')",
  },
  orders: {
    mysql: "id BIGINT PRIMARY KEY, customer_id INT NOT NULL, total DECIMAL(12,2), status ENUM('new','paid','shipped'), note TEXT",
    pg: "id bigint PRIMARY KEY, customer_id int NOT NULL, total numeric(12,2), status text, note text",
    cmpMysql: "id, customer_id, CAST(total AS CHAR), status, note",
    cmpPg: "id, customer_id, total::text, status, note",
  },
} as const;

try {
  const admin = await db.connect();
  await admin.query("CREATE DATABASE shop");
  for (const [t, d] of Object.entries(TABLES)) await admin.query(`CREATE TABLE shop.${t} (${d.mysql})`);
  const [[pos]] = (await admin.query("SHOW MASTER STATUS")) as unknown as [[{ File: string; Position: number }]];
  const target = pg.sql();
  await target.unsafe("CREATE SCHEMA shop");
  for (const [t, d] of Object.entries(TABLES)) await target.unsafe(`CREATE TABLE shop.${t} (${d.pg})`);
  await target.end();
  log.success("sample schema created on both sides");

  log.start("running a mixed workload: 4 sessions, inserts, updates, deletes, multi-statement transactions");
  const sessions = await Promise.all([0, 1, 2, 3].map(() => db.connect()));
  let orderId = 0;
  await Promise.all(
    sessions.map(async (c, s) => {
      for (let i = 0; i < 250; i++) {
        const cust = 1 + ((i * 4 + s) % 200);
        await c.query("INSERT INTO shop.customers VALUES (?, ?, ?, 0, NOW(6)) ON DUPLICATE KEY UPDATE updated = NOW(6)", [cust, `customer ${cust}`, `c${cust}@example.com`]);
        const id = ++orderId;
        await c.query("BEGIN");
        await c.query("INSERT INTO shop.orders VALUES (?, ?, ?, 'new', ?)", [id, cust, ((i % 97) + 0.99).toFixed(2), `order ${id}`]);
        await c.query("UPDATE shop.customers SET balance = balance + ? WHERE id = ?", [((i % 97) + 0.99).toFixed(2), cust]);
        await c.query("COMMIT");
        if (i % 3 === 0) await c.query("UPDATE shop.orders SET status = 'paid' WHERE id = ?", [id]);
        if (i % 11 === 0) await c.query("DELETE FROM shop.orders WHERE id = ?", [id]);
      }
    }),
  );
  await Promise.all(sessions.map((c) => c.end()));
  await admin.end();
  log.success(`workload done: ${orderId} orders`);

  const config = writeConfig(`
[source]
port = ${db.port}
user = "root"
password = ""
databases = ["shop"]
start = "file:${pos.File}:${pos.Position}"

[transport]
kind = "journal"

[transport.journal]
dir = "${join(work, "journal")}"

[target]
port = ${pg.port}
user = "postgres"
database = "postgres"
dialect = "postgresql"

[sink]
workers = 4

[log]
progress_seconds = 1
`);
  for (const cmd of ["source", "sink"]) {
    log.start(`gs-replicate ${cmd} --config ${config} --stop-at-end`);
    const p = Bun.spawn([BINARY, cmd, "--config", config, "--stop-at-end"], { stdout: "inherit", stderr: "inherit" });
    const code = await p.exited;
    if (code !== 0) throw new Error(`gs-replicate ${cmd} exited with ${code}`);
  }

  log.start(`gs-replicate check --config ${config} --data`);
  const check = Bun.spawn([BINARY, "check", "--config", config, "--data"], { stdout: "inherit", stderr: "inherit" });
  const checkCode = await check.exited;
  if (checkCode !== 0) throw new Error(`gs-replicate check --data exited with ${checkCode}`);

  log.start("and, independently of gs-replicate, comparing source and target row by row");
  const c = await db.connect();
  const sql = pg.sql();
  let rows = 0;
  let diffs = 0;
  for (const [t, d] of Object.entries(TABLES)) {
    const [src] = (await c.query(`SELECT ${d.cmpMysql} FROM shop.${t} ORDER BY id`)) as unknown as [Array<Record<string, unknown>>];
    const dst = await sql.unsafe(`SELECT ${d.cmpPg} FROM shop.${t} ORDER BY id`);
    const text = (r: Record<string, unknown>) => JSON.stringify(Object.values(r).map((v) => (v === null ? null : String(v))));
    const a = src.map(text);
    const b = [...dst].map(text);
    const bad = a.filter((x, i) => x !== b[i]).length + Math.abs(a.length - b.length);
    rows += a.length;
    diffs += bad;
    log.info(`shop.${t}: ${a.length} rows on the source, ${b.length} on the target, ${bad} different`);
  }
  await c.end();
  await sql.end();
  if (diffs > 0) throw new Error(`${diffs} rows differ`);
  log.success(`summary: ${rows} rows compared, source and target are equal`);
} finally {
  await Promise.allSettled([db.stop(), pg.stop()]);
  rmSync(work, { recursive: true, force: true });
  log.success("throwaway servers stopped and removed");
}
