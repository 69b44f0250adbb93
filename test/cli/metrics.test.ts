// `[metrics] listen` and `[log] format = "json"` (issue 17, items 4 and 5), through the compiled
// binary against the private MariaDB and the target: source and sink serve /metrics while a
// workload runs, the counters move by at least the rows written, positions and lag are there,
// and Prometheus's own checker (promtool, Debian package prometheus) accepts the exposition;
// without [metrics] no port is opened; with format json every stderr line is a JSON object,
// an error exit's line carrying its code.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { currentPosition } from "../support/binlog.ts";
import { runCli, writeConfig } from "../support/cli.ts";
import { journalTransport, pipelineConfig } from "../support/pipeline.ts";
import { freePort, getMariadb, getTarget, TARGETS, uniqueName, type MariaDb, type Target } from "../support/servers.ts";
import { spawnCli, terminate, until, untilLine, type Running } from "../faults/support.ts";

type Samples = Map<string, number>;

/** GET /metrics: the text, and each sample as `name{labels}` → value. */
async function scrape(port: number): Promise<{ text: string; samples: Samples; type: string | null }> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(res.status).toBe(200);
  const text = await res.text();
  const samples: Samples = new Map();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return { text, samples, type: res.headers.get("content-type") };
}

function value(s: Samples, key: string): number {
  const v = s.get(key);
  if (v === undefined) throw new Error(`no sample ${key} in: ${[...s.keys()].join(", ")}`);
  return v;
}

/** A sample whose name (labels aside) is `name`. */
function some(s: Samples, name: string): number | undefined {
  for (const [k, v] of s) if (k === name || k.startsWith(`${name}{`)) return v;
  return undefined;
}

function promtool(text: string): { code: number; out: string } {
  const r = Bun.spawnSync(["promtool", "check", "metrics"], { stdin: new TextEncoder().encode(text), stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode, out: `${r.stdout.toString()}${r.stderr.toString()}` };
}

/** TCP sockets in LISTEN state that process `pid` holds (its fds against /proc/net/tcp{,6}). */
function listeningSockets(pid: number): number {
  const mine = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) mine.add(m[1]!);
    } catch {}
  }
  let n = 0;
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const row of readFileSync(table, "utf8").split("\n").slice(1)) {
      const f = row.trim().split(/\s+/);
      if (f[3] === "0A" && mine.has(f[9]!)) n++;
    }
  }
  return n;
}

async function tables(db: MariaDb, pg: Target, name: string): Promise<void> {
  await pg.createDatabase(name);
  const c = await db.connect();
  await c.query(`CREATE DATABASE ${name}; CREATE TABLE ${name}.t (id INT PRIMARY KEY, v VARCHAR(40))`);
  await c.end();
  const sql = pg.sql(name);
  await sql.unsafe(`CREATE SCHEMA "${name}"; CREATE TABLE "${name}".t (id int PRIMARY KEY, v varchar(40))`);
  await sql.end();
}

async function insert(db: MariaDb, name: string, from: number, to: number): Promise<void> {
  const c = await db.connect();
  for (let i = from; i < to; i++) await c.query(`INSERT INTO ${name}.t VALUES (${i}, 'row ${i}')`);
  await c.end();
}

/** The pipeline's configuration with `extra` appended (another [metrics] per process), and `[log] format = "json"` when asked. */
function withSection(cfg: string, extra: string, json = false): string {
  const text = readFileSync(cfg, "utf8");
  return writeConfig(`${json ? text.replace("[log]\n", '[log]\nformat = "json"\n') : text}\n${extra}\n`);
}

