// `make demo`: the whole job end to end on throwaway local servers.
//   1. start a private MariaDB (binlog on) and the target: a real openGauss 7.0 by default
//      (started by shared/opengauss/opengauss.sh; the database is created with
//      DBCOMPATIBILITY 'PG', since openGauss's default A compatibility stores '' as NULL), or
//      PostgreSQL 15 with `make demo TARGET=postgresql` (`bun run bench/demo.ts --target postgresql`)
//   2. create a sample database with data on the source only (the target is empty)
//   3. start a mixed insert/update/delete workload on MariaDB from several sessions, and while
//      it writes run `gs-replicate copy` (target schema, consistent copy, hand-over in the log)
//   4. run `gs-replicate source` and `gs-replicate sink` through the journal (progress shown),
//      the workload still writing; then stop it and let both catch up (--stop-at-end)
//   5. run `gs-replicate check --data`, and compare source and target row by row independently
//      of it, print a summary, stop and remove everything: a whole online migration
// GSR_SHARED names the folder holding opengauss/opengauss.sh when it is not ../shared beside
// the repository; GSR_OPENGAUSS_DIR reuses an openGauss already started there (left running).

import { consola } from "consola";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getTarget, startMariadb, type MariaDb, type Target, type TargetDialect } from "../test/support/servers.ts";
import { BINARY, writeConfig } from "../test/support/cli.ts";

function targetOption(argv: string[]): TargetDialect {
  const usage = "usage: bun run bench/demo.ts [--target opengauss|postgresql]   (make demo [TARGET=postgresql])";
  let want = "opengauss";
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--target") want = argv[++i] ?? "";
    else if (a.startsWith("--target=")) want = a.slice("--target=".length);
    else if (a === "--help" || a === "-h") {
      console.log(usage);
      process.exit(0);
    } else {
      console.error(`bench/demo.ts: unknown argument ${a}\n${usage}`);
      process.exit(2);
    }
  }
  if (want !== "opengauss" && want !== "postgresql") {
    console.error(`bench/demo.ts: --target must be opengauss or postgresql, found "${want}"\n${usage}`);
    process.exit(2);
  }
  return want;
}

const dialect = targetOption(process.argv.slice(2));
const targetName = dialect === "opengauss" ? "openGauss" : "PostgreSQL";
const log = consola.withTag("demo");
const work = mkdtempSync(join(tmpdir(), "gsr-demo-"));
log.start(`starting throwaway MariaDB (binlog on) and ${targetName}${dialect === "opengauss" ? " (gs_initdb takes about a minute)" : ""}`);
let db: MariaDb | undefined;
let target: Target | undefined;
const started = await Promise.allSettled([startMariadb(), getTarget(dialect)]);
if (started[0].status === "fulfilled") db = started[0].value;
if (started[1].status === "fulfilled") target = started[1].value;
if (!db || !target) {
  const why = started.flatMap((r) => (r.status === "rejected" ? [r.reason instanceof Error ? r.reason.message : String(r.reason)] : []));
  log.error(`could not start the servers:\n${why.join("\n")}`);
  if (dialect === "opengauss") log.info("the demo on PostgreSQL instead: make demo TARGET=postgresql");
  await Promise.allSettled([db?.stop(), target?.stop()]);
  rmSync(work, { recursive: true, force: true });
  process.exit(1);
}
const DATABASE = "shop";

const TABLES = {
  customers: {
    mysql: "id INT PRIMARY KEY, name VARCHAR(100) NOT NULL, email VARCHAR(120), balance DECIMAL(12,2) NOT NULL DEFAULT 0, updated DATETIME(6)",
    target: "id int PRIMARY KEY, name varchar(100) NOT NULL, email varchar(120), balance numeric(12,2) NOT NULL DEFAULT 0, updated timestamp(6)",
    cmpMysql: "id, name, email, CAST(balance AS CHAR) AS balance, DATE_FORMAT(updated, '%Y-%m-%d %H:%i:%s.%f') AS updated",
    // numeric::text on openGauss drops the leading zero (.99); to_char spells it on both dialects.
    cmpTarget: "id, name, email, to_char(balance, 'FM9999999990.00') AS balance, to_char(updated, 'YYYY-MM-DD HH24:MI:SS.US') AS updated",
  },
  orders: {
    mysql: "id BIGINT PRIMARY KEY, customer_id INT NOT NULL, total DECIMAL(12,2), status ENUM('new','paid','shipped'), note TEXT",
    target: "id bigint PRIMARY KEY, customer_id int NOT NULL, total numeric(12,2), status text, note text",
    cmpMysql: "id, customer_id, CAST(total AS CHAR) AS total, status, note",
    cmpTarget: "id, customer_id, to_char(total, 'FM9999999990.00') AS total, status, note",
  },
} as const;

