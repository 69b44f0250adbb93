// The progress line in continuous mode: once everything is applied and the source is idle,
// source and sink say "caught up" instead of a delay that would grow with the idle time (the
// commit time of the last transaction is not a delay when nothing newer exists). A streamed
// transaction's events count as its chunks are applied (issue 14 item 3: the line said
// "0 events/s … total 0 events" for the minutes a huge transaction took).
import { describe, expect, test } from "bun:test";
import { runCli } from "../support/cli.ts";
import { journalTransport, pipelineConfig } from "../support/pipeline.ts";
import { getMariadb, getTarget, TARGETS, uniqueName } from "../support/servers.ts";
import { HOT_LEDGER, hotLedger, sameRows, spawnCli, terminate, until } from "../faults/support.ts";

function progressLines(stderr: string, who: string): string[] {
  return stderr.split("\n").filter((l) => l.includes(`${who}: `) && l.includes("events/s"));
}

describe.each(TARGETS)("progress line while idle (%s)", (dialect) => {
  test("source and sink say caught up; no delay grows while the source is idle", async () => {
    const db = await getMariadb();
    const pg = await getTarget(dialect);
    const name = uniqueName("idle");
    const from = await hotLedger(db, pg, name);
    const j = journalTransport();
    const cfg = await pipelineConfig(db, pg, name, name, from, j.toml, "workers = 2");
    const source = spawnCli(["source", "--config", cfg]);
    const sink = spawnCli(["sink", "--config", cfg]);
    await until("the target equal to the source", () => sameRows(db, pg, name, HOT_LEDGER), 60_000, 300);
    // progress_seconds = 1: three more lines each, all of them idle.
    const seen = { source: progressLines(source.stderr(), "source").length, sink: progressLines(sink.stderr(), "sink").length };
    await until(
      "three idle progress lines from each",
      () => progressLines(source.stderr(), "source").length >= seen.source + 4 && progressLines(sink.stderr(), "sink").length >= seen.sink + 4,
    );
    const so = await terminate(source);
    const si = await terminate(sink);
    if (process.env.SHOW) console.log(so.stderr, si.stderr);
    for (const [who, r, n] of [
      ["source", so, seen.source],
      ["sink", si, seen.sink],
    ] as const) {
      // The first line after may still cover the last transaction; the ones after are idle.
      const idle = progressLines(r.stderr, who).slice(n + 1, n + 4);
      expect(idle.length).toBe(3);
      for (const l of idle) {
        expect(l).toContain("caught up");
        expect(l).not.toContain("behind the source");
      }
    }
  }, 120_000);
});

describe.each(TARGETS)("progress line during a streamed transaction (%s)", (dialect) => {
  test("its events count as its chunks are applied, before it commits", async () => {
    const db = await getMariadb();
    const pg = await getTarget(dialect);
    const name = uniqueName("bigtx");
    const from = await hotLedger(db, pg, name);
    const c = await db.connect();
    // One transaction of 600,000 rows: past the assembler's LARGE_ITEMS, so streamed in chunks,
    // and long enough to apply (several seconds even on an idle PostgreSQL) for a progress line
    // (every second here) to fall inside it.
    await c.query(`INSERT INTO ${name}.ledger SELECT seq, seq % 10 FROM ${name}.seq_1_to_600000`);
    await c.end();
    const cfg = await pipelineConfig(db, pg, name, name, from, journalTransport().toml, "workers = 2");
    expect((await runCli(["source", "--config", cfg, "--stop-at-end"])).code).toBe(0);
    const sink = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
    expect(sink.code).toBe(0);
    if (process.env.SHOW) console.log(sink.stderr);
    // The totals the lines print: one of them falls inside the big transaction (the earlier
    // transactions of the setup are a handful of events).
    const totals = progressLines(sink.stderr, "sink").map((l) => Number(/total ([\d,]+) events/.exec(l)![1]!.replaceAll(",", "")));
    expect(totals.at(-1)).toBeGreaterThanOrEqual(600_000);
    expect(totals.filter((n) => n > 1000 && n < totals.at(-1)!).length).toBeGreaterThan(0);
    expect(await sameRows(db, pg, name, HOT_LEDGER)).toBe(true);
  }, 300_000);
});
