// `gs-replicate copy` end to end (issue 16): a database with existing data (sysbench tables split
// into chunks, foreign keys, a table without a primary key, several types, a view and a
// trigger) copied while sysbench and a second writer change it, then `source` and `sink` from
// the hand-over the copy left in the log: the target equals the source (`check --data`, and
// sysbench's tables compared independently), nothing made during the copy lost or doubled.
// Then kill -9 of `copy` at several points, and a rerun that finishes it.
import { describe, expect, test } from "bun:test";
import type { Subprocess } from "bun";
import { runCli, writeConfig } from "../support/cli.ts";
import { journalTransport } from "../support/pipeline.ts";
import { getMariadb, getTarget, TARGETS, uniqueName, type MariaDb, type Target } from "../support/servers.ts";
import { differences, mariadbSums, postgresSums } from "../../bench/support/sbtest.ts";
import { spawnCli, until } from "../faults/support.ts";
import { COLUMNS, ROWS } from "../support/every-type.ts";

const SB_TABLES = ["sbtest1", "sbtest2"];

function sysbenchArgs(db: MariaDb, name: string): string[] {
  return [
    "--db-driver=mysql",
    "--mysql-host=127.0.0.1",
    `--mysql-port=${db.port}`,
    "--mysql-user=root",
    "--mysql-password=",
    `--mysql-db=${name}`,
    "--tables=2",
    "--table-size=20000",
  ];
}

async function prepare(db: MariaDb, name: string): Promise<void> {
  const c = await db.connect();
  await c.query(`CREATE DATABASE ${name}`);
  await c.end();
  const r = Bun.spawnSync(["sysbench", "oltp_write_only", ...sysbenchArgs(db, name), "--threads=1", "prepare"], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`sysbench prepare: ${r.stderr.toString()}`);
  const a = await db.connect();
  await a.query(`
    CREATE TABLE ${name}.parent (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL, UNIQUE KEY uname (name)) ENGINE=InnoDB;
    CREATE TABLE ${name}.child (id BIGINT AUTO_INCREMENT PRIMARY KEY, parent_id INT NOT NULL, note TEXT, created DATETIME(3),
      KEY kp (parent_id), CONSTRAINT fk_parent FOREIGN KEY (parent_id) REFERENCES ${name}.parent (id) ON DELETE CASCADE) ENGINE=InnoDB;
    CREATE TABLE ${name}.nokey (a INT, b VARCHAR(20)) ENGINE=InnoDB;
    CREATE TABLE ${name}.kinds (id INT PRIMARY KEY, e ENUM('x','y',''), s SET('a','b'), j JSON, bl BLOB, d DECIMAL(10,3), f FLOAT, dbl DOUBLE,
      bt BIT(5), dt DATE, ts TIMESTAMP(6) NULL, tm TIME(2), y YEAR, u BIGINT UNSIGNED, t TEXT CHARACTER SET latin1) ENGINE=InnoDB;
    CREATE VIEW ${name}.v AS SELECT id FROM ${name}.parent;
    CREATE TRIGGER ${name}.trg BEFORE INSERT ON ${name}.nokey FOR EACH ROW SET NEW.b = NEW.b;
  `);
  for (let i = 1; i <= 200; i++) await a.query(`INSERT INTO ${name}.parent VALUES (${i}, 'p${i}')`);
  await a.query(`INSERT INTO ${name}.child (parent_id, note, created) SELECT id, CONCAT('note ', id), '2024-01-02 03:04:05.678' FROM ${name}.parent`);
  await a.query(`INSERT INTO ${name}.nokey VALUES (1, 'a'), (1, 'a'), (2, NULL), (NULL, 'z')`);
  await a.query(`INSERT INTO ${name}.kinds VALUES
    (1, 'x', 'a,b', '{"k": [1, 2.5, "é"]}', x'00ff10', -12.500, 0.1, 1.7976931348623157e308, b'10101', '2024-02-29', '2024-05-06 07:08:09.123456', '-838:59:59.99', 2155, 18446744073709551615, 'café'),
    (2, '', '', 'null', '', 0.000, -0, 5e-324, b'0', '1000-01-01', NULL, '00:00:00', 1901, 0, ''),
    (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`);
  // Every type of the type table, with edge values (zero dates: zero_date = "null" below).
  await a.query(`SET time_zone = '+00:00', sql_mode = ''`);
  await a.query(`CREATE TABLE ${name}.types (${COLUMNS}) CHARACTER SET utf8mb4`);
  await a.query(`INSERT INTO ${name}.types VALUES ${ROWS.join(", ")}`);
  await a.query(`ANALYZE TABLE ${name}.sbtest1, ${name}.sbtest2`);
  await a.end();
}

