// One SIGTERM stops a command cleanly (exit 0) also while it waits out an outage: `source`
// reconnecting to a MariaDB that is down, `sink` retrying a target that is down (at start-up
// and in the middle of applying). The wait is given up, nothing half-done is kept (the log's
// tail and the target's checkpoint say where a restart resumes), and a restart resumes there.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { BINARY, runCli, writeConfig } from "../support/cli.ts";
import { startBlackhole } from "../support/blackhole.ts";
import { journalTransport, pipelineConfig, sourceConfig } from "../support/pipeline.ts";
import { currentPosition } from "../support/binlog.ts";
import { getMariadb, getTarget, isAlive, startMariadb, TARGETS, uniqueName } from "../support/servers.ts";
import { HOT_LEDGER, hotLedger, sameRows, spawnCli, terminate, until, untilLine } from "./support.ts";

const show = (label: string, text: string) => {
  if (process.env.SHOW) console.log(`--- ${label}\n${text}`);
};

describe("SIGTERM while source waits for MariaDB", () => {
  test("in a reconnect backoff: exit 0 on one signal, and a restart resumes", async () => {
    const db = await startMariadb();
    try {
      const c = await db.connect();
      await c.query("CREATE DATABASE s; CREATE TABLE s.t (id INT PRIMARY KEY)");
      const from = await currentPosition(db);
      await c.query("INSERT INTO s.t VALUES (1), (2)");
      await c.end();
      const j = journalTransport();
      const cfg = await sourceConfig(db, "s", from, j.toml);
      const source = spawnCli(["source", "--config", cfg]);
      await untilLine(source, /source: .*caught up|source: .* behind the source/, "a progress line");
      process.kill(db.pid(), "SIGKILL");
      // Attempt 5 sleeps 8 s: the signal arrives inside a backoff.
      await untilLine(source, /reconnecting in \d+ ms \(attempt 5\)/, "the fifth reconnect attempt");
      const r = await terminate(source);
      show("source", `${r.ms} ms\n${r.stderr}`);
      expect(r.code).toBe(0);
      expect(r.stderr).not.toContain("ERROR");
      expect(r.stderr).not.toContain("again: exiting now");
      await db.restart();
      const again = await runCli(["source", "--config", cfg, "--stop-at-end"]);
      expect(again.code).toBe(0);
      expect(again.stderr).toMatch(/resuming after/);
    } finally {
      await db.stop();
    }
  }, 180_000);
});

describe.each(TARGETS)("SIGTERM while sink waits for the target (%s)", (dialect) => {
  test("at start-up and while retrying a transaction: exit 0 on one signal, nothing applied twice after", async () => {
    const db = await getMariadb();
    const pg = await getTarget(dialect);
    try {
      const name = uniqueName("tgtsig");
      const from = await hotLedger(db, pg, name);
      const j = journalTransport();
      const cfg = await pipelineConfig(db, pg, name, name, from, j.toml, "workers = 2");
      expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);

      // 1. Started while the target is down: waiting to load the checkpoint.
      await pg.crash();
      const early = spawnCli(["sink", "--config", cfg]);
      await untilLine(early, /attempt 5 of \d+/, "the fifth attempt at the checkpoint");
      const e = await terminate(early);
      show("sink at start-up", `${e.ms} ms\n${e.stderr}`);
      expect(e.code).toBe(0);
      expect(e.stderr).not.toContain("ERROR");
      await pg.start();

      // 2. Following, the target goes away under a transaction.
      const sink = spawnCli(["sink", "--config", cfg]);
      await until("the target equal to the source", () => sameRows(db, pg, name, HOT_LEDGER), 60_000, 300);
      await pg.crash();
      const c = await db.connect();
      await c.query(`INSERT INTO ${name}.ledger VALUES (1, 1), (2, 2)`);
      await c.end();
      expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);
      await untilLine(sink, /\(attempt 7 of \d+\)/, "the seventh attempt at the target");
      const s = await terminate(sink);
      show("sink following", `${s.ms} ms\n${s.stderr}`);
      expect(s.code).toBe(0);
      expect(s.stderr).not.toContain("ERROR");
      expect(s.stderr).not.toContain("again: exiting now");

      await pg.start();
      const rest = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
      expect({ code: rest.code, errors: rest.stderr.includes("ERROR") }).toEqual({ code: 0, errors: false });
      expect(await sameRows(db, pg, name, HOT_LEDGER)).toBe(true);
    } finally {
      if (pg.pid() < 0 || !isAlive(pg.pid())) await pg.start().catch(() => undefined);
    }
  }, 240_000);
});

