// `make demo`: the whole job end to end on throwaway local servers.
// Today it runs the parts that exist (servers, sample schema and workload, configuration
// validation by the real binary) and says plainly which steps are not built yet.

import { consola } from "consola";
import { startMariadb, startPostgres } from "../test/support/servers.ts";
import { runCli, writeConfig } from "../test/support/cli.ts";

const log = consola.withTag("demo");
log.start("starting throwaway MariaDB (binlog on) and PostgreSQL (openGauss stand-in)");
const [db, pg] = await Promise.all([startMariadb(), startPostgres()]);
try {
  const c = await db.connect();
  await c.query(`CREATE DATABASE shop;
    CREATE TABLE shop.customers (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(100) NOT NULL, balance DECIMAL(12,2) NOT NULL DEFAULT 0);
    CREATE TABLE shop.orders (id BIGINT PRIMARY KEY AUTO_INCREMENT, customer_id INT NOT NULL, total DECIMAL(12,2), created DATETIME(6));`);
  for (let i = 0; i < 200; i++) {
    await c.query("INSERT INTO shop.customers (name, balance) VALUES (?, ?)", [`customer ${i}`, (i * 7.25).toFixed(2)]);
    await c.query("INSERT INTO shop.orders (customer_id, total, created) VALUES (?, ?, NOW(6))", [1 + (i % 50), (i * 3.5).toFixed(2)]);
    if (i % 3 === 0) await c.query("UPDATE shop.customers SET balance = balance + 1 WHERE id = ?", [1 + (i % 50)]);
    if (i % 10 === 9) await c.query("DELETE FROM shop.orders WHERE id = ?", [i - 5]);
  }
  const [[status]] = (await c.query("SHOW MASTER STATUS")) as unknown as [[{ File: string; Position: number }]];
  await c.end();
  log.success(`sample workload written: binlog at ${status.File}:${status.Position}`);

  const config = writeConfig(`
[source]
host = "127.0.0.1"
port = ${db.port}
user = "root"
password = ""
databases = ["shop"]
start = "file:binlog.000001:4"

[transport]
kind = "journal"

[transport.journal]
dir = "/tmp/gs-replicate-demo-journal"

[target]
host = "127.0.0.1"
port = ${pg.port}
user = "postgres"
database = "postgres"
dialect = "postgresql"
`);
  for (const cmd of ["source", "sink"]) {
    const r = await runCli([cmd, "--config", config, "--stop-at-end"]);
    log.info(`gs-replicate ${cmd}: exit ${r.code}: ${r.stderr.trim()}`);
  }
  log.warn("source, sink and check are not built yet (issues 3-7): the demo stops after the workload and configuration steps");
} finally {
  await Promise.allSettled([db.stop(), pg.stop()]);
  log.success("throwaway servers stopped and removed");
}