describe.each(TARGETS)("[metrics] on source and sink → %s", (dialect) => {
  test("counters move by at least the rows written; positions, lag, queue, process metrics present; promtool accepts both", async () => {
    const db = await getMariadb();
    const pg = await getTarget(dialect);
    const name = uniqueName("metrics");
    await tables(db, pg, name);
    const from = await currentPosition(db);
    const j = journalTransport();
    const cfg = await pipelineConfig(db, pg, name, name, from, j.toml, "workers = 2");
    const [sourcePort, sinkPort] = [await freePort(), await freePort()];
    const runs: Running[] = [];
    try {
      const source = spawnCli(["source", "--config", withSection(cfg, `[metrics]\nlisten = "127.0.0.1:${sourcePort}"`)]);
      const sink = spawnCli(["sink", "--config", withSection(cfg, `[metrics]\nlisten = ":${sinkPort}"`)]);
      runs.push(source, sink);
      await untilLine(source, new RegExp(`metrics: serving http://127\\.0\\.0\\.1:${sourcePort}/metrics`), "the source's metrics server");
      await untilLine(sink, new RegExp(`metrics: serving http://127\\.0\\.0\\.1:${sinkPort}/metrics`), "the sink's metrics server");
      // One process, one listening socket: the metrics server.
      expect(listeningSockets(source.proc.pid)).toBe(1);
      const s1 = await scrape(sourcePort);
      const k1 = await scrape(sinkPort);
      expect(s1.type).toBe("text/plain; version=0.0.4; charset=utf-8");

      const ROWS = 60;
      await insert(db, name, 0, ROWS);
      let k2 = k1;
      await until(
        `the sink's metrics to count ${ROWS} applied transactions`,
        async () => {
          k2 = await scrape(sinkPort);
          return (some(k2.samples, "gs_replicate_sink_transactions_applied_total") ?? 0) >= ROWS;
        },
        60_000,
        300,
      );
      const s2 = await scrape(sourcePort);
      const grew = (a: Samples, b: Samples, key: string) => value(b, key) - (a.get(key) ?? 0);

      // source: read from the binlog and appended to the log
      expect(grew(s1.samples, s2.samples, "gs_replicate_source_events_read_total")).toBeGreaterThanOrEqual(ROWS);
      expect(grew(s1.samples, s2.samples, "gs_replicate_source_transactions_read_total")).toBeGreaterThanOrEqual(ROWS);
      expect(grew(s1.samples, s2.samples, "gs_replicate_source_events_written_total")).toBeGreaterThanOrEqual(ROWS);
      expect(grew(s1.samples, s2.samples, "gs_replicate_source_transactions_written_total")).toBeGreaterThanOrEqual(ROWS);
      expect(grew(s1.samples, s2.samples, "gs_replicate_source_records_written_total")).toBeGreaterThanOrEqual(3 * ROWS); // Begin, row, End
      expect(grew(s1.samples, s2.samples, "gs_replicate_source_bytes_written_total")).toBeGreaterThan(ROWS * 10);
      expect(grew(s1.samples, s2.samples, "gs_replicate_source_binlog_bytes_read_total")).toBeGreaterThan(ROWS * 30);
      // sink: read from the log and applied
      expect(grew(k1.samples, k2.samples, "gs_replicate_sink_events_applied_total")).toBeGreaterThanOrEqual(ROWS);
      expect(grew(k1.samples, k2.samples, "gs_replicate_sink_events_read_total")).toBeGreaterThanOrEqual(ROWS);
      expect(grew(k1.samples, k2.samples, "gs_replicate_sink_transactions_read_total")).toBeGreaterThanOrEqual(ROWS);
      expect(grew(k1.samples, k2.samples, "gs_replicate_sink_records_read_total")).toBeGreaterThanOrEqual(3 * ROWS);
      expect(grew(k1.samples, k2.samples, "gs_replicate_sink_bytes_read_total")).toBeGreaterThan(ROWS * 10);

      // Where each is: the binlog file's number and position (the source's own name: mariadb-bin.000N), the GTID's sequence number.
      const now = await currentPosition(db);
      const fileNumber = Number(/\.(\d+)$/.exec(now.file)![1]);
      for (const [s, who] of [
        [s2.samples, "source"],
        [k2.samples, "sink"],
      ] as const) {
        expect(value(s, `gs_replicate_${who}_binlog_file_number`)).toBe(fileNumber);
        expect(value(s, `gs_replicate_${who}_binlog_position_bytes`)).toBeGreaterThan(from.pos);
        expect(value(s, `gs_replicate_${who}_binlog_position_bytes`)).toBeLessThanOrEqual(now.pos);
        expect(some(s, `gs_replicate_${who}_gtid_sequence_number`)).toBeGreaterThan(0);
        const lag = value(s, `gs_replicate_${who}_lag_seconds`);
        expect(lag).toBeGreaterThanOrEqual(0);
        expect(lag).toBeLessThan(60);
        expect(value(s, "process_resident_memory_bytes")).toBeGreaterThan(10 << 20);
        expect(Math.abs(value(s, "process_start_time_seconds") - Date.now() / 1000)).toBeLessThan(300);
        expect(value(s, `gs_replicate_info{command="${who}",version="${(await import("../../package.json")).version}"}`)).toBe(1);
      }
      // Both at the same, last transaction once the sink caught up.
      expect(value(k2.samples, "gs_replicate_sink_binlog_position_bytes")).toBe(value(s2.samples, "gs_replicate_source_binlog_position_bytes"));
      expect(value(k2.samples, "gs_replicate_sink_workers")).toBe(2);
      expect(value(k2.samples, "gs_replicate_sink_workers_busy")).toBeGreaterThanOrEqual(0);
      expect(value(k2.samples, "gs_replicate_sink_queue_depth")).toBeGreaterThanOrEqual(0);
      // Caught up: 0 s behind, as the progress line says "caught up" (once the sink's log end is known).
      await until("the sink's lag at 0 once caught up", async () => value((await scrape(sinkPort)).samples, "gs_replicate_sink_lag_seconds") === 0, 20_000, 300);

      for (const text of [s1.text, s2.text, k1.text, k2.text]) {
        const checked = promtool(text);
        expect(checked.out).toBe("");
        expect(checked.code).toBe(0);
      }
      expect((await fetch(`http://127.0.0.1:${sinkPort}/`)).status).toBe(404);

      // The port goes with the process.
      for (const r of runs) expect((await terminate(r)).code).toBe(0);
      expect(
        await fetch(`http://127.0.0.1:${sourcePort}/metrics`).then(
          () => "answered",
          () => "refused",
        ),
      ).toBe("refused");
    } finally {
      for (const r of runs) if (r.proc.exitCode === null) await r.stop();
    }
  }, 180_000);
});

