// Faults that waiting cannot cure stop with exit 1, a message saying what happened and what the
// operator can do, and the position kept: records that left the Kafka topic, a journal that
// was replaced, deleted journal segments, a full disk under the journal, a checkpoint dropped
// by hand. None of them applies or writes anything from a wrong place.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openJournalReader } from "../../src/transport/journal.ts";
import { currentPosition } from "../support/binlog.ts";
import { runCli, type CliResult } from "../support/cli.ts";
import { changeRows, readLog } from "../support/log.ts";
import { pipelineConfig } from "../support/pipeline.ts";
import { getKafka, getMariadb, getTarget, TARGETS, uniqueName, type MariaDb, type Target, type TargetDialect } from "../support/servers.ts";
import { errorLine, sameRows } from "./support.ts";

const PAD = 2_400;
const T = [["t", "id, pad", "id, pad"]] as const;

interface Pair {
  db: MariaDb;
  pg: Target;
  name: string;
}

/** Database `name` with table t on both sides. */
async function pair(dialect: TargetDialect, prefix: string): Promise<Pair> {
  const db = await getMariadb();
  const pg = await getTarget(dialect);
  const name = uniqueName(prefix);
  await pg.createDatabase(name);
  const c = await db.connect();
  await c.query(`CREATE DATABASE ${name}; CREATE TABLE ${name}.t (id INT PRIMARY KEY, pad VARCHAR(${PAD}))`);
  await c.end();
  const sql = pg.sql(name);
  await sql.unsafe(`CREATE SCHEMA "${name}"; CREATE TABLE "${name}".t (id int PRIMARY KEY, pad varchar(${PAD}))`);
  await sql.end();
  return { db, pg, name };
}

/** Rows from..to-1, `perTx` to a transaction, each padded to `pad` bytes. */
async function insert(p: Pair, from: number, to: number, perTx = 1, pad = 20): Promise<void> {
  const c = await p.db.connect();
  for (let i = from; i < to; i += perTx) {
    const values = Array.from({ length: Math.min(perTx, to - i) }, (_, k) => `(${i + k}, REPEAT('${String.fromCharCode(97 + ((i + k) % 26))}', ${pad}))`);
    await c.query(`INSERT INTO ${p.name}.t VALUES ${values.join(", ")}`);
  }
  await c.end();
}

