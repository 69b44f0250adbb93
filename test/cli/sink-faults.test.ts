// The sink under stress: concurrent sessions on hot rows, kill -9 at many points with workers
// mid-transaction, and a data error — the target always ends equal to the source, nothing is
// applied twice, and a failed transaction leaves no part of itself behind.
import { describe, expect, test } from "bun:test";
import { getMariadb, getTarget, TARGETS, uniqueName, type MariaDb, type Target, type TargetDialect } from "../support/servers.ts";
import { currentPosition } from "../support/binlog.ts";
import { BINARY, runCli } from "../support/cli.ts";
import { bothSides, journalTransport, pipelineConfig } from "../support/pipeline.ts";

const SCHEMA_MYSQL = (db: string) => `CREATE DATABASE ${db};
  CREATE TABLE ${db}.hot (id INT PRIMARY KEY, n INT NOT NULL, s VARCHAR(30));
  CREATE TABLE ${db}.ledger (id BIGINT PRIMARY KEY, hot_id INT, delta INT);
  CREATE TABLE ${db}.bag (v INT, w VARCHAR(10))`;
const SCHEMA_PG = (db: string) => `CREATE SCHEMA "${db}";
  CREATE TABLE "${db}".hot (id int PRIMARY KEY, n int NOT NULL, s varchar(30));
  CREATE TABLE "${db}".ledger (id bigint PRIMARY KEY, hot_id int, delta int);
  CREATE TABLE "${db}".bag (v int, w varchar(10))`;

const COMPARE = [
  ["hot", "id, n, s", "id, n, s"],
  ["ledger", "id, hot_id, delta", "id, hot_id, delta"],
  ["bag", "v, w", "v, w"],
] as const;

async function setup(dialect: TargetDialect, name: string): Promise<{ db: MariaDb; pg: Target; from: { file: string; pos: number } }> {
  const db = await getMariadb();
  const pg = await getTarget(dialect);
  await pg.createDatabase(name);
  const c = await db.connect();
  await c.query(SCHEMA_MYSQL(name));
  await c.end();
  const sql = pg.sql(name);
  await sql.unsafe(SCHEMA_PG(name));
  await sql.end();
  return { db, pg, from: await currentPosition() };
}

/** Concurrent sessions hammering a few hot rows, with an insert-only ledger (a double apply would break its key). */
async function hotWorkload(db: MariaDb, name: string, sessions: number, perSession: number): Promise<void> {
  const conns = await Promise.all(Array.from({ length: sessions }, () => db.connect()));
  await conns[0]!.query(`INSERT INTO ${name}.hot VALUES ${Array.from({ length: 10 }, (_, i) => `(${i}, 0, 'h')`).join(",")}`);
  let ledger = 0;
  let seed = 7;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  await Promise.all(
    conns.map(async (c, s) => {
      for (let i = 0; i < perSession; i++) {
        // two hot rows, always locked in id order so that the source itself never deadlocks
        const x = rnd(10);
        const y = rnd(10);
        const [a, b] = x <= y ? [x, y] : [y, x];
        const id = ++ledger;
        await c.query("BEGIN");
        await c.query(`UPDATE ${name}.hot SET n = n + 1, s = 's${s}' WHERE id = ?`, [a]);
        await c.query(`UPDATE ${name}.hot SET n = n - 1 WHERE id = ?`, [b]);
        await c.query(`INSERT INTO ${name}.ledger VALUES (?, ?, 1)`, [id, a]);
        await c.query("COMMIT");
        if (i % 7 === 0) await c.query(`INSERT INTO ${name}.bag VALUES (?, 'x'), (?, 'x')`, [i % 5, i % 5]);
        if (i % 9 === 0) await c.query(`DELETE FROM ${name}.bag WHERE v = ? LIMIT 1`, [i % 5]);
        if (i % 13 === 0) await c.query(`DELETE FROM ${name}.ledger WHERE id = ?`, [id]);
      }
    }),
  );
  await Promise.all(conns.map((c) => c.end()));
}

async function expectEqual(db: MariaDb, pg: Target, name: string): Promise<void> {
  for (const [table, m, p] of COMPARE) {
    const { src, dst } = await bothSides(db, pg, name, name, table, m, p);
    expect(dst).toEqual(src);
  }
}

