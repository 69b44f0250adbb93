// What `copy` refuses, each with the flag that goes on knowingly, and its snapshot under a global
// read lock: objects the target cannot get exactly (COPY_UNTRANSLATABLE, --skip-object), target
// tables already holding rows (COPY_TARGET_NOT_EMPTY, --truncate-existing), non-transactional
// tables (COPY_NOT_TRANSACTIONAL, --allow-non-transactional), a log of another run
// (COPY_LOG_NOT_EMPTY); [copy] snapshot = "lock" under a write load (measured, equal after
// source and sink), given up rather than stall writers (COPY_LOCK_TIMEOUT); no [transport]: the
// start position printed for [source] start.
import { describe, expect, test } from "bun:test";
import { runCli } from "../support/cli.ts";
import { journalTransport } from "../support/pipeline.ts";
import { getMariadb, getTarget, TARGETS, uniqueName, type MariaDb, type Target } from "../support/servers.ts";
import { config, expectEqual, otherWrites, prepare, sysbenchArgs } from "./support.ts";
import { spawnCli, untilLine } from "../faults/support.ts";

async function small(db: MariaDb, pg: Target, name: string, ddl: string): Promise<void> {
  const c = await db.connect();
  await c.query(`CREATE DATABASE ${name}`);
  await c.query(ddl.replaceAll("DB.", `${name}.`));
  await c.end();
  await pg.createDatabase(name);
}

const targetTables = async (pg: Target, name: string): Promise<string[]> => {
  const sql = pg.sql(name);
  try {
    const rows = await sql.unsafe(`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`, [name]);
    return rows.map((r) => String(r.t));
  } finally {
    await sql.end();
  }
};

