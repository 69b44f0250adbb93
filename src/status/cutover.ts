// `gs-replicate cutover`: the end of a migration in one command, each step printed and each
// skippable:
//   1. the source takes no more writes (read_only, and super_read_only on MySQL), or --force
//   2. the target has caught up with everything the source committed (wait.ts)
//   3. every target sequence standing for an AUTO_INCREMENT column is set to the value the
//      source would give next (replicated inserts carry their ids and never advance it)
//   4. check --data
// Idempotent: a second run finds the source read-only, nothing to wait for, the sequences
// already right, the data equal, and says that nothing changed.

import type postgres from "postgres";
import { BinlogConnection } from "../binlog/connection.ts";
import type { Config } from "../config/types.ts";
import { runDataCheck, type TableReport } from "../check/data.ts";
import { secretsOf } from "../check/run.ts";
import { connectTarget } from "../dialect/connect.ts";
import { setNextValue } from "../dialect/sequences.ts";
import { ReplicateError } from "../errors.ts";
import { log } from "../runtime/log.ts";
import { waitCaughtUp } from "./wait.ts";

interface CutoverOptions {
  config: Config;
  force: boolean;
  skipWait: boolean;
  skipSequences: boolean;
  skipCheck: boolean;
  timeoutMs: number;
  signal: AbortSignal;
}

interface Step {
  step: "read-only" | "caught-up" | "sequences" | "check";
  status: "done" | "skipped" | "unchanged";
  detail: string;
}

interface SequenceChange {
  table: string;
  column: string;
  sequence: string;
  /** The value the target's next insert without an id got before, and gets now. */
  before: string;
  after: string;
}

interface CutoverReport {
  steps: Step[];
  sequences: SequenceChange[];
  check: TableReport[] | null;
  /** False when this run changed nothing (a second cutover). */
  changed: boolean;
}

const myString = (s: string) => `'${s.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`;

export async function runCutover(o: CutoverOptions): Promise<CutoverReport> {
  const cfg = o.config;
  const steps: Step[] = [];
  const say = (s: Step) => {
    steps.push(s);
    log.info(`cutover: ${s.step}: ${s.status}: ${s.detail}`);
  };
  const conn = await BinlogConnection.open(cfg.source!);
  const sql = connectTarget(cfg.target!, 2);
  let sequences: SequenceChange[] = [];
  try {
    const ro = await readOnly(conn);
    if (ro.on) say({ step: "read-only", status: "done", detail: `the source takes no writes (${ro.what})` });
    else if (o.force) say({ step: "read-only", status: "skipped", detail: `--force: the source still takes writes (${ro.what}); changes after the wait are not in the target` });
    else {
      throw new ReplicateError(
        "CUTOVER_SOURCE_WRITABLE",
        `the source still takes writes (${ro.what}): stop the application's writes and SET GLOBAL read_only = ON${conn.info.flavour === "mysql" ? " (and super_read_only = ON)" : ""} first, or run cutover --force to go on knowingly`,
        { where: `${cfg.source!.host}:${cfg.source!.port}` },
      );
    }
    if (o.skipWait) say({ step: "caught-up", status: "skipped", detail: "--skip-wait" });
    else {
      const w = await waitCaughtUp(cfg, o.timeoutMs, o.signal);
      say({ step: "caught-up", status: "done", detail: `the target has everything up to ${w.source.file}:${w.source.pos} (waited ${w.seconds.toFixed(1)} s)` });
    }
    if (o.skipSequences) say({ step: "sequences", status: "skipped", detail: "--skip-sequences" });
    else {
      sequences = await setSequences(conn, sql, cfg);
      const changed = sequences.filter((s) => s.before !== s.after);
      say({
        step: "sequences",
        status: changed.length > 0 ? "done" : "unchanged",
        detail:
          changed.length > 0
            ? `${changed.length} of ${sequences.length} set: ${changed.map((s) => `${s.table}.${s.column} ${s.before} → ${s.after}`).join(", ")}`
            : `all ${sequences.length} already give the source's next value`,
      });
    }
  } finally {
    conn.close();
    await sql.end({ timeout: 5 });
  }
  let check: TableReport[] | null = null;
  if (o.skipCheck) say({ step: "check", status: "skipped", detail: "--skip-check" });
  else {
    // Its report goes to stderr with the steps; its failure (CHECK_FAILED, exit 3) is the command's.
    check = await runDataCheck({ config: cfg, json: false, secrets: secretsOf(cfg), write: async (text) => void process.stderr.write(text), signal: o.signal });
    say({ step: "check", status: "done", detail: `${check.length} table(s) equal` });
  }
  const changed = steps.some((s) => s.step === "sequences" && s.status === "done");
  if (!changed) log.info("cutover: nothing changed: this migration was already cut over");
  return { steps, sequences, check, changed };
}

async function readOnly(conn: BinlogConnection): Promise<{ on: boolean; what: string }> {
  if (conn.info.flavour === "mysql") {
    const [r] = await conn.query<{ ro: number; sro: number }>("SELECT @@global.read_only AS ro, @@global.super_read_only AS sro");
    return { on: Number(r?.ro) === 1 && Number(r?.sro) === 1, what: `read_only = ${Number(r?.ro) === 1 ? "ON" : "OFF"}, super_read_only = ${Number(r?.sro) === 1 ? "ON" : "OFF"}` };
  }
  const [r] = await conn.query<{ ro: number }>("SELECT @@global.read_only AS ro");
  return { on: Number(r?.ro) === 1, what: `read_only = ${Number(r?.ro) === 1 ? "ON" : "OFF"}` };
}

/** Each AUTO_INCREMENT column of the source with a sequence on the target: that sequence set to the source's next value. */
async function setSequences(conn: BinlogConnection, sql: postgres.Sql, cfg: Config): Promise<SequenceChange[]> {
  const dbs = cfg.source!.databases;
  const rows = await conn.query<{ db: string; t: string; c: string; next: string | number | null }>(
    `SELECT c.TABLE_SCHEMA AS db, c.TABLE_NAME AS t, c.COLUMN_NAME AS c, t.AUTO_INCREMENT AS next FROM information_schema.COLUMNS c
       JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME
      WHERE c.EXTRA LIKE '%auto_increment%' AND t.TABLE_TYPE = 'BASE TABLE'
        AND ${dbs.length > 0 ? `c.TABLE_SCHEMA IN (${dbs.map(myString).join(", ")})` : "c.TABLE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')"}
      ORDER BY 1, 2`,
  );
  const out: SequenceChange[] = [];
  for (const r of rows) {
    if (r.next === null) continue;
    const set = await setNextValue(sql, cfg.target!.schema_mapping, String(r.db), String(r.t), String(r.c), String(r.next));
    if (!set) {
      log.warn(
        `cutover: ${r.db}.${r.t}.${r.c} is AUTO_INCREMENT on the source, but the target column has no sequence: set its default by hand if the application inserts without an id`,
      );
      continue;
    }
    out.push({ table: `${r.db}.${r.t}`, column: String(r.c), ...set });
  }
  return out;
}