describe("pipes and SIGHUP (issue 14, item 6)", () => {
  test("source --stdout into a pipe closed early (| head) ends quietly with exit 0; SIGHUP stops a command cleanly like SIGTERM", async () => {
    const db = await getMariadb();
    const name = uniqueName("pipe");
    const c = await db.connect();
    await c.query(`CREATE DATABASE ${name}; USE ${name}; CREATE TABLE t (id INT PRIMARY KEY, v TEXT)`);
    const from = await currentPosition(db);
    // Enough JSON lines to fill the pipe after the reader has gone.
    for (let i = 0; i < 20; i++) await c.query(`INSERT INTO ${name}.t SELECT seq + ${i * 1000}, REPEAT('x', 200) FROM seq_1_to_1000`);
    await c.end();
    const cfg = await sourceConfig(db, name, from, "");
    const at = Date.now();
    const p = Bun.spawn(["bash", "-c", `set -o pipefail; "$0" source --config "$1" --stdout --stop-at-end | head -n 1 > /dev/null`, BINARY, cfg], {
      stdout: "pipe",
      stderr: "pipe",
    });
    const timer = setTimeout(() => p.kill("SIGKILL"), 60_000);
    const [err, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
    clearTimeout(timer);
    show("source | head", `${Date.now() - at} ms, exit ${code}\n${err}`);
    expect({ code, epipe: /EPIPE|at \S+ \(/.test(err) }).toEqual({ code: 0, epipe: false });

    const j = journalTransport();
    const follow = spawnCli(["source", "--config", await sourceConfig(db, name, from, j.toml)]);
    await untilLine(follow, /source: .*caught up|source: .* behind the source/, "a progress line");
    follow.proc.kill("SIGHUP");
    const code2 = await Promise.race([follow.proc.exited, Bun.sleep(10_000).then(() => -1)]);
    const r = await follow.stop();
    show("source SIGHUP", r.stderr);
    expect({ code: code2, clean: r.stderr.includes("SIGHUP: stopping cleanly") }).toEqual({ code: 0, clean: true });
  }, 120_000);
});

describe.each(TARGETS)("a target that stops answering (%s, issue 14 item 6)", (dialect) => {
  test("connections open, no answer: one SIGTERM still stops the sink cleanly (exit 0), and a later run applies the rest exactly once", async () => {
    const db = await getMariadb();
    const pg = await getTarget(dialect);
    const name = uniqueName("blackhole");
    const from = await hotLedger(db, pg, name);
    const c = await db.connect();
    await c.query(Array.from({ length: 6000 }, (_, i) => `UPDATE ${name}.hot SET n = n + 1 WHERE id = ${i % 10}`).join(";\n"));
    await c.end();
    const proxy = await startBlackhole(pg.port);
    try {
      const j = journalTransport();
      const direct = await pipelineConfig(db, pg, name, name, from, j.toml, "workers = 2");
      const viaProxy = writeConfig(readFileSync(direct, "utf8").replace(/^port = \d+$/gm, (line) => (line === `port = ${db.port}` ? line : `port = ${proxy.port}`)));
      expect((await runCli(["source", "--config", direct, "--stop-at-end"])).code).toBe(0);
      const sink = spawnCli(["sink", "--config", viaProxy]);
      const t = pg.sql(name);
      await until("the sink to apply some updates", async () => Number((await t.unsafe(`SELECT coalesce(sum(n), 0)::int AS s FROM "${name}".hot`))[0]!.s) > 0, 60_000, 20);
      proxy.hold();
      const [held] = await t.unsafe(`SELECT sum(n)::int AS s FROM "${name}".hot`);
      show("applied when the target went silent", String(held!.s));
      await Bun.sleep(1500);
      const r = await terminate(sink);
      show("sink, target silent", `${r.ms} ms\n${r.stderr}`);
      expect({ code: r.code, clean: r.stderr.includes("SIGTERM: stopping cleanly"), again: r.stderr.includes("again: exiting now") }).toEqual({
        code: 0,
        clean: true,
        again: false,
      });
      proxy.release();
      const rest = await runCli(["sink", "--config", direct, "--stop-at-end"]);
      expect({ code: rest.code, errors: rest.stderr.includes("ERROR") }).toEqual({ code: 0, errors: false });
      expect(await sameRows(db, pg, name, HOT_LEDGER)).toBe(true);
      await t.end();
    } finally {
      proxy.close();
    }
  }, 180_000);
});