async function targetIds(p: Pair): Promise<number[]> {
  const sql = p.pg.sql(p.name);
  try {
    return [...(await sql.unsafe(`SELECT id FROM "${p.name}".t ORDER BY id`))].map((r) => Number(r.id));
  } finally {
    await sql.end();
  }
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

function journal(segmentMib?: number): { dir: string; toml: string } {
  const dir = join(mkdtempSync(join(tmpdir(), "gsr-faults-")), "j");
  return { dir, toml: `[transport]\nkind = "journal"\n[transport.journal]\ndir = "${dir}"${segmentMib ? `\nsegment_mib = ${segmentMib}` : ""}` };
}

async function ok(args: string[]): Promise<CliResult> {
  const r = await runCli(args, { timeoutMs: 120_000 });
  if (r.code !== 0 || r.stderr.includes("ERROR")) throw new Error(`gs-replicate ${args[0]} exited ${r.code}:\n${r.stderr}`);
  return r;
}

/** Exit 1 with an error line carrying `code`; returns that line. */
function stopped(r: CliResult, code: string): string {
  const line = errorLine(r.stderr);
  if (process.env.SHOW) console.log(line);
  expect({ exit: r.code, line }).toEqual({ exit: 1, line: expect.stringContaining(`[${code}`) as unknown as string });
  return line;
}

describe.each(TARGETS)("the log lost records under the sink (%s)", (dialect) => {
  test("Kafka retention deleted records the sink has not applied: SINK_LOG_GAP naming the offsets, nothing applied past the checkpoint", async () => {
    const p = await pair(dialect, "gapk");
    const kafka = getKafka();
    const topic = uniqueName("gaptopic");
    kafka.createTopic(topic, 1);
    const transport = `[transport]\nkind = "kafka"\n[transport.kafka]\nbrokers = ["${kafka.bootstrap}"]\ntopic = "${topic}"\ngroup_id = "${topic}_sink"`;
    const cfg = await pipelineConfig(p.db, p.pg, p.name, p.name, await currentPosition(), transport, "workers = 2");
    await insert(p, 0, 20);
    await ok(["source", "--config", cfg, "--stop-at-end"]);
    await ok(["sink", "--config", cfg, "--stop-at-end"]);
    // While the sink is stopped, more than the topic keeps (the mock: 5 MiB) is written.
    await insert(p, 20, 3_020, 50, PAD);
    await ok(["source", "--config", cfg, "--stop-at-end"]);
    const r = await runCli(["sink", "--config", cfg, "--stop-at-end"]);
    const line = stopped(r, "SINK_LOG_GAP");
    expect(line).toMatch(new RegExp(`Kafka topic "${topic}" no longer holds offset \\d+: the earliest offset available is [1-9]\\d*`));
    expect(line).toContain("re-synchronise the target");
    expect(await targetIds(p)).toEqual(range(0, 20));
  }, 120_000);

  test("a journal replaced by a new one: shorter or longer than the checkpoint, SINK_LOG_GAP and nothing applied", async () => {
    const p = await pair(dialect, "gapj");
    const j = journal();
    const cfg = await pipelineConfig(p.db, p.pg, p.name, p.name, await currentPosition(), j.toml, "workers = 2");
    await insert(p, 0, 30);
    await ok(["source", "--config", cfg, "--stop-at-end"]);
    await ok(["sink", "--config", cfg, "--stop-at-end"]);

    // The journal is deleted and a new source run starts a new one from the current position.
    rmSync(j.dir, { recursive: true, force: true });
    const cfg2 = await pipelineConfig(p.db, p.pg, p.name, p.name, await currentPosition(), j.toml, "workers = 2");
    await insert(p, 30, 33);
    await ok(["source", "--config", cfg2, "--stop-at-end"]);
    const short = stopped(await runCli(["sink", "--config", cfg2, "--stop-at-end"]), "SINK_LOG_GAP");
    expect(short).toMatch(/the log ends at offset \d+, but the target's checkpoint says every transaction below offset \d+ was applied/);
    expect(short).toContain("replaced or cut");

    // The new journal grows past the checkpoint's offset: the record there is not the one the checkpoint names.
    await insert(p, 33, 133);
    await ok(["source", "--config", cfg2, "--stop-at-end"]);
    const long = stopped(await runCli(["sink", "--config", cfg2, "--stop-at-end"]), "SINK_LOG_GAP");
    expect(long).toContain("the log does not match the target's checkpoint");
    expect(long).toContain("restore it, or start a fresh migration");
    expect(await targetIds(p)).toEqual(range(0, 30));
  }, 120_000);

  test("deleted journal segments: JOURNAL_CORRUPT naming the missing file and offsets", async () => {
    const p = await pair(dialect, "seg");
    const j = journal(1);
    const cfg = await pipelineConfig(p.db, p.pg, p.name, p.name, await currentPosition(), j.toml, "workers = 2");
    // 1 MiB segments; a segment rolls at the first append once full, so five runs of about
    // 1.2 MB each make five segments.
    for (let round = 0; round < 5; round++) {
      await insert(p, round * 500, (round + 1) * 500, 20, PAD);
      await ok(["source", "--config", cfg, "--stop-at-end"]);
    }
    const segs = readdirSync(j.dir)
      .filter((f) => f.endsWith(".seg"))
      .sort();
    expect(segs.length).toBeGreaterThanOrEqual(4);

    rmSync(join(j.dir, segs[2]!));
    const middle = stopped(await runCli(["sink", "--config", cfg, "--stop-at-end"]), "JOURNAL_CORRUPT");
    expect(middle).toContain(join(j.dir, segs[2]!));
    expect(middle).toContain(`offsets ${Number(segs[2]!.slice(0, 20))} to ${Number(segs[3]!.slice(0, 20)) - 1} are missing`);
    expect(middle).toContain("put the deleted segment files back");
    // The sink stops at the gap. Workers commit independent transactions out of order, so what
    // is applied need not be a prefix, but it is a set of distinct inserted rows and not all of
    // them: what lies after the gap was never read.
    const applied = await targetIds(p);
    expect(new Set(applied).size).toBe(applied.length);
    expect(applied.every((id) => id >= 0 && id < 2_500)).toBe(true);
    expect(applied.length).toBeLessThan(2_500);

    rmSync(join(j.dir, segs[0]!));
    const first = stopped(await runCli(["sink", "--config", cfg, "--stop-at-end"]), "JOURNAL_CORRUPT");
    expect(first).toContain(`its oldest segment ${segs[1]}`);
    expect(first).toContain("was deleted");
    expect(await targetIds(p)).toEqual(applied);
  }, 120_000);
});

/** Byte positions of the frames of a journal segment (its layout: src/transport/journal.ts). */
function framesOf(seg: string): Array<{ at: number; end: number }> {
  const b = readFileSync(seg);
  const out: Array<{ at: number; end: number }> = [];
  for (let p = 16; p + 8 <= b.length;) {
    const end = p + 8 + b.readUInt32LE(p);
    out.push({ at: p, end });
    p = end;
  }
  return out;
}

/** Flips one bit of the byte at `pos` of `file` (calling it again puts the byte back). */
function flip(file: string, pos: number): void {
  const b = readFileSync(file);
  b[pos] = (b[pos] ?? 0) ^ 0x10;
  writeFileSync(file, b);
}

describe.each(TARGETS)("a damaged journal (%s, issue 14 item 4)", (dialect) => {
  test("a flipped byte in a synced record stops source and sink with JOURNAL_CORRUPT, nothing discarded; a torn tail after the last sync is cut with JOURNAL_TORN_TAIL", async () => {
    const p = await pair(dialect, "jdmg");
    const j = journal();
    const cfg = await pipelineConfig(p.db, p.pg, p.name, p.name, await currentPosition(), j.toml, "workers = 2");
    await insert(p, 0, 20);
    await ok(["source", "--config", cfg, "--stop-at-end"]);
    const segs = readdirSync(j.dir)
      .filter((f) => f.endsWith(".seg"))
      .sort();
    const seg = join(j.dir, segs.at(-1)!);
    const size = statSync(seg).size;
    // The last record source wrote (synced: it ended cleanly), damaged inside its value.
    const last = framesOf(seg).at(-1)!;
    const at = last.end - 3;
    flip(seg, at);

    const sink = stopped(await runCli(["sink", "--config", cfg, "--stop-at-end"]), "JOURNAL_CORRUPT");
    const source = stopped(await runCli(["source", "--config", cfg, "--stop-at-end"]), "JOURNAL_CORRUPT");
    for (const line of [sink, source]) {
      expect(line).toContain(`journal segment ${seg} is damaged at byte ${last.at}`);
      expect(line).toContain("in records the writer had synced");
      expect(line).toContain("restore the journal directory from a copy");
    }
    expect(statSync(seg).size).toBe(size);

    // Restored (the byte put back, as a copy would): nothing was lost, both go on.
    flip(seg, at);
    await insert(p, 20, 30);
    await ok(["source", "--config", cfg, "--stop-at-end"]);
    await ok(["sink", "--config", cfg, "--stop-at-end"]);
    expect(await targetIds(p)).toEqual(range(0, 30));

    // Half a record after the last sync (a crash mid-write): cut by the next source start, logged.
    const synced = statSync(seg).size;
    const torn = readFileSync(seg).subarray(framesOf(seg).at(-1)!.at, synced);
    writeFileSync(seg, torn.subarray(0, torn.length - 5), { flag: "a" });
    await insert(p, 30, 35);
    const repaired = await ok(["source", "--config", cfg, "--stop-at-end"]);
    expect(repaired.stderr).toContain(`[JOURNAL_TORN_TAIL at ${seg} byte ${synced}]`);
    await ok(["sink", "--config", cfg, "--stop-at-end"]);
    expect(await targetIds(p)).toEqual(range(0, 35));
    expect(await sameRows(p.db, p.pg, p.name, T)).toBe(true);
  }, 180_000);
});

// ENOSPC needs a small filesystem: a tmpfs, which only root with CAP_SYS_ADMIN may mount.
// Probed once, so that where it cannot run the test is reported as skipped, not passed.
const canMount = (() => {
  if (process.getuid?.() !== 0 || process.platform !== "linux") return false;
  const probe = mkdtempSync(join(tmpdir(), "gsr-mount-probe-"));
  const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", probe]).status === 0;
  if (mounted) spawnSync("umount", [probe]);
  rmSync(probe, { recursive: true, force: true });
  return mounted;
})();

describe.each(TARGETS)("disk full under the journal (%s)", (dialect) => {
  test.skipIf(!canMount)(
    "source stops with JOURNAL_IO (ENOSPC, what to do); after space is freed it resumes with nothing lost or doubled",
    async () => {
      const p = await pair(dialect, "enospc");
      const mnt = mkdtempSync(join(tmpdir(), "gsr-enospc-"));
      expect(spawnSync("mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", mnt]).status).toBe(0);
      try {
        const dir = join(mnt, "j");
        const transport = `[transport]\nkind = "journal"\n[transport.journal]\ndir = "${dir}"`;
        const cfg = await pipelineConfig(p.db, p.pg, p.name, p.name, await currentPosition(), transport, "workers = 2");
        await insert(p, 0, 400, 4, 1_000); // about 500 KB of events
        const full = await runCli(["source", "--config", cfg, "--stop-at-end"]);
        const line = stopped(full, "JOURNAL_IO");
        expect(line).toContain("ENOSPC");
        expect(line).toContain("the filesystem is full: free space");
        expect(line).toContain(dir);

        expect(spawnSync("mount", ["-o", "remount,size=16m", mnt]).status).toBe(0);
        await ok(["source", "--config", cfg, "--stop-at-end"]);
        const log = await readLog(await openJournalReader({ dir }));
        expect(changeRows(log.transactions).map((r) => Number(r.after!.id))).toEqual(range(0, 400));
        expect(log.fragments).toBe(log.aborts);
        await ok(["sink", "--config", cfg, "--stop-at-end"]);
        expect(await sameRows(p.db, p.pg, p.name, T)).toBe(true);
      } finally {
        spawnSync("umount", [mnt]);
        rmSync(mnt, { recursive: true, force: true });
      }
    },
    120_000,
  );
});

describe.each(TARGETS)("checkpoint dropped by hand (%s)", (dialect) => {
  test("DROP SCHEMA gs_replicate CASCADE: the sink stops instead of replaying the log onto the data; a fresh migration as the message says works", async () => {
    const p = await pair(dialect, "ckdrop");
    const j = journal();
    const cfg = await pipelineConfig(p.db, p.pg, p.name, p.name, await currentPosition(), j.toml, "workers = 2");
    await insert(p, 0, 20);
    await ok(["source", "--config", cfg, "--stop-at-end"]);
    await ok(["sink", "--config", cfg, "--stop-at-end"]);
    const sql = p.pg.sql(p.name);
    await sql.unsafe("DROP SCHEMA gs_replicate CASCADE");
    await insert(p, 20, 25);
    await ok(["source", "--config", cfg, "--stop-at-end"]);
    const line = stopped(await runCli(["sink", "--config", cfg, "--stop-at-end"]), "TARGET_CHECKPOINT");
    expect(line).toContain("the checkpoint schema gs_replicate is missing");
    expect(line).toContain("dropped by hand");
    expect(line).toContain("restore gs_replicate from a backup");
    expect(line).toContain("DROP SCHEMA gs_replicate_guard CASCADE");
    // Nothing replayed, and the checkpoint was not recreated empty.
    expect(await targetIds(p)).toEqual(range(0, 20));
    expect((await sql.unsafe("SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'gs_replicate'"))[0]!.n).toBe(0);

    // The fresh migration the message describes: a new full copy, the marker dropped, a new log from the copy's position.
    await sql.unsafe(`TRUNCATE "${p.name}".t`);
    const c = await p.db.connect();
    const [rows] = (await c.query(`SELECT id, pad FROM ${p.name}.t ORDER BY id`)) as unknown as [Array<{ id: number; pad: string }>];
    const copyAt = await currentPosition();
    await c.end();
    for (const r of rows) await sql.unsafe(`INSERT INTO "${p.name}".t VALUES ($1, $2)`, [r.id, r.pad]);
    await sql.unsafe("DROP SCHEMA gs_replicate_guard CASCADE");
    const fresh = journal();
    const cfg2 = await pipelineConfig(p.db, p.pg, p.name, p.name, copyAt, fresh.toml, "workers = 2");
    await insert(p, 25, 30);
    await ok(["source", "--config", cfg2, "--stop-at-end"]);
    await ok(["sink", "--config", cfg2, "--stop-at-end"]);
    expect(await targetIds(p)).toEqual(range(0, 30));
    await sql.end();
  }, 120_000);

  test("DROP TABLE gs_replicate.progress: TARGET_CHECKPOINT naming the missing table", async () => {
    const p = await pair(dialect, "ckprog");
    const j = journal();
    const cfg = await pipelineConfig(p.db, p.pg, p.name, p.name, await currentPosition(), j.toml, "workers = 2");
    await insert(p, 0, 10);
    await ok(["source", "--config", cfg, "--stop-at-end"]);
    await ok(["sink", "--config", cfg, "--stop-at-end"]);
    const sql = p.pg.sql(p.name);
    await sql.unsafe("DROP TABLE gs_replicate.progress");
    await insert(p, 10, 12);
    await ok(["source", "--config", cfg, "--stop-at-end"]);
    const line = stopped(await runCli(["sink", "--config", cfg, "--stop-at-end"]), "TARGET_CHECKPOINT");
    expect(line).toContain("the checkpoint table gs_replicate.progress is missing while gs_replicate.applied, gs_replicate.schemas remain");
    expect(line).toContain("dropped by hand");
    expect(await targetIds(p)).toEqual(range(0, 10));
    await sql.end();
  }, 60_000);
});
