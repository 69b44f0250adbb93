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
