// Issue 14 (6) and 15 (1): a target that stops answering without closing its connections (a
// network partition, made by test/support/blackhole.ts: connections open, bytes held, no error)
// is waited out while it is short, and stops the sink with TARGET_UNRESPONSIVE once it lasts
// past [sink] unresponsive_seconds; either way nothing is lost or applied twice.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { runCli, writeConfig } from "../support/cli.ts";
import { startBlackhole } from "../support/blackhole.ts";
import { journalTransport, pipelineConfig } from "../support/pipeline.ts";
import { getMariadb, getTarget, TARGETS, uniqueName } from "../support/servers.ts";
import { HOT_LEDGER, hotLedger, sameRows, spawnCli, until } from "./support.ts";

const show = (label: string, text: string) => {
  if (process.env.SHOW) console.log(`--- ${label}\n${text}`);
};

describe.each(TARGETS)("a target that stops answering (%s)", (dialect) => {
  async function setup(sinkKeys: string) {
    const db = await getMariadb();
    const pg = await getTarget(dialect);
    const name = uniqueName("silent");
    const from = await hotLedger(db, pg, name);
    const c = await db.connect();
    await c.query(Array.from({ length: 4000 }, (_, i) => `UPDATE ${name}.hot SET n = n + 1 WHERE id = ${i % 10}`).join(";\n"));
    await c.end();
    const proxy = await startBlackhole(pg.port);
    const j = journalTransport();
    const direct = await pipelineConfig(db, pg, name, name, from, j.toml, sinkKeys);
    const viaProxy = writeConfig(readFileSync(direct, "utf8").replace(/^port = \d+$/gm, (line) => (line === `port = ${db.port}` ? line : `port = ${proxy.port}`)));
    expect((await runCli(["source", "--config", direct, "--stop-at-end"])).code).toBe(0);
    const t = pg.sql(name);
    const applied = async () => Number((await t.unsafe(`SELECT coalesce(sum(n), 0)::int AS s FROM "${name}".hot`))[0]!.s);
    /** A clean run, and every update applied exactly once. */
    const appliedOnce = async (code: number, stderr: string) => {
      expect({ code, errors: stderr.split("\n").filter((l) => l.includes("ERROR")) }).toEqual({ code: 0, errors: [] });
      expect(await sameRows(db, pg, name, HOT_LEDGER)).toBe(true);
      expect(await applied()).toBe(4000);
    };
    return { proxy, direct, viaProxy, t, applied, appliedOnce };
  }

  test("silent for a while, then answering again: waited out, every update applied once", async () => {
    const s = await setup("workers = 2\ngroup_transactions = 1\nunresponsive_seconds = 120");
    try {
      const sink = spawnCli(["sink", "--config", s.viaProxy, "--stop-at-end"]);
      await until("the sink to apply some updates", async () => (await s.applied()) > 0, 60_000, 20);
      s.proxy.hold();
      // Long enough for the sink to notice and probe (no unit finishes for 10 s).
      await until("the progress line to say the target is silent", () => /has not answered for \d+ s/.test(sink.stderr()), 60_000, 200);
      s.proxy.release();
      const code = await sink.proc.exited;
      const r = await sink.stop();
      show("sink", r.stderr);
      await s.appliedOnce(code, r.stderr);
    } finally {
      s.proxy.close();
      await s.t.end();
    }
  }, 180_000);

  test("silent past [sink] unresponsive_seconds: TARGET_UNRESPONSIVE, exit 1 within the bound; the next run applies the rest exactly once", async () => {
    const s = await setup("workers = 2\ngroup_transactions = 1\nunresponsive_seconds = 10");
    try {
      const sink = spawnCli(["sink", "--config", s.viaProxy]);
      await until("the sink to apply some updates", async () => (await s.applied()) > 0, 60_000, 20);
      s.proxy.hold();
      const at = Date.now();
      // 10 s without a finished unit, a probe of at most 10 s, the 10 s bound: well within 60 s.
      const exited = await Promise.race([sink.proc.exited, Bun.sleep(60_000).then(() => "still running")]);
      const waited = Date.now() - at;
      const r = await sink.stop();
      show("sink", `${waited} ms\n${r.stderr}`);
      expect(exited).toBe(1);
      expect(r.stderr).toMatch(/TARGET_UNRESPONSIVE/);
      expect(r.stderr).toMatch(/a new connection gets none either/);
      s.proxy.release();
      const rest = await runCli(["sink", "--config", s.direct, "--stop-at-end"]);
      await s.appliedOnce(rest.code, rest.stderr);
    } finally {
      s.proxy.close();
      await s.t.end();
    }
  }, 180_000);
});
