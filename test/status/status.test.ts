// `gs-replicate status`, `status --wait-caught-up` and `cutover` against real servers (issue 17
// items 1–3): distances while the log and the sink lag and zero once caught up; the wait's
// exit 0 once the last write is applied and 1 on timeout with the sink stopped; cutover refusing a
// writable source, setting the sequences so that the target's next insert without an id gets
// the id the source would give, and changing nothing the second time.
import { describe, expect, test } from "bun:test";
import { runCli, writeConfig } from "../support/cli.ts";
import { config } from "../copy/support.ts";
import { journalTransport } from "../support/pipeline.ts";
import { getMariadb, getTarget, TARGETS, uniqueName, type MariaDb, type Target } from "../support/servers.ts";
import { spawnCli } from "../faults/support.ts";

interface Report {
  sourceToLog: { caughtUp: boolean; transactions: number | null; bytes: number | null } | null;
  logToSink: { caughtUp: boolean; transactions: number; records: string } | null;
  unreadable: string[];
}

async function write(db: MariaDb, name: string, n: number): Promise<void> {
  const c = await db.connect();
  for (let i = 0; i < n; i++) await c.query(`INSERT INTO ${name}.t (v) VALUES (${i})`);
  await c.end();
}

/** A database with one AUTO_INCREMENT table on the source, an empty one on the target, copied. */
async function copied(db: MariaDb, pg: Target, prefix: string): Promise<{ name: string; cfg: string }> {
  const name = uniqueName(prefix);
  const c = await db.connect();
  await c.query(`CREATE DATABASE ${name}; CREATE TABLE ${name}.t (id INT AUTO_INCREMENT PRIMARY KEY, v INT)`);
  await c.end();
  await pg.createDatabase(name);
  const cfg = config(db, pg, name, journalTransport().toml);
  expect((await runCli(["copy", "--config", cfg])).code).toBe(0);
  return { name, cfg };
}

async function status(cfg: string): Promise<Report> {
  const r = await runCli(["status", "--config", cfg, "--json"]);
  expect({ code: r.code, err: r.code === 0 ? "" : r.stderr }).toEqual({ code: 0, err: "" });
  return JSON.parse(r.stdout) as Report;
}

async function count(pg: Target, name: string): Promise<number> {
  const sql = pg.sql(name);
  try {
    return Number((await sql.unsafe(`SELECT count(*) AS n FROM "${name}".t`))[0]!.n);
  } finally {
    await sql.end();
  }
}

