// `gs-replicate copy` end to end (issue 16): a database with existing data (sysbench tables split
// into chunks, foreign keys, a table without a primary key, several types, a view and a
// trigger) copied while sysbench and a second writer change it, then `source` and `sink` from
// the hand-over the copy left in the log: the target equals the source (`check --data`, and
// sysbench's tables compared independently), nothing made during the copy lost or doubled.
// Then kill -9 of `copy` at several points, and a rerun that finishes it.
import { describe, expect, test } from "bun:test";
import type { Subprocess } from "bun";
import { runCli } from "../support/cli.ts";
import { journalTransport } from "../support/pipeline.ts";
import { getMariadb, getTarget, TARGETS, uniqueName } from "../support/servers.ts";
import { spawnCli, until } from "../faults/support.ts";
import { config, expectEqual, otherWrites, prepare, sysbenchArgs } from "./support.ts";

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
    expect(last.stdout).toContain("copy finished: ");
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