describe("[metrics]: retries, waits and errors", () => {
  test("a source whose server is unreachable counts its restarts by cause and its errors by code, and shows the wait", async () => {
    const j = journalTransport();
    const [dead, port] = [await freePort(), await freePort()];
    const cfg = writeConfig(`[source]\nport = ${dead}\nuser = "root"\n\n${j.toml}\n\n[metrics]\nlisten = "${port}"\n`);
    const source = spawnCli(["source", "--config", cfg]);
    try {
      await untilLine(source, /restarting from the log's tail in \d+ ms \(attempt 2 of/, "the second restart");
      const { samples, text } = await scrape(port);
      expect(value(samples, 'gs_replicate_retries_total{cause="restart"}')).toBeGreaterThanOrEqual(2);
      expect(value(samples, 'gs_replicate_errors_total{code="SOURCE_CONNECTION"}')).toBeGreaterThanOrEqual(2);
      expect(value(samples, 'gs_replicate_waiting{cause="restart"}')).toBe(1);
      expect(value(samples, 'gs_replicate_waits_total{cause="restart"}')).toBeGreaterThanOrEqual(1);
      // Nothing read: the counters are there, at 0; no position yet, and no sink metric in a source.
      expect(value(samples, "gs_replicate_source_events_read_total")).toBe(0);
      expect(some(samples, "gs_replicate_source_binlog_position_bytes")).toBeUndefined();
      expect(text).not.toContain("gs_replicate_sink_");
      expect(promtool(text).code).toBe(0);
    } finally {
      expect((await terminate(source)).code).toBe(0);
    }
  }, 60_000);
});

describe("[metrics] off by default; [log] format = json", () => {
  test("without [metrics] source opens no port", async () => {
    const db = await getMariadb();
    const name = uniqueName("nometrics");
    const c = await db.connect();
    await c.query(`CREATE DATABASE ${name}; CREATE TABLE ${name}.t (id INT PRIMARY KEY, v VARCHAR(40))`);
    await c.end();
    const from = await currentPosition(db);
    const j = journalTransport();
    const cfg = writeConfig(
      `[source]\nport = ${db.port}\nuser = "root"\npassword = ""\ndatabases = ["${name}"]\nstart = "file:${from.file}:${from.pos}"\n\n${j.toml}\n\n[log]\nprogress_seconds = 1\n`,
    );
    const source = spawnCli(["source", "--config", cfg]);
    try {
      await untilLine(source, /source: .*caught up/, "the source's progress line");
      await insert(db, name, 0, 5);
      await untilLine(source, /total 5 events/, "the rows read");
      expect(listeningSockets(source.proc.pid)).toBe(0);
      expect(source.stderr()).not.toContain("metrics");
    } finally {
      expect((await terminate(source)).code).toBe(0);
    }
  }, 60_000);

  test("format json: every stderr line is a JSON object with time, level, message; progress lines carry the position, an error exit its code", async () => {
    const db = await getMariadb();
    const pg = await getTarget(TARGETS[0]!);
    const name = uniqueName("jsonlog");
    await tables(db, pg, name);
    const from = await currentPosition(db);
    await insert(db, name, 0, 10);
    const j = journalTransport();
    const port = await freePort();
    const base = await pipelineConfig(db, pg, name, name, from, j.toml);
    const cfg = withSection(base, `[metrics]\nlisten = "127.0.0.1:${port}"`, true);
    const lines = (stderr: string) => {
      const out = stderr
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => {
          let parsed: Record<string, unknown>;
          try {
            parsed = JSON.parse(l);
          } catch {
            throw new Error(`not a JSON line: ${l}`);
          }
          expect(typeof parsed.message).toBe("string");
          expect(["error", "warn", "info", "debug"]).toContain(parsed.level as string);
          expect(new Date(parsed.time as string).toISOString()).toBe(parsed.time as string);
          return parsed;
        });
      expect(out.length).toBeGreaterThan(0);
      return out;
    };
    const source = await runCli(["source", "--config", cfg, "--stop-at-end"]);
    expect(source.code).toBe(0);
    const progress = lines(source.stderr).filter((l) => String(l.message).startsWith("source: "));
    expect(progress.at(-1)!.position).toMatch(/^\d+-\d+-\d+$/);
    const sink = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
    expect(sink.code).toBe(0);
    expect(lines(sink.stderr).some((l) => String(l.message).startsWith("sink: ") && typeof l.position === "string")).toBe(true);

    // Errors: the metrics port already taken (by a sink still running), and a start position the server never wrote.
    const holder = spawnCli(["sink", "--config", cfg]);
    try {
      await untilLine(holder, /metrics: serving/, "the first sink's metrics server");
      const taken = await runCli(["source", "--config", cfg, "--stop-at-end"]);
      expect(taken.code).toBe(2);
      const last = lines(taken.stderr).at(-1)!;
      expect(last).toMatchObject({ level: "error", code: "METRICS_LISTEN", where: "metrics.listen" });
    } finally {
      expect((await terminate(holder)).code).toBe(0);
    }
    const j2 = journalTransport();
    const unknown = withSection(await pipelineConfig(db, pg, name, name, { file: from.file.replace(/\d+$/, "999999"), pos: 4 }, j2.toml), "", true);
    const failed = await runCli(["source", "--config", unknown, "--stop-at-end"]);
    expect(failed.code).toBe(1);
    const error = lines(failed.stderr).find((l) => l.level === "error")!;
    expect(error.code).toMatch(/^SOURCE_POSITION_(UNKNOWN|PURGED)$/);
    expect(String(error.message)).toContain(`[${error.code}`);
  }, 120_000);
});