/** A second writer over the other tables while copy runs: inserts, updates, deletes, a parent's cascade. */
async function otherWrites(db: MariaDb, name: string, stop: () => boolean): Promise<number> {
  const c = await db.connect();
  let n = 0;
  try {
    for (let i = 1; !stop(); i++) {
      const p = 1 + (i % 200);
      await c.query(`BEGIN; UPDATE ${name}.parent SET name = CONCAT('p', id, '-', ${i}) WHERE id = ${p};
        INSERT INTO ${name}.child (parent_id, note) VALUES (${p}, 'w${i}');
        INSERT INTO ${name}.nokey VALUES (${i}, 'w');
        UPDATE ${name}.kinds SET d = d + 1, j = JSON_OBJECT('i', ${i}) WHERE id = 1; COMMIT`);
      if (i % 7 === 0) await c.query(`DELETE FROM ${name}.nokey WHERE a = ${i - 5} LIMIT 1`);
      if (i % 50 === 0) await c.query(`INSERT INTO ${name}.parent VALUES (${1000 + i}, 'new${i}')`);
      n++;
      await Bun.sleep(5);
    }
  } finally {
    await c.end();
  }
  return n;
}

function config(db: MariaDb, pg: Target, name: string, journal: string, copy = ""): string {
  return writeConfig(`
[source]
port = ${db.port}
user = "root"
password = ""
databases = ["${name}"]

${journal}

[target]
${pg.targetToml(name)}

[copy]
chunk_rows = 2000
${copy || "parallel = 4"}

[sink]
zero_date = "null"

[log]
progress_seconds = 1
`);
}

async function expectEqual(db: MariaDb, pg: Target, name: string, cfg: string): Promise<void> {
  const sql = pg.sql(name);
  try {
    expect(differences(await mariadbSums(db, SB_TABLES, name), await postgresSums(sql, SB_TABLES, `"${name}"`))).toEqual([]);
  } finally {
    await sql.end();
  }
  const check = await runCli(["check", "--config", cfg, "--data"], { timeoutMs: 120_000 });
  expect({ code: check.code, out: check.code === 0 ? "" : check.stdout + check.stderr }).toEqual({ code: 0, out: "" });
}