try {
  const admin = await db.connect();
  await admin.query("CREATE DATABASE shop");
  for (const [t, d] of Object.entries(TABLES)) await admin.query(`CREATE TABLE shop.${t} (${d.mysql})`);
  await admin.query("ALTER TABLE shop.orders ADD KEY by_customer (customer_id)");
  // Existing data, on the source only: what `copy` has to bring over.
  for (let id = 1; id <= 200; id++) await admin.query("INSERT INTO shop.customers VALUES (?, ?, ?, 0, NOW(6))", [id, `customer ${id}`, `c${id}@example.com`]);
  await admin.query(
    "INSERT INTO shop.orders SELECT seq, 1 + seq % 200, (seq % 97) + 0.99, ELT(1 + seq % 3, 'new', 'paid', 'shipped'), CONCAT('order ', seq) FROM shop.seq_1_to_20000",
  );
  await admin.end();
  await target.createDatabase(DATABASE);
  log.success(`sample database created on MariaDB: shop.customers (200 rows), shop.orders (20,000 rows); ${targetName} database ${DATABASE} is empty`);

  const config = writeConfig(`
[source]
port = ${db.port}
user = "root"
password = ""
databases = ["shop"]

[transport]
kind = "journal"

[transport.journal]
dir = "${join(work, "journal")}"

[target]
${target.targetToml(DATABASE)}

[copy]
parallel = 4
chunk_rows = 5000

[sink]
workers = 4

[log]
progress_seconds = 1
`);

  log.start("starting a mixed workload on MariaDB: 4 sessions, inserts, updates, deletes, multi-statement transactions");
  let writing = true;
  let orderId = 100_000;
  const sessions = await Promise.all([0, 1, 2, 3].map(() => db.connect()));
  const workload = Promise.all(
    sessions.map(async (c, s) => {
      for (let i = 0; writing || i < 100; i++) {
        const cust = 1 + ((i * 4 + s) % 250);
        await c.query("INSERT INTO shop.customers VALUES (?, ?, ?, 0, NOW(6)) ON DUPLICATE KEY UPDATE updated = NOW(6)", [cust, `customer ${cust}`, `c${cust}@example.com`]);
        const id = ++orderId;
        await c.query("BEGIN");
        await c.query("INSERT INTO shop.orders VALUES (?, ?, ?, 'new', ?)", [id, cust, ((i % 97) + 0.99).toFixed(2), `order ${id}`]);
        await c.query("UPDATE shop.customers SET balance = balance + ? WHERE id = ?", [((i % 97) + 0.99).toFixed(2), cust]);
        await c.query("COMMIT");
        if (i % 3 === 0) await c.query("UPDATE shop.orders SET status = 'paid' WHERE id = ?", [1 + ((i * 37 + s) % 20_000)]);
        if (i % 11 === 0) await c.query("DELETE FROM shop.orders WHERE id = ?", [1 + ((i * 53 + s) % 20_000)]);
      }
    }),
  );

  const run = async (args: string[]) => {
    log.start(`gs-replicate ${args.join(" ")}`);
    const p = Bun.spawn([BINARY, ...args], { stdout: "inherit", stderr: "inherit" });
    const code = await p.exited;
    if (code !== 0) throw new Error(`gs-replicate ${args[0]} exited with ${code}`);
  };
  await run(["copy", "--config", config]);
  log.info("the workload is still writing: source and sink carry what it writes from the copy's hand-over on");
  const following = ["source", "sink"].map((cmd) => Bun.spawn([BINARY, cmd, "--config", config], { stdout: "inherit", stderr: "inherit" }));
  await Bun.sleep(3000);
  writing = false;
  await workload;
  await Promise.all(sessions.map((c) => c.end()));
  log.success(`workload stopped: orders up to id ${orderId}`);
  for (const p of following) p.kill("SIGTERM");
  for (const p of following) if ((await p.exited) !== 0) throw new Error("a following gs-replicate process did not stop cleanly");
  for (const cmd of ["source", "sink"]) await run([cmd, "--config", config, "--stop-at-end"]);

  log.start(`gs-replicate check --config ${config} --data`);
  const check = Bun.spawn([BINARY, "check", "--config", config, "--data"], { stdout: "inherit", stderr: "inherit" });
  // The independent comparison still runs after a failed check, to tell a replication fault
  // (both see differences) from a fault of the check itself (only it does).
  const checkCode = await check.exited;

  log.start("and, independently of gs-replicate, comparing source and target row by row");
  const c = await db.connect();
  const sql = target.sql(DATABASE);
  let rows = 0;
  let diffs = 0;
  for (const [t, d] of Object.entries(TABLES)) {
    const [src] = (await c.query(`SELECT ${d.cmpMysql} FROM shop.${t} ORDER BY id`)) as unknown as [Array<Record<string, unknown>>];
    const dst = await sql.unsafe(`SELECT ${d.cmpTarget} FROM shop.${t} ORDER BY id`);
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
  if (diffs > 0) throw new Error(`${diffs} rows differ between MariaDB and ${targetName}`);
  if (checkCode !== 0) throw new Error(`gs-replicate check --data exited with ${checkCode}, yet the independent comparison found all ${rows} rows equal`);
  log.success(`summary: ${rows} rows compared, MariaDB and ${targetName} are equal`);
} catch (err) {
  log.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
} finally {
  // A server reused through GSR_OPENGAUSS_DIR outlives the demo: leave it as it was found.
  const admin = target.sql();
  await admin.unsafe(`DROP DATABASE IF EXISTS ${DATABASE}`).catch(() => {});
  await admin.end();
  await Promise.allSettled([db.stop(), target.stop()]);
  rmSync(work, { recursive: true, force: true });
  log.success("throwaway servers stopped and removed");
}
