// `source` under faults of the MariaDB side, through the compiled binary: a server restart and
// a killed replication thread are waited out (reconnect, resume after the last complete
// transaction, nothing lost or doubled), while a start position the server has purged stops
// the source with exit 1 naming the oldest position the server still has.
import { describe, expect, test } from "bun:test";
import type { Connection } from "mysql2/promise";
import { openJournalReader } from "../../src/transport/journal.ts";
import { currentPosition } from "../support/binlog.ts";
import { readFileSync } from "node:fs";
import { runCli, writeConfig } from "../support/cli.ts";
import { changeRows, readLog } from "../support/log.ts";
import { journalTransport, sourceConfig } from "../support/pipeline.ts";
import { getMariadb, startMariadb, type MariaDb, uniqueName } from "../support/servers.ts";
import { dumpThread, errorLine, spawnCli, until } from "./support.ts";

async function journalIds(dir: string): Promise<number[]> {
  const reader = await openJournalReader({ dir });
  try {
    return changeRows((await readLog(reader)).transactions).map((r) => Number(r.after!.id));
  } finally {
    await reader.close();
  }
}

async function insertRange(db: MariaDb, from: number, to: number): Promise<void> {
  const c = await db.connect();
  for (let i = from; i < to; i++) await c.query("INSERT INTO f.t VALUES (?, REPEAT('x', 20))", [i]);
  await c.end();
}