describe.each(TARGETS)("sink under concurrency and faults (%s)", (dialect) => {
  test("concurrent sessions on hot rows replay exactly with 16 workers, commit order preserved or not", async () => {
    for (const preserve of [false, true]) {
      const name = uniqueName(`hot${preserve ? "p" : "f"}`);
      const { db, pg, from } = await setup(dialect, name);
      await hotWorkload(db, name, 6, 80);
      const j = journalTransport();
      const cfg = await pipelineConfig(db, pg, name, name, from, j.toml, `workers = 16\npreserve_commit_order = ${preserve}`);
      expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);
      const r = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
      expect(r.stderr).not.toContain("ERROR");
      expect(r.code).toBe(0);
      await expectEqual(db, pg, name);
    }
  }, 120_000);

  test("kill -9 at 12 points with workers mid-transaction: the target ends equal, nothing applied twice", async () => {
    const name = uniqueName("sinkkill");
    const { db, pg, from } = await setup(dialect, name);
    await hotWorkload(db, name, 4, 400);
    const j = journalTransport();
    const cfg = await pipelineConfig(db, pg, name, name, from, j.toml, "workers = 8");
    expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);
    const sql = pg.sql(name);
    const applied = async () => Number((await sql.unsafe(`SELECT (SELECT count(*) FROM "${name}".ledger) AS n`).catch(() => [{ n: 0 }]))[0]!.n);
    let kills = 0;
    let seed = 11;
    for (let k = 0; k < 12; k++) {
      seed = (seed * 48271) % 2147483647;
      const before = await applied();
      const p = Bun.spawn([BINARY, "sink", "--config", cfg, "--stop-at-end"], { stdout: "ignore", stderr: "ignore" });
      // kill once the sink has applied a random further number of transactions (it is mid-stream then)
      const target = before + 20 + (seed % 120);
      while (p.exitCode === null && (await applied()) < target) await Bun.sleep(3);
      if (p.exitCode === null) {
        p.kill("SIGKILL");
        kills++;
      }
      await p.exited;
    }
    const last = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
    expect(last.stderr).not.toContain("ERROR");
    expect(last.code).toBe(0);
    await sql.end();
    expect(kills).toBeGreaterThanOrEqual(10);
    await expectEqual(db, pg, name);
  }, 180_000);

  test("a data error stops the sink with exit 1 naming the GTID and row; no part of that transaction is applied", async () => {
    const name = uniqueName("dataerr");
    const { db, pg, from } = await setup(dialect, name);
    const sql = pg.sql(name);
    await sql.unsafe(`ALTER TABLE "${name}".ledger ADD CONSTRAINT small_delta CHECK (delta < 100)`);
    const c = await db.connect();
    await c.query(`INSERT INTO ${name}.hot VALUES (1, 0, 'a')`);
    await c.query(`BEGIN; UPDATE ${name}.hot SET n = 5 WHERE id = 1; INSERT INTO ${name}.ledger VALUES (77, 1, 500); COMMIT`);
    const [[{ gtid }]] = (await c.query("SELECT @@gtid_binlog_pos AS gtid")) as unknown as [[{ gtid: string }]];
    await c.query(`INSERT INTO ${name}.hot VALUES (2, 0, 'after')`);
    await c.end();
    const j = journalTransport();
    const cfg = await pipelineConfig(db, pg, name, name, from, j.toml, "workers = 4");
    expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);
    const r = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`GTID ${gtid}`);
    expect(r.stderr).toContain("small_delta");
    const hot = await sql.unsafe(`SELECT id, n FROM "${name}".hot ORDER BY id`);
    const ledger = await sql.unsafe(`SELECT count(*)::int AS n FROM "${name}".ledger`);
    await sql.end();
    // The failed transaction's UPDATE is not there (n stays 0); a later independent transaction
    // may have committed on another worker, which the checkpoint records, so a restart after
    // the fix applies exactly the failed one and what follows it.
    expect({ ...[...hot].find((r) => r.id === 1) }).toEqual({ id: 1, n: 0 });
    expect(ledger[0]!.n).toBe(0);
  }, 60_000);

  test("a row missing on the target stops the sink naming table and key, with or without a key; nothing of that transaction is applied", async () => {
    const name = uniqueName("diverge");
    const { db, pg, from } = await setup(dialect, name);
    const sql = pg.sql(name);
    const c = await db.connect();
    await c.query(`INSERT INTO ${name}.hot VALUES (1, 0, 'a'), (2, 0, 'b')`);
    await c.query(`INSERT INTO ${name}.bag VALUES (4, 'four'), (5, 'five')`);
    const j = journalTransport();
    for (const workers of ["workers = 4", "workers = 4\npreserve_commit_order = true"]) {
      const cfg = await pipelineConfig(db, pg, name, name, from, j.toml, workers);
      const run = async () => {
        expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);
        return runCli(["sink", "--config", cfg, "--stop-at-end"]);
      };
      if (workers === "workers = 4") expect((await run()).code).toBe(0);
      // The target loses a row the source still has: the next UPDATE of it matches nothing.
      await sql.unsafe(`DELETE FROM "${name}".hot WHERE id = 2`);
      await c.query(`BEGIN; INSERT INTO ${name}.ledger VALUES (88, 2, 1); UPDATE ${name}.hot SET n = n + 10 WHERE id = 2; COMMIT`);
      let r = await run();
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`UPDATE of ${name}.hot row (id=2) matched 0 rows on the target instead of 1`);
      expect((await sql.unsafe(`SELECT count(*)::int AS n FROM "${name}".ledger WHERE id = 88`))[0]!.n).toBe(0);
      // Put the row back: the same transaction applies whole. Then a keyless table loses a row.
      await sql.unsafe(`INSERT INTO "${name}".hot VALUES (2, 0, 'b')`);
      await sql.unsafe(`DELETE FROM "${name}".bag WHERE v = 5`);
      await c.query(`BEGIN; INSERT INTO ${name}.ledger VALUES (89, 1, 1); DELETE FROM ${name}.bag WHERE v = 5; COMMIT`);
      r = await run();
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`DELETE of ${name}.bag row (v=5, w='five') matched 0 rows on the target instead of 1`);
      const ledger = await sql.unsafe(`SELECT id::int FROM "${name}".ledger ORDER BY id`);
      expect(ledger.map((x) => x.id)).toEqual([88]);
      expect((await sql.unsafe(`SELECT n FROM "${name}".hot WHERE id = 2`))[0]!.n).toBe(10);
      // Repaired again, the sink catches up and the two sides are equal.
      await sql.unsafe(`INSERT INTO "${name}".bag VALUES (5, 'five')`);
      expect((await run()).code).toBe(0);
      await expectEqual(db, pg, name);
      // The second round (preserve_commit_order) starts from equal sides.
      await c.query(`INSERT INTO ${name}.bag VALUES (5, 'five')`);
      await c.query(`DELETE FROM ${name}.ledger`);
      await c.query(`UPDATE ${name}.hot SET n = 0 WHERE id = 2`);
    }
    await c.end();
    await sql.end();
  }, 120_000);
});

