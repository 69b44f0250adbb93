// Two sinks on one target database must never both apply: the checkpoint there is one, and two
// readers of it would apply the same transactions twice. The first sink holds a lock in the
// target for its lifetime; a second one stops at once with SINK_ALREADY_RUNNING, before it
// reads or applies anything. The lock is the server's: a sink killed with -9 leaves none behind.
import { describe, expect, test } from "bun:test";
import { runCli } from "../support/cli.ts";
import { journalTransport, pipelineConfig } from "../support/pipeline.ts";
import { getMariadb, getTarget, TARGETS, uniqueName } from "../support/servers.ts";
import { errorLine, HOT_LEDGER, hotLedger, sameRows, spawnCli, terminate, until } from "./support.ts";

describe.each(TARGETS)("two sinks on one target (%s)", (dialect) => {
  test("the second stops at once with SINK_ALREADY_RUNNING; after kill -9 of the first a new one runs", async () => {
    const db = await getMariadb();
    const pg = await getTarget(dialect);
    const name = uniqueName("twosinks");
    const from = await hotLedger(db, pg, name);
    const j = journalTransport();
    const cfg = await pipelineConfig(db, pg, name, name, from, j.toml, "workers = 2");
    expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);
    const first = spawnCli(["sink", "--config", cfg]);
    await until("the target equal to the source", () => sameRows(db, pg, name, HOT_LEDGER), 60_000, 300);

    // More to apply, so that a second sink that did not stop would apply it too.
    const c = await db.connect();
    for (let i = 0; i < 50; i++) await c.query(`INSERT INTO ${name}.ledger VALUES (${i}, ${i % 10})`);
    await c.end();
    expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);

    for (const args of [["--stop-at-end"], []]) {
      const at = Date.now();
      const second = await runCli(["sink", "--config", cfg, ...args], { timeoutMs: 60_000 });
      const line = errorLine(second.stderr);
      if (process.env.SHOW) console.log(`${Date.now() - at} ms\n${second.stderr}`);
      expect({ code: second.code, line }).toEqual({ code: 1, line: expect.stringContaining("[SINK_ALREADY_RUNNING at ") as unknown as string });
      expect(line).toContain("another gs-replicate sink");
      expect(second.stderr).not.toMatch(/DDL applied|was already applied/);
    }
    await until("the target equal to the source", () => sameRows(db, pg, name, HOT_LEDGER), 60_000, 300);

    first.proc.kill("SIGKILL");
    await first.proc.exited;
    const third = await runCli(["sink", "--config", cfg, "--stop-at-end"], { timeoutMs: 120_000 });
    expect({ code: third.code, errors: third.stderr.includes("ERROR") }).toEqual({ code: 0, errors: false });
    expect(await sameRows(db, pg, name, HOT_LEDGER)).toBe(true);
    await terminate(first);
  }, 180_000);
});

// Issue 14 (1): the operator's mistake as tried there, many rounds under update-only load (each
// change an after-image of a hot row, so a stale one applied late is a lost update): two sinks
// started together, and a running sink whose lock session is killed while another starts.
// Whoever wins, the other stops with SINK_ALREADY_RUNNING, and the target ends equal to the
// source. `GSR_ROUNDS=N` runs more rounds.
const ROUNDS = Number(process.env.GSR_ROUNDS ?? 2);
const UPDATES = 1500;

describe.each(TARGETS)("two sinks at once, many rounds (%s)", (dialect) => {
  test(`${ROUNDS} rounds: started together, one refuses; lock session killed mid-apply, one stops; no update lost`, async () => {
    const db = await getMariadb();
    const pg = await getTarget(dialect);
    const admin = pg.sql("postgres");
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const name = uniqueName(`twosinks${round}`);
        const from = await hotLedger(db, pg, name);
        const c = await db.connect();
        await c.query(Array.from({ length: UPDATES }, (_, i) => `UPDATE ${name}.hot SET n = n + 1 WHERE id = ${i % 10}`).join(";\n"));
        await c.end();
        const cfg = await pipelineConfig(db, pg, name, name, from, journalTransport().toml, "workers = 4");
        expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);

        // Started together: exactly one runs.
        const pair = [spawnCli(["sink", "--config", cfg, "--stop-at-end"]), spawnCli(["sink", "--config", cfg, "--stop-at-end"])];
        await Promise.race([Promise.all(pair.map((p) => p.proc.exited)), Bun.sleep(120_000)]);
        const results = await Promise.all(pair.map(async (p) => p.stop().then((r) => ({ code: r.code, line: errorLine(r.stderr) }))));
        const refused = results.filter((r) => r.code === 1 && r.line.includes("[SINK_ALREADY_RUNNING"));
        expect({ round, refused: refused.length, ok: results.filter((r) => r.code === 0).length }).toEqual({ round, refused: 1, ok: 1 });
        expect(await sameRows(db, pg, name, HOT_LEDGER)).toBe(true);

        // More updates; a running sink loses its lock session while another starts.
        const c2 = await db.connect();
        await c2.query(Array.from({ length: UPDATES }, (_, i) => `UPDATE ${name}.hot SET n = n + 1 WHERE id = ${i % 10}`).join(";\n"));
        await c2.end();
        expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);
        const first = spawnCli(["sink", "--config", cfg]);
        const t = pg.sql(name);
        await until("the first sink to apply some updates", async () => Number((await t.unsafe(`SELECT coalesce(sum(n), 0)::int AS s FROM "${name}".hot`))[0]!.s) > UPDATES + 100, 60_000, 50);
        await admin.unsafe(`SELECT pg_terminate_backend(l.pid) FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 1735619173 AND l.objid = 1886169443`);
        const second = spawnCli(["sink", "--config", cfg]);
        await until("the target equal to the source", () => sameRows(db, pg, name, HOT_LEDGER), 120_000, 300);
        await Bun.sleep(1500);
        const [a, b] = [await first.stop(), await second.stop()];
        await t.end();
        const stopped = [a, b].filter((r) => errorLine(r.stderr).includes("[SINK_ALREADY_RUNNING"));
        expect({ round, stopped: stopped.length, codes: [a.code, b.code].sort() }).toEqual({ round, stopped: 1, codes: [0, 1] });
        expect(await sameRows(db, pg, name, HOT_LEDGER)).toBe(true);
        // Nothing left half-done: a sink run to the end changes nothing.
        const last = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
        expect({ code: last.code, errors: last.stderr.includes("ERROR") }).toEqual({ code: 0, errors: false });
        expect(await sameRows(db, pg, name, HOT_LEDGER)).toBe(true);
      }
    } finally {
      await admin.end();
    }
  }, 600_000);
});