describe.each(TARGETS)("gs-replicate copy (%s)", (dialect) => {
  test("copied while sysbench and another writer run, then source + sink from the hand-over: the target equals the source", async () => {
    const db = await getMariadb();
    const pg = await getTarget(dialect);
    const name = uniqueName("copy");
    await prepare(db, name);
    await pg.createDatabase(name);
    const j = journalTransport();
    const cfg = config(db, pg, name, j.toml);
    let bench: Subprocess | undefined;
    let stopped = false;
    try {
      bench = Bun.spawn(["sysbench", "oltp_write_only", ...sysbenchArgs(db, name), "--threads=2", "--rate=150", "--time=600", "run"], { stdout: "ignore", stderr: "pipe" });
      const writer = otherWrites(db, name, () => stopped);
      await Bun.sleep(500);
      const copy = await runCli(["copy", "--config", cfg, "--json"], { timeoutMs: 180_000 });
      expect({ code: copy.code, err: copy.code === 0 ? "" : copy.stderr }).toEqual({ code: 0, err: "" });
      const report = JSON.parse(copy.stdout) as { status: string; tables: number; rows: number; snapshot: string; handoverInLog: boolean; notMigrated: Array<{ kind: string }> };
      expect(report.status).toBe("copied");
      expect(report.tables).toBe(7);
      expect(report.rows).toBeGreaterThan(40_000);
      expect(report.snapshot).toBe("lock-free");
      expect(report.handoverInLog).toBe(true);
      expect(report.notMigrated.map((o) => o.kind).sort()).toEqual(["trigger", "view"]);
      // sysbench's tables were read in several chunks each.
      expect(copy.stderr).toMatch(/sbtest1 loaded: [\d,]+ rows/);
      await Bun.sleep(1000);
      stopped = true;
      bench.kill("SIGINT");
      await bench.exited;
      expect(await writer).toBeGreaterThan(10);
      const source = await runCli(["source", "--config", cfg, "--stop-at-end"], { timeoutMs: 120_000 });
      expect({ code: source.code, err: source.code === 0 ? "" : source.stderr }).toEqual({ code: 0, err: "" });
      expect(source.stderr).toContain(`resuming after`);
      const sink = await runCli(["sink", "--config", cfg, "--stop-at-end"], { timeoutMs: 120_000 });
      expect({ code: sink.code, err: sink.code === 0 ? "" : sink.stderr }).toEqual({ code: 0, err: "" });
      await expectEqual(db, pg, name, cfg);
      // A second copy changes nothing and says so.
      const again = await runCli(["copy", "--config", cfg, "--json"], { timeoutMs: 60_000 });
      expect(again.code).toBe(0);
      expect(JSON.parse(again.stdout).status).toBe("already complete");
    } finally {
      stopped = true;
      bench?.kill("SIGKILL");
    }
  }, 300_000);

  test("kill -9 of copy while creating the schema, mid-chunk and while creating indexes: each rerun goes on; at the end the target equals the source, no row twice", async () => {
    const db = await getMariadb();
    const pg = await getTarget(dialect);
    const name = uniqueName("copykill");
    await prepare(db, name);
    await pg.createDatabase(name);
    const j = journalTransport();
    const cfg = config(db, pg, name, j.toml, "parallel = 2");
    const state = async (): Promise<{ run: string | null; loaded: number; copying: boolean }> => {
      const sql = pg.sql(name);
      try {
        const [r] = await sql
          .unsafe(`SELECT (SELECT state FROM gs_replicate.copy_run) AS run, (SELECT count(*) FROM gs_replicate.copy_chunks WHERE snap_file IS NOT NULL) AS loaded`)
          .catch(() => [null]);
        const [a] = await sql.unsafe(`SELECT count(*) AS n FROM pg_stat_activity WHERE query LIKE 'COPY %' AND state = 'active'`);
        return { run: (r?.run as string | null) ?? null, loaded: Number(r?.loaded ?? 0), copying: Number(a?.n) > 0 };
      } finally {
        await sql.end({ timeout: 1 });
      }
    };
    const points: Array<[string, (s: Awaited<ReturnType<typeof state>>) => boolean]> = [
      ["schema", (s) => s.run === "schema" || s.run === "data"],
      ["mid-chunk", (s) => s.copying && s.loaded >= 1],
      ["indexes", (s) => s.run === "indexes"],
    ];
    for (const [what, ready] of points) {
      const run = spawnCli(["copy", "--config", cfg]);
      await until(`copy reaching ${what}`, async () => (await state().then(ready)) || run.proc.exitCode !== null, 120_000, 5);
      // It was killed there, not finished (or failed) before.
      expect({ what, running: run.proc.exitCode === null, stderr: run.proc.exitCode === null ? "" : run.stderr() }).toEqual({ what, running: true, stderr: "" });
      run.proc.kill("SIGKILL");
      await run.proc.exited;
    }
    const last = await runCli(["copy", "--config", cfg], { timeoutMs: 180_000 });
    expect({ code: last.code, err: last.code === 0 ? "" : last.stderr }).toEqual({ code: 0, err: "" });
    expect(last.stdout).toContain("copy copied");
    const source = await runCli(["source", "--config", cfg, "--stop-at-end"], { timeoutMs: 120_000 });
    expect(source.code).toBe(0);
    const sink = await runCli(["sink", "--config", cfg, "--stop-at-end"], { timeoutMs: 120_000 });
    expect({ code: sink.code, err: sink.code === 0 ? "" : sink.stderr }).toEqual({ code: 0, err: "" });
    await expectEqual(db, pg, name, cfg);
    const sql = pg.sql(name);
    try {
      const [r] = await sql.unsafe(`SELECT count(*) AS n FROM "${name}".nokey`);
      expect(Number(r!.n)).toBe(4);
    } finally {
      await sql.end();
    }
  }, 400_000);
});