describe.each(TARGETS)("writeset keys from the target catalog (%s)", (dialect) => {
  test("unique keys and foreign keys order transactions whose primary keys differ", async () => {
    const name = uniqueName("uqfk");
    const db = await getMariadb();
    const pg = await getTarget(dialect);
    await pg.createDatabase(name);
    const c = await db.connect();
    await c.query(`CREATE DATABASE ${name}; CREATE TABLE ${name}.uq (id INT PRIMARY KEY, u VARCHAR(10) UNIQUE);
      CREATE TABLE ${name}.parent (id INT PRIMARY KEY); CREATE TABLE ${name}.child (id INT PRIMARY KEY, parent_id INT)`);
    const sql = pg.sql(name);
    await sql.unsafe(`CREATE SCHEMA "${name}"; CREATE TABLE "${name}".uq (id int PRIMARY KEY, u varchar(10) UNIQUE);
      CREATE TABLE "${name}".parent (id int PRIMARY KEY); CREATE TABLE "${name}".child (id int PRIMARY KEY, parent_id int REFERENCES "${name}".parent(id))`);
    const from = await currentPosition();
    // Each value of u moves to a new row id in a new transaction: only the unique key links them.
    for (let i = 0; i < 150; i++) {
      await c.query(`DELETE FROM ${name}.uq WHERE u = 'k${i % 3}'`);
      await c.query(`INSERT INTO ${name}.uq VALUES (${i}, 'k${i % 3}')`);
      // A child right after its parent, in separate transactions: only the foreign key links them.
      await c.query(`INSERT INTO ${name}.parent VALUES (${i})`);
      await c.query(`INSERT INTO ${name}.child VALUES (${i}, ${i})`);
    }
    await c.end();
    const j = journalTransport();
    const cfg = await pipelineConfig(db, pg, name, name, from, j.toml, "workers = 16");
    expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);
    const r = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
    expect(r.stderr).not.toContain("ERROR");
    expect(r.code).toBe(0);
    const rows = await sql.unsafe(`SELECT (SELECT string_agg(id || ':' || u, ',' ORDER BY u) FROM "${name}".uq) AS uq, (SELECT count(*)::int FROM "${name}".child) AS children`);
    await sql.end();
    expect(rows[0]!.uq).toBe("147:k0,148:k1,149:k2");
    expect(rows[0]!.children).toBe(150);
  }, 60_000);
});