describe.each(TARGETS)("copy refuses, and goes on when told (%s)", (dialect) => {
  test("FULLTEXT index and CHECK: COPY_UNTRANSLATABLE naming each, nothing created; --skip-object goes on and records them", async () => {
    const db = await getMariadb();
    const pg = await getTarget(dialect);
    const name = uniqueName("cpobj");
    await small(
      db,
      pg,
      name,
      `CREATE TABLE DB.docs (id INT PRIMARY KEY, body TEXT, n INT, FULLTEXT KEY ft_body (body), CONSTRAINT chk_n CHECK (n >= 0)) ENGINE=InnoDB;
       INSERT INTO DB.docs VALUES (1, 'hello world', 1), (2, 'bye', 2)`,
    );
    const cfg = config(db, pg, name, journalTransport().toml);
    const refused = await runCli(["copy", "--config", cfg]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("COPY_UNTRANSLATABLE");
    expect(refused.stderr).toContain(`${name}.docs.ft_body`);
    expect(refused.stderr).toContain(`${name}.docs.chk_n`);
    expect(await targetTables(pg, name)).toEqual([]);
    const ok = await runCli(["copy", "--config", cfg, "--skip-object", `${name}.docs.ft_body,${name}.docs.chk_n`]);
    expect({ code: ok.code, err: ok.code === 0 ? "" : ok.stderr }).toEqual({ code: 0, err: "" });
    const sql = pg.sql(name);
    try {
      const rows = await sql.unsafe(`SELECT kind, object_name FROM gs_replicate.skipped_objects ORDER BY object_name`);
      expect(rows.map((r) => `${r.kind} ${r.object_name}`)).toEqual(["check chk_n", "index ft_body"]);
      expect(Number((await sql.unsafe(`SELECT count(*) AS n FROM "${name}".docs`))[0]!.n)).toBe(2);
    } finally {
      await sql.end();
    }
  }, 120_000);

  test("a target table with rows: COPY_TARGET_NOT_EMPTY; --truncate-existing empties it and copies", async () => {
    const db = await getMariadb();
    const pg = await getTarget(dialect);
    const name = uniqueName("cpfull");
    await small(db, pg, name, `CREATE TABLE DB.t (id INT PRIMARY KEY, v VARCHAR(10)); INSERT INTO DB.t VALUES (1, 'a'), (2, 'b')`);
    const sql = pg.sql(name);
    await sql.unsafe(`CREATE SCHEMA "${name}"; CREATE TABLE "${name}".t (id int PRIMARY KEY, v varchar(10)); INSERT INTO "${name}".t VALUES (9, 'old')`);
    const cfg = config(db, pg, name, journalTransport().toml);
    try {
      const refused = await runCli(["copy", "--config", cfg]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(new RegExp(`COPY_TARGET_NOT_EMPTY at ${name}\\.t`));
      expect(refused.stderr).toContain("--truncate-existing");
      expect([...(await sql.unsafe(`SELECT id FROM "${name}".t`))].map((r) => r.id)).toEqual([9]);
      const ok = await runCli(["copy", "--config", cfg, "--truncate-existing"]);
      expect({ code: ok.code, err: ok.code === 0 ? "" : ok.stderr }).toEqual({ code: 0, err: "" });
      expect([...(await sql.unsafe(`SELECT id, v FROM "${name}".t ORDER BY id`))].map((r) => `${r.id}${r.v}`)).toEqual(["1a", "2b"]);
    } finally {
      await sql.end();
    }
  }, 120_000);

  test("a MyISAM table: COPY_NOT_TRANSACTIONAL; --allow-non-transactional copies it", async () => {
    const db = await getMariadb();
    const pg = await getTarget(dialect);
    const name = uniqueName("cpmy");
    await small(db, pg, name, `CREATE TABLE DB.m (id INT PRIMARY KEY, v INT) ENGINE=MyISAM; INSERT INTO DB.m VALUES (1, 10)`);
    const cfg = config(db, pg, name, journalTransport().toml);
    const refused = await runCli(["copy", "--config", cfg]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`COPY_NOT_TRANSACTIONAL at ${name}.m`);
    const ok = await runCli(["copy", "--config", cfg, "--allow-non-transactional"]);
    expect({ code: ok.code, err: ok.code === 0 ? "" : ok.stderr }).toEqual({ code: 0, err: "" });
  }, 120_000);

  test("a log holding another run's records: COPY_LOG_NOT_EMPTY, nothing created", async () => {
    const db = await getMariadb();
    const pg = await getTarget(dialect);
    const name = uniqueName("cplog");
    await small(db, pg, name, `CREATE TABLE DB.t (id INT PRIMARY KEY)`);
    const j = journalTransport();
    const cfg = config(db, pg, name, j.toml);
    // `source` on its own first: it records where it started.
    expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);
    // (Had nothing been written since, the log would hold exactly the copy's hand-over, and be taken.)
    const c = await db.connect();
    await c.query(`INSERT INTO ${name}.t VALUES (1)`);
    await c.end();
    const refused = await runCli(["copy", "--config", cfg]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("COPY_LOG_NOT_EMPTY");
    expect(await targetTables(pg, name)).toEqual([]);
  }, 120_000);

  test("a sink running on the target: COPY_TARGET_BUSY, nothing created (the copy comes before the sink)", async () => {
    const db = await getMariadb();
    const pg = await getTarget(dialect);
    const name = uniqueName("cpbusy");
    await small(db, pg, name, `CREATE TABLE DB.t (id INT PRIMARY KEY); INSERT INTO DB.t VALUES (1)`);
    const cfg = config(db, pg, name, journalTransport().toml);
    const sink = spawnCli(["sink", "--config", cfg]);
    try {
      await untilLine(sink, /waiting for|caught up/, "the sink running", 60_000);
      const refused = await runCli(["copy", "--config", cfg]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain("COPY_TARGET_BUSY");
      expect(await targetTables(pg, name)).toEqual([]);
    } finally {
      await sink.stop();
    }
  }, 120_000);

  test("without [transport]: the summary gives the position for [source] start", async () => {
    const db = await getMariadb();
    const pg = await getTarget(dialect);
    const name = uniqueName("cpnolog");
    await small(db, pg, name, `CREATE TABLE DB.t (id INT PRIMARY KEY); INSERT INTO DB.t VALUES (1)`);
    const r = await runCli(["copy", "--config", config(db, pg, name, "")]);
    expect({ code: r.code, err: r.code === 0 ? "" : r.stderr }).toEqual({ code: 0, err: "" });
    expect(r.stdout).toMatch(/set \[source\] start = "file:[^:"]+:\d+" for source/);
  }, 120_000);
});

describe.each(TARGETS)("copy under a global read lock (%s)", (dialect) => {
  test('[copy] snapshot = "lock" while sysbench writes: the lock time is measured and printed; after source and sink the target equals the source', async () => {
    const db = await getMariadb();
    const pg = await getTarget(dialect);
    const name = uniqueName("cplock");
    await prepare(db, name);
    await pg.createDatabase(name);
    const cfg = config(db, pg, name, journalTransport().toml, 'snapshot = "lock"\nparallel = 3\nlock_timeout_seconds = 5');
    let stopped = false;
    const bench = Bun.spawn(["sysbench", "oltp_write_only", ...sysbenchArgs(db, name), "--threads=2", "--rate=150", "--time=600", "run"], { stdout: "ignore", stderr: "ignore" });
    const writer = otherWrites(db, name, () => stopped);
    try {
      await Bun.sleep(500);
      const copy = await runCli(["copy", "--config", cfg, "--json"], { timeoutMs: 180_000 });
      expect({ code: copy.code, err: copy.code === 0 ? "" : copy.stderr }).toEqual({ code: 0, err: "" });
      const report = JSON.parse(copy.stdout) as { snapshot: string; lockHeldMs: number };
      expect(report.snapshot).toBe("lock");
      expect(report.lockHeldMs).toBeGreaterThanOrEqual(0);
      expect(report.lockHeldMs).toBeLessThan(5000);
      expect(copy.stderr).toMatch(/global read lock: waited \d+ ms, held \d+ ms; 3 snapshots open at /);
    } finally {
      stopped = true;
      bench.kill("SIGINT");
      await bench.exited;
      await writer;
    }
    expect((await runCli(["source", "--config", cfg, "--stop-at-end"], { timeoutMs: 120_000 })).code).toBe(0);
    const sink = await runCli(["sink", "--config", cfg, "--stop-at-end"], { timeoutMs: 120_000 });
    expect({ code: sink.code, err: sink.code === 0 ? "" : sink.stderr }).toEqual({ code: 0, err: "" });
    await expectEqual(db, pg, name, cfg);
  }, 300_000);

  test("a statement running past lock_timeout_seconds, or a table lock the read lock would wait for: COPY_LOCK_TIMEOUT, and writers were not held", async () => {
    const db = await getMariadb();
    const pg = await getTarget(dialect);
    const name = uniqueName("cplockto");
    await small(db, pg, name, `CREATE TABLE DB.t (id INT PRIMARY KEY); CREATE TABLE DB.w (id INT PRIMARY KEY); INSERT INTO DB.t VALUES (1)`);
    const cfg = config(db, pg, name, journalTransport().toml, 'snapshot = "lock"\nlock_timeout_seconds = 2');
    // 1. A long statement: refused before the lock is even asked for, naming it.
    const sleeper = await db.connect();
    const sleeping = sleeper.query("SELECT SLEEP(8)");
    await Bun.sleep(2500);
    const refused = await runCli(["copy", "--config", cfg]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("COPY_LOCK_TIMEOUT");
    expect(refused.stderr).toContain("SELECT SLEEP(8)");
    await sleeping;
    await sleeper.end();
    // 2. A session holding a table lock: the read lock waits for it, and is given up after 2 s.
    const holder = await db.connect();
    await holder.query(`LOCK TABLES ${name}.t WRITE`);
    const writer = await db.connect();
    try {
      const began = Date.now();
      const copy = runCli(["copy", "--config", cfg], { timeoutMs: 60_000 });
      await Bun.sleep(500);
      // A writer of another table meets the pending read lock, and goes on once it is given up.
      await writer.query(`INSERT INTO ${name}.w VALUES (1)`);
      const wrote = Date.now() - began;
      const r = await copy;
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("COPY_LOCK_TIMEOUT");
      expect(Date.now() - began).toBeLessThan(20_000);
      expect(wrote).toBeLessThan(15_000);
    } finally {
      await holder.query("UNLOCK TABLES");
      await holder.end();
      await writer.end();
    }
  }, 120_000);
});