describe.each(TARGETS)("status, the caught-up wait and cutover (%s)", (dialect) => {
  test("status reports the distances while the log and the sink lag, and zero once caught up", async () => {
    const db = await getMariadb();
    const pg = await getTarget(dialect);
    const { name, cfg } = await copied(db, pg, "status");
    await write(db, name, 50);
    const before = await status(cfg);
    expect(before.sourceToLog).toMatchObject({ caughtUp: false, transactions: 50 });
    expect(before.sourceToLog!.bytes).toBeGreaterThan(0);
    expect(before.logToSink).toMatchObject({ caughtUp: true, transactions: 0 });

    expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);
    const logged = await status(cfg);
    expect(logged.sourceToLog).toMatchObject({ caughtUp: true, transactions: 0, bytes: 0 });
    expect(logged.logToSink).toMatchObject({ caughtUp: false, transactions: 50 });

    expect((await runCli(["sink", "--config", cfg, "--stop-at-end"])).code).toBe(0);
    const done = await status(cfg);
    expect(done.sourceToLog).toMatchObject({ caughtUp: true, transactions: 0 });
    expect(done.logToSink).toMatchObject({ caughtUp: true, transactions: 0 });
    const text = await runCli(["status", "--config", cfg]);
    expect(text.stdout).toContain("source → log   caught up");
    expect(text.stdout).toContain("log → sink     caught up");

    // A part that cannot be read: said, and exit 1.
    const bad = writeConfig(`[source]\nport = ${db.port}\nuser = "root"\npassword = ""\n\n[target]\nhost = "127.0.0.1"\nport = 1\nuser = "x"\ndatabase = "x"\n`);
    const r = await runCli(["status", "--config", bad]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("unreadable: target");
    expect(r.stderr).toContain("STATUS_UNREADABLE");
  }, 180_000);

  test("--wait-caught-up: exit 0 once the last write is applied; exit 1 on timeout while the sink is stopped", async () => {
    const db = await getMariadb();
    const pg = await getTarget(dialect);
    const { name, cfg } = await copied(db, pg, "waitcu");
    const source = spawnCli(["source", "--config", cfg]);
    const sink = spawnCli(["sink", "--config", cfg]);
    try {
      await write(db, name, 200);
      const w = await runCli(["status", "--config", cfg, "--wait-caught-up", "--timeout", "90s"], { timeoutMs: 120_000 });
      expect({ code: w.code, err: w.code === 0 ? "" : w.stderr }).toEqual({ code: 0, err: "" });
      expect(w.stderr).toContain("caught up: the target has everything");
      // Everything written before the wait is on the target the moment it returns.
      expect(await count(pg, name)).toBe(200);
      expect((await sink.stop()).code).toBe(0);
      await write(db, name, 5);
      const t = await runCli(["status", "--config", cfg, "--wait-caught-up", "--timeout", "3s"], { timeoutMs: 60_000 });
      expect(t.code).toBe(1);
      expect(t.stderr).toContain("CAUGHT_UP_TIMEOUT");
      expect(t.stderr).toMatch(/sink has applied below log offset \d+, short of/);
    } finally {
      await sink.stop();
      await source.stop();
    }
  }, 180_000);

  test("cutover: refuses a writable source; read-only, it sets the sequences to the source's next id and checks; a second run changes nothing", async () => {
    const db = await getMariadb();
    const pg = await getTarget(dialect);
    const name = uniqueName("cutover");
    const c = await db.connect();
    await c.query(`CREATE DATABASE ${name}; CREATE TABLE ${name}.t (id INT AUTO_INCREMENT PRIMARY KEY, v INT)`);
    await c.query(`INSERT INTO ${name}.t (v) VALUES (1), (2)`);
    await c.query(`ALTER TABLE ${name}.t AUTO_INCREMENT = 1000`);
    await pg.createDatabase(name);
    const cfg = config(db, pg, name, journalTransport().toml);
    try {
      expect((await runCli(["copy", "--config", cfg])).code).toBe(0);
      await write(db, name, 30);
      expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);
      expect((await runCli(["sink", "--config", cfg, "--stop-at-end"])).code).toBe(0);

      const refused = await runCli(["cutover", "--config", cfg]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain("CUTOVER_SOURCE_WRITABLE");

      await c.query("SET GLOBAL read_only = ON");
      const [[next]] = (await c.query(`SELECT AUTO_INCREMENT AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${name}' AND TABLE_NAME = 't'`)) as unknown as [
        [{ n: number }],
      ];
      const r = await runCli(["cutover", "--config", cfg, "--json"], { timeoutMs: 120_000 });
      expect({ code: r.code, err: r.code === 0 ? "" : r.stderr }).toEqual({ code: 0, err: "" });
      const report = JSON.parse(r.stdout) as { changed: boolean; steps: Array<{ step: string; status: string }>; sequences: Array<{ before: string; after: string }> };
      expect(report.steps.map((s) => `${s.step} ${s.status}`)).toEqual(["read-only done", "caught-up done", "sequences done", "check done"]);
      expect(report.sequences[0]!.after).toBe(String(next.n));
      expect(report.changed).toBe(true);
      const sql = pg.sql(name);
      try {
        const [row] = await sql.unsafe(`INSERT INTO "${name}".t (v) VALUES (99) RETURNING id`);
        expect(Number(row!.id)).toBe(Number(next.n));
        await sql.unsafe(`DELETE FROM "${name}".t WHERE v = 99`);
        await sql.unsafe(`SELECT setval(pg_get_serial_sequence('"${name}".t', 'id'), ${Number(next.n)}, false)`);
      } finally {
        await sql.end();
      }
      const again = await runCli(["cutover", "--config", cfg]);
      expect({ code: again.code, err: again.code === 0 ? "" : again.stderr }).toEqual({ code: 0, err: "" });
      expect(again.stdout).toContain("sequences: unchanged");
      expect(again.stdout).toContain("nothing changed");
    } finally {
      await c.query("SET GLOBAL read_only = OFF");
      await c.end();
    }
  }, 180_000);
});