describe.each(TARGETS)("incompatible DDL (%s)", (dialect) => {
  test("stops the sink naming GTID and statement, nothing after it applied; --skip-ddl resumes past exactly that transaction", async () => {
    const name = uniqueName("ddlstop");
    const db = await getMariadb();
    const pg = await getTarget(dialect);
    await pg.createDatabase(name);
    const c = await db.connect();
    await c.query(`CREATE DATABASE ${name}; CREATE TABLE ${name}.t (id INT PRIMARY KEY, g GEOMETRY NOT NULL)`);
    const sql = pg.sql(name);
    await sql.unsafe(`CREATE SCHEMA "${name}"; CREATE TABLE "${name}".t (id int PRIMARY KEY, g bytea NOT NULL)`);
    const from = await currentPosition();
    await c.query(`INSERT INTO ${name}.t VALUES (1, ST_GeomFromText('POINT(1 1)'))`);
    await c.query(`ALTER TABLE ${name}.t CONVERT TO CHARACTER SET binary`);
    const [[{ gtid }]] = (await c.query("SELECT @@gtid_binlog_pos AS gtid")) as unknown as [[{ gtid: string }]];
    await c.query(`INSERT INTO ${name}.t VALUES (2, ST_GeomFromText('POINT(2 2)'))`);
    await c.end();
    const j = journalTransport();
    const cfg = await pipelineConfig(db, pg, name, name, from, j.toml, "workers = 4");
    expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);
    const stop = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
    expect(stop.code).toBe(1);
    expect(stop.stderr).toContain(`GTID ${gtid}`);
    expect(stop.stderr).toContain("CONVERT TO CHARACTER SET binary");
    expect([...(await sql.unsafe(`SELECT id FROM "${name}".t ORDER BY id`))].map((r) => r.id)).toEqual([1]);
    // A wrong GTID skips nothing: the sink stops again at the same place.
    const wrong = await runCli(["sink", "--config", cfg, "--stop-at-end", "--skip-ddl", "0-1-1"]);
    expect(wrong.code).toBe(1);
    const resumed = await runCli(["sink", "--config", cfg, "--stop-at-end", "--skip-ddl", gtid]);
    expect(resumed.stderr).not.toContain("ERROR");
    expect(resumed.code).toBe(0);
    expect([...(await sql.unsafe(`SELECT id FROM "${name}".t ORDER BY id`))].map((r) => r.id)).toEqual([1, 2]);
    await sql.end();
  }, 60_000);
});

describe.each(TARGETS)("unique keys the writeset cannot see (%s)", (dialect) => {
  test("a MySQL prefix unique key (an expression index on the target) serialises its table", async () => {
    const name = uniqueName("prefix");
    const db = await getMariadb();
    const pg = await getTarget(dialect);
    await pg.createDatabase(name);
    const c = await db.connect();
    await c.query(`CREATE DATABASE ${name}`);
    const sql = pg.sql(name);
    await sql.unsafe(`CREATE SCHEMA "${name}"`);
    const from = await currentPosition();
    // The replicated DDL creates the table; its UNIQUE (code(3)) becomes left(code, 3) there.
    await c.query(`CREATE TABLE ${name}.p (id INT PRIMARY KEY, code VARCHAR(20), UNIQUE KEY uq (code(3)))`);
    for (let i = 0; i < 120; i++) {
      await c.query(`DELETE FROM ${name}.p WHERE code LIKE 'k${i % 3}_%'`);
      await c.query(`INSERT INTO ${name}.p VALUES (${i}, 'k${i % 3}_${i}')`);
    }
    await c.end();
    const j = journalTransport();
    const cfg = await pipelineConfig(db, pg, name, name, from, j.toml, "workers = 16\ngroup_transactions = 1");
    expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);
    const r = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
    expect(r.stderr).not.toContain("ERROR");
    expect(r.code).toBe(0);
    const rows = await sql.unsafe(`SELECT string_agg(code, ',' ORDER BY code) AS codes FROM "${name}".p`);
    await sql.end();
    expect(rows[0]!.codes).toBe("k0_117,k1_118,k2_119");
  }, 60_000);
});
