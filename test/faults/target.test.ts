// `sink` while its target (the shared openGauss or PostgreSQL) crashes and restarts under it: transactions in
// flight are retried whole once the target is back, the checkpoint and low-water writes wait
// too, nothing is applied twice (an insert-only ledger would break its key), and the target
// ends equal to the source.
import { describe, expect, test } from "bun:test";
import { runCli } from "../support/cli.ts";
import { journalTransport, pipelineConfig } from "../support/pipeline.ts";
import { getMariadb, getTarget, isAlive, TARGETS, uniqueName, type MariaDb } from "../support/servers.ts";
import { crashRestart, HOT_LEDGER, hotLedger, sameRows, spawnCli, until } from "./support.ts";

/** Transactions moving counters between hot rows, each with an insert into an insert-only ledger. */
async function workload(db: MariaDb, name: string, from: number, count: number): Promise<void> {
  const conns = await Promise.all(Array.from({ length: 4 }, () => db.connect()));
  await Promise.all(
    conns.map(async (c, s) => {
      for (let i = from + s; i < from + count; i += conns.length) {
        // two hot rows locked in id order, so that the source itself never deadlocks
        const [a, b] = [i % 10, (i * 7 + 3) % 10].sort((x, y) => x - y) as [number, number];
        await c.query(
          `BEGIN; UPDATE ${name}.hot SET n = n + 1 WHERE id = ${a}; UPDATE ${name}.hot SET n = n - 1 WHERE id = ${b}; INSERT INTO ${name}.ledger VALUES (${i}, ${a}); COMMIT`,
        );
      }
    }),
  );
  await Promise.all(conns.map((c) => c.end()));
}

describe.each(TARGETS)("target restarts under the sink (%s)", (dialect) => {
  test("three crashes of the target while 8 workers apply (one with the target away for 5 s): retried whole, nothing applied twice, equal at the end", async () => {
    const db = await getMariadb();
    const pg = await getTarget(dialect);
    try {
      const name = uniqueName("tgtcrash");
      const from = await hotLedger(db, pg, name);
      await workload(db, name, 0, 8_000);
      const j = journalTransport();
      const cfg = await pipelineConfig(db, pg, name, name, from, j.toml, "workers = 8\ngroup_transactions = 4");
      expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);

      const sink = spawnCli(["sink", "--config", cfg]);
      const applied = async (): Promise<number> => {
        const s = pg.sql(name);
        try {
          return Number((await s.unsafe(`SELECT count(*) AS n FROM "${name}".ledger`))[0]!.n);
        } catch {
          return -1;
        } finally {
          await s.end({ timeout: 1 }).catch(() => undefined);
        }
      };
      for (const [mark, down] of [
        [800, 0],
        [2_000, 0],
        [3_500, 5_000],
      ] as const) {
        await until(`${mark} ledger rows applied`, async () => (await applied()) >= mark, 60_000, 20).catch((e: Error) => {
          throw new Error(`${e.message}; sink stderr:\n${sink.stderr()}`);
        });
        await crashRestart(pg, down);
      }
      // More history while the sink follows.
      await workload(db, name, 8_000, 1_000);
      const src = spawnCli(["source", "--config", cfg]);
      await until("the target equal to the source", () => sameRows(db, pg, name, HOT_LEDGER), 90_000, 500);
      expect(sink.proc.exitCode).toBeNull();
      const s = await sink.stop();
      if (process.env.SHOW) console.log(s.stderr);
      const so = await src.stop();
      expect(so.code).toBe(0);
      expect(s.code).toBe(0);
      expect(s.stderr).not.toContain("ERROR");
      // It met the restarts and retried; while the target was away for 5 s the progress line said so.
      expect(s.stderr).toMatch(/retrying the whole transaction|the target is unreachable/);
      expect(s.stderr).toMatch(/sink: .*waiting for the target/);
      expect(await applied()).toBe(9_000);
    } finally {
      // The shared server must be up for the suites after this one, whatever happened here.
      if (pg.pid() < 0 || !isAlive(pg.pid())) await pg.start().catch(() => undefined);
    }
  }, 180_000);

  test("a sink started while the target is down waits for it (progress line), then loads its checkpoint and applies", async () => {
    const db = await getMariadb();
    const pg = await getTarget(dialect);
    try {
      const name = uniqueName("tgtdown");
      const from = await hotLedger(db, pg, name);
      await workload(db, name, 0, 500);
      const j = journalTransport();
      const cfg = await pipelineConfig(db, pg, name, name, from, j.toml, "workers = 4");
      expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);
      await pg.crash();
      const sink = spawnCli(["sink", "--config", cfg, "--stop-at-end"]);
      await until("the sink waiting for the target", () => /sink: .*waiting for the target \(loading the checkpoint/.test(sink.stderr()), 30_000);
      await pg.start();
      const code = await sink.proc.exited;
      const { stderr } = await sink.stop();
      expect({ code, errors: stderr.includes("ERROR") }).toEqual({ code: 0, errors: false });
      expect(stderr).toContain("loading the checkpoint: the target is unreachable");
      expect(await sameRows(db, pg, name, HOT_LEDGER)).toBe(true);
    } finally {
      // The shared server must be up for the suites after this one, whatever happened here.
      if (pg.pid() < 0 || !isAlive(pg.pid())) await pg.start().catch(() => undefined);
    }
  }, 120_000);
});