/** PURGE BINARY LOGS TO `file`, again until it took: MariaDB keeps a binlog until its binlog checkpoint passed it. */
async function purgeTo(c: Connection, file: string): Promise<void> {
  await until(
    `binlogs purged up to ${file}`,
    async () => {
      await c.query(`PURGE BINARY LOGS TO '${file}'`);
      const [logs] = (await c.query("SHOW BINARY LOGS")) as unknown as [Array<{ Log_name: string }>];
      return logs[0]?.Log_name === file;
    },
    30_000,
  );
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe("source: MariaDB restarts and dropped replication connections", () => {
  test("a server restart, a KILL of the replication thread and a crash are waited out; every transaction arrives once, in order", async () => {
    const db = await startMariadb();
    try {
      const c = await db.connect();
      await c.query("CREATE DATABASE f; CREATE TABLE f.t (id INT PRIMARY KEY, pad VARCHAR(40))");
      await c.end();
      const from = await currentPosition(db);
      const j = journalTransport();
      const cfg = await sourceConfig(db, "f", from, j.toml);
      const source = spawnCli(["source", "--config", cfg]);
      await insertRange(db, 0, 50);
      await until("the first 50 rows in the journal", async () => (await journalIds(j.dir)).length === 50);

      await db.restart();
      await insertRange(db, 50, 100);
      await until("100 rows after the restart", async () => (await journalIds(j.dir)).length >= 100, 60_000, 500);
      expect(source.proc.exitCode).toBeNull();

      const thread = await dumpThread(db);
      expect(thread).not.toBeNull();
      const k = await db.connect();
      await k.query(`KILL ${thread}`);
      await k.end();
      await insertRange(db, 100, 150);
      await until("150 rows after the KILL", async () => (await journalIds(j.dir)).length >= 150, 60_000, 500);

      // A crash, and the server away for a few seconds.
      process.kill(db.pid(), "SIGKILL");
      await Bun.sleep(4_000);
      await db.restart();
      await insertRange(db, 150, 200);
      await until("200 rows after the crash", async () => (await journalIds(j.dir)).length >= 200, 60_000, 500);

      const { code, stderr } = await source.stop();
      expect(code).toBe(0);
      expect(await journalIds(j.dir)).toEqual(range(0, 200));
      // Every interruption was reconnected, and the progress line said what it waited for.
      expect(stderr.match(/reconnecting in \d+ ms/g)?.length ?? 0).toBeGreaterThanOrEqual(3);
      expect(stderr).toMatch(/source: .*waiting for the source 127\.0\.0\.1:\d+ \(reconnecting, attempt \d+\)/);
      expect(stderr).not.toContain("ERROR");
      const log = await readLog(await openJournalReader({ dir: j.dir }));
      expect(log.fragments).toBe(log.aborts);
    } finally {
      await db.stop();
    }
  }, 120_000);
});

describe("source: start position purged from the server's binlogs", () => {
  test("a configured start and a resume position in purged binlogs stop with exit 1 naming the oldest available position", async () => {
    const db = await startMariadb();
    try {
      const c = await db.connect();
      await c.query("CREATE DATABASE f; CREATE TABLE f.t (id INT PRIMARY KEY, pad VARCHAR(40))");
      const from = await currentPosition(db);
      await insertRange(db, 0, 5);
      const j = journalTransport();
      const cfg = await sourceConfig(db, "f", from, j.toml);
      const first = await runCli(["source", "--config", cfg, "--stop-at-end"]);
      expect(first.code).toBe(0);
      const resumeFile = from.file;

      // The source is stopped; the server moves on and its old binlogs are purged.
      await insertRange(db, 5, 10);
      await c.query("FLUSH BINARY LOGS");
      await c.query("FLUSH BINARY LOGS");
      const [[newest]] = (await c.query("SHOW MASTER STATUS")) as unknown as [[{ File: string }]];
      await purgeTo(c, newest.File);
      await c.end();

      // 1. The restarted source would resume in a purged file.
      const resumed = await runCli(["source", "--config", cfg, "--stop-at-end"]);
      expect(resumed.code).toBe(1);
      const line = errorLine(resumed.stderr);
      if (process.env.SHOW) console.log(resumed.stderr);
      expect(line).toContain("SOURCE_POSITION_PURGED");
      expect(line).toContain(`${resumeFile}:`);
      expect(line).toContain("was purged");
      expect(line).toContain(`${newest.File}:4`);
      expect(line).toContain("new full copy");
      // Nothing was written past what the first run wrote.
      expect(await journalIds(j.dir)).toEqual(range(0, 5));

      // 2. A first run configured to start there.
      const fresh = journalTransport();
      const cfg2 = await sourceConfig(db, "f", from, fresh.toml);
      const started = await runCli(["source", "--config", cfg2, "--stop-at-end"]);
      expect(started.code).toBe(1);
      const line2 = errorLine(started.stderr);
      if (process.env.SHOW) console.log(started.stderr);
      expect(line2).toContain(`[SOURCE_POSITION_PURGED at ${from.file}:${from.pos}]`);
      expect(line2).toContain(`oldest position it can send) to`);
      expect(line2).toContain(`${newest.File}:4`);
      expect(await journalIds(fresh.dir)).toEqual([]);
    } finally {
      await db.stop();
    }
  }, 90_000);
});

describe("source: a start position the server never had (issue 14, item 5)", () => {
  test("a GTID ahead of the server and a binlog file it has not written are said to be so, not purged", async () => {
    const db = await getMariadb();
    const name = uniqueName("ahead");
    const c = await db.connect();
    await c.query(`CREATE DATABASE ${name}; CREATE TABLE ${name}.t (id INT PRIMARY KEY)`);
    const [[pos]] = (await c.query("SELECT @@global.gtid_binlog_pos AS p")) as unknown as [[{ p: string }]];
    await c.end();
    const [domain, server, seq] = pos.p.split(",")[0]!.split("-");
    const from = await currentPosition(db);
    for (const [start, said] of [
      [`gtid:${domain}-${server}-${BigInt(seq!) + 1000n}`, "the source has not written GTID"],
      ["file:binlog.999999:4", "binlog file binlog.999999 of position binlog.999999:4 does not exist on the source, which has not written it"],
    ] as const) {
      const cfg = (await sourceConfig(db, name, from, journalTransport().toml)).toString();
      const text = readFileSync(cfg, "utf8").replace(/start = "[^"]*"/, `start = "${start}"`);
      const r = await runCli(["source", "--config", writeConfig(text), "--stop-at-end"]);
      const line = errorLine(r.stderr);
      if (process.env.SHOW) console.log(r.stderr);
      expect({ start, code: r.code, unknown: line.includes("[SOURCE_POSITION_UNKNOWN"), said: line.includes(said), purge: /new full copy|purged/.test(line) }).toEqual({
        start,
        code: 1,
        unknown: true,
        said: true,
        purge: false,
      });
    }
  }, 120_000);
});
