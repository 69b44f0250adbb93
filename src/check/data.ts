// `gs-replicate check --data`: compares source and target table by table (data-table.ts),
// reports missing, extra and different rows by key, optionally writes repair statements, and
// fails with CHECK_FAILED (exit 3) on any difference. Progress with rows/s goes to stderr.

import { writeFileSync } from "node:fs";
import { BinlogConnection } from "../binlog/connection.ts";
import { readCatalog } from "../binlog/ddl-catalog.ts";
import type { TableDef } from "../binlog/ddl-apply.ts";
import { log } from "../runtime/log.ts";
import type { Config } from "../config/types.ts";
import { targetCompatibilityProblem } from "../dialect/compat.ts";
import { checkTarget, connectTarget } from "../dialect/connect.ts";
import { fitName, targetSchema } from "../dialect/identifiers.ts";
import { ReplicateError } from "../errors.ts";
import { CHECKPOINT_SCHEMA } from "../checkpoint-names.ts";
import { planTable, type TablePlan } from "./data-plan.ts";
import { describeKey, KeyedDiff, keyObject, type MultisetDiff } from "./data-rows.ts";
import { prepareSourceSession, prepareTargetSession } from "./data-sessions.ts";
import { checkSessionName, explainTimeout, targetSessionSettings, untilStopped } from "./data-stop.ts";
import { CHUNK_ROWS, compareTable, diffSize, type Lane, MAX_LISTED_ROWS, type TableOutcome } from "./data-table.ts";
import { REPAIR_FOOTER, REPAIR_HEADER, repairStatements } from "./repair.ts";
import { errorText, scrub } from "./report.ts";
import { readTargetTables } from "./target-catalog.ts";

/** Parallel chunks per table: each holds one connection on either side. */
const LANES = 2;
/** Row lines printed per table; the JSON report and the repair file have them all. */
const ROWS_SHOWN = 100;

interface DataCheckRun {
  config: Config;
  /** "db.table" names; undefined: every table of the captured databases. */
  tables?: string[];
  repairSql?: string;
  json: boolean;
  secrets: string[];
  write: (text: string) => Promise<void>;
  /** Rows per chunk and parallel chunks (tests and benchmarks). */
  chunkRows?: number;
  lanes?: number;
  maxListedRows?: number;
  /** Aborted by SIGINT/SIGTERM/SIGHUP: the check ends its queries on both servers and fails with CHECK_INTERRUPTED. */
  signal?: AbortSignal;
}

export interface TableReport {
  table: string;
  status: "equal" | "differs" | "error";
  rows: number;
  chunks: number;
  seconds: number;
  key: "primary" | "unique" | "none";
  missing: Array<Record<string, string | null>>;
  extra: Array<Record<string, string | null>>;
  different: Array<{ key: Record<string, string | null>; columns: string[] }>;
  /** Tables without a key: rows only on one side. */
  sourceOnlyRows?: number;
  targetOnlyRows?: number;
  /** Differences still moved when the re-check bound ran out (a live system). */
  unsettled?: boolean;
  /** Differing chunks or buckets whose rows were not listed (too many differences). */
  unlistedChunks?: number;
  error?: string;
}

export async function runDataCheck(run: DataCheckRun): Promise<TableReport[]> {
  const cfg = run.config;
  const source = cfg.source!;
  const target = cfg.target!;
  const lanes: Lane[] = [];
  const laneCount = run.lanes ?? LANES;
  // Every target session carries this run's name (what a stop ends) and the statement timeout.
  const name = checkSessionName();
  const sql = connectTarget(target, laneCount + 1, targetSessionSettings(cfg.check, name));
  const opened: BinlogConnection[] = [];
  const timeout = cfg.check.statement_timeout_seconds;
  const openSource = async () => {
    const c = await BinlogConnection.open(source);
    opened.push(c);
    await prepareSourceSession(c, timeout);
    return c;
  };
  let comparing = "the catalogs";
  const sessions = { source, target, name, threads: () => opened.map((c) => c.threadId) };
  const stopIfAsked = () => {
    if (run.signal?.aborted) throw new ReplicateError("CHECK_INTERRUPTED", "check --data was interrupted");
  };
  try {
    return await untilStopped(
      run.signal,
      sessions,
      () => comparing,
      async () => {
        const walker = await openSource();
        await checkTarget(sql, target);
        // In openGauss's A compatibility '' reads as NULL and split_part()/lpad() return NULL for '':
        // every comparison would be noise. Say why instead (docs/check.md: target.compatibility).
        const problem = await targetCompatibilityProblem(sql, target.dialect);
        if (problem) {
          throw new ReplicateError("CHECK_FAILED", `cannot compare with the target: ${problem.found}. Fix: ${problem.fix}`, {
            kind: "check",
            where: `${target.host}:${target.port}/${target.database}`,
          });
        }
        const catalog = await readCatalog((q) => walker.query(q), source.databases);
        const selected = selectTables(catalog.tables, run.tables);
        const schemas = [...new Set(selected.map((t) => targetSchema(t.database, target.schema_mapping)))];
        const targetTables = await readTargetTables(sql, schemas);
        const stats = await tableStats(walker, selected);
        for (let i = 0; i < laneCount; i++) {
          stopIfAsked();
          const my = await openSource();
          const pg = await sql.reserve();
          await prepareTargetSession(pg, target.dialect);
          lanes.push({ my, pg });
        }
        const [v] = await walker.query<{ v: string }>("SELECT VERSION() AS v");
        const m = /^(\d+)\.(\d+)/.exec(String(v?.v ?? ""));
        const version = m ? Number(m[1]) * 100 + Number(m[2]) : 0;
        const options = {
          flavour: walker.info.flavour,
          jsonNormalize: walker.info.flavour === "mariadb" && version >= 1007,
          zeroDateNull: cfg.sink.zero_date === "null",
          dialect: target.dialect,
        };
        const activity = async () => `${await sourcePosition(walker)}|${await checkpointMark(lanes[0]!.pg)}`;
        const reports: TableReport[] = [];
        const plans = new Map<TableReport, TablePlan>();
        const repair: string[] = [];
        const started = Date.now();
        let total = 0;
        for (const [n, def] of selected.entries()) {
          stopIfAsked();
          const name = `${def.database}.${def.table}`;
          comparing = name;
          const dst = targetTables.get(`${targetSchema(def.database, target.schema_mapping)}.${fitName(def.table)}`);
          const t0 = Date.now();
          if (!dst) {
            reports.push(errorReport(name, `the table does not exist on the target`, t0));
            continue;
          }
          const st = stats.get(name) ?? { rows: 0, avgRowBytes: 0 };
          const progress = new Throughput(cfg.log.progress_seconds, `${name} (table ${n + 1} of ${selected.length})`, st.rows, st.avgRowBytes);
          let plan: TablePlan | undefined;
          try {
            plan = planTable(def, dst, target.schema_mapping, options);
            const outcome = await compareTable(plan, {
              lanes,
              walker,
              activity,
              estimatedRows: st.rows,
              chunkRows: run.chunkRows ?? chunkRowsFor(st.avgRowBytes),
              maxListedRows: run.maxListedRows,
              onRows: (r) => progress.add(r),
              onNote: (msg) => log.info(msg),
            });
            total += outcome.rows;
            const report = tableReport(plan, outcome, t0);
            reports.push(report);
            plans.set(report, plan);
            if (run.repairSql !== undefined && diffSize(outcome.diff) > 0) repair.push(...repairStatements(plan, outcome.diff));
            if (run.repairSql !== undefined && outcome.unlisted > 0) {
              repair.push(`-- INCOMPLETE for ${plan.name}: ${outcome.unlisted} more differing chunk(s) were not listed; run the check again after applying this file`);
            }
            progress.done();
          } catch (err) {
            // After a stop, a failure is the stop's (its sessions were ended under it).
            stopIfAsked();
            reports.push(errorReport(name, errorText(explainTimeout(err, cfg.check)), t0, plan));
          }
        }
        stopIfAsked();
        const secs = Math.max(0.001, (Date.now() - started) / 1000);
        log.info(`data check: ${total.toLocaleString("en")} rows in ${secs.toFixed(1)} s (${Math.round(total / secs).toLocaleString("en")} rows/s)`);
        if (run.repairSql !== undefined) writeRepair(run.repairSql, repair);
        await run.write(scrub(run.json ? renderJson(reports) : renderText(reports, plans), run.secrets));
        const bad = reports.filter((r) => r.status !== "equal");
        if (bad.length > 0) {
          throw new ReplicateError("CHECK_FAILED", `${bad.length} of ${reports.length} table(s) differ or could not be compared: ${bad.map((r) => r.table).join(", ")}`, {
            kind: "check",
            where: bad[0]!.table,
          });
        }
        return reports;
      },
    );
  } catch (err) {
    throw explainTimeout(err, cfg.check);
  } finally {
    await Promise.all(lanes.map((l) => Promise.resolve(l.pg.release())));
    for (const c of opened) c.close();
    // After a stop the target sessions are already ended, and postgres.js would wait out the
    // timeout for them: close at once.
    await sql.end({ timeout: run.signal?.aborted ? 0 : 5 }).catch(() => {});
  }
}

/** Rows per chunk: 10,000, fewer for wide rows so that a chunk's concatenated text stays small. */
function chunkRowsFor(avgRowBytes: number): number {
  return Math.max(100, Math.min(CHUNK_ROWS, Math.floor(8e6 / Math.max(1, 2 * avgRowBytes))));
}

function selectTables(all: readonly TableDef[], names: readonly string[] | undefined): TableDef[] {
  if (names === undefined) return [...all];
  return names.map((n) => {
    const t = all.find((x) => `${x.database}.${x.table}` === n);
    if (!t) {
      throw new ReplicateError("USAGE", `--tables: ${n} is not a table of the captured databases on the source (write db.table)`, { kind: "config", where: n });
    }
    return t;
  });
}

async function tableStats(c: BinlogConnection, tables: readonly TableDef[]): Promise<Map<string, { rows: number; avgRowBytes: number }>> {
  const out = new Map<string, { rows: number; avgRowBytes: number }>();
  const dbs = [...new Set(tables.map((t) => t.database))];
  if (dbs.length === 0) return out;
  const list = dbs.map((d) => `'${d.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`).join(",");
  for (const r of await c.query<{ db: string; tbl: string; n: number | string | null; avg: number | string | null }>(
    `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS tbl, TABLE_ROWS AS n, AVG_ROW_LENGTH AS avg FROM information_schema.TABLES WHERE TABLE_SCHEMA IN (${list})`,
  )) {
    out.set(`${r.db}.${r.tbl}`, { rows: Number(r.n ?? 0), avgRowBytes: Number(r.avg ?? 0) });
  }
  return out;
}

async function sourcePosition(c: BinlogConnection): Promise<string> {
  try {
    const p = await c.currentPosition();
    return `${p.file}:${p.pos}`;
  } catch {
    return "";
  }
}

/** The sink's checkpoint moves with every applied transaction; no checkpoint schema reads as constant. */
async function checkpointMark(pg: Lane["pg"]): Promise<string> {
  try {
    const [r] = await pg.unsafe(
      `SELECT (SELECT low_water::text FROM ${CHECKPOINT_SCHEMA}.progress WHERE id = 1) AS lw, (SELECT count(*)::text || ':' || coalesce(max(log_offset), -1)::text FROM ${CHECKPOINT_SCHEMA}.applied) AS ap`,
    );
    return `${r?.lw}:${r?.ap}`;
  } catch {
    return "";
  }
}

/** rows/s and MB/s (from the source's average row length) on stderr every progress period. */
class Throughput {
  private rows = 0;
  private lastRows = 0;
  private lastAt = Date.now();
  private readonly start = Date.now();

  constructor(
    private readonly seconds: number,
    private readonly what: string,
    private readonly expected: number,
    private readonly rowBytes: number,
  ) {}

  add(n: number): void {
    this.rows += n;
    if (Date.now() - this.lastAt >= this.seconds * 1000) this.report(this.lastAt, this.lastRows);
  }

  done(): void {
    this.report(this.start, 0, "done");
  }

  private report(since: number, base: number, note = ""): void {
    const now = Date.now();
    const secs = Math.max(0.001, (now - since) / 1000);
    const rate = (this.rows - base) / secs;
    const of = this.expected > 0 && !note ? ` of ~${this.expected.toLocaleString("en")}` : "";
    log.info(
      `check ${this.what}: ${this.rows.toLocaleString("en")}${of} rows, ${Math.round(rate).toLocaleString("en")} rows/s, ${((rate * this.rowBytes) / 1e6).toFixed(1)} MB/s${note ? ` (${note})` : ""}`,
    );
    this.lastAt = now;
    this.lastRows = this.rows;
  }
}

function errorReport(table: string, error: string, t0: number, plan?: TablePlan): TableReport {
  return { table, status: "error", rows: 0, chunks: 0, seconds: (Date.now() - t0) / 1000, key: plan?.keyKind ?? "none", missing: [], extra: [], different: [], error };
}

function tableReport(plan: TablePlan, o: TableOutcome, t0: number): TableReport {
  const r: TableReport = {
    table: plan.name,
    status: diffSize(o.diff) === 0 && o.unlisted === 0 ? "equal" : "differs",
    rows: o.rows,
    chunks: o.chunks,
    seconds: (Date.now() - t0) / 1000,
    key: plan.keyKind,
    missing: [],
    extra: [],
    different: [],
  };
  if (o.diff instanceof KeyedDiff) {
    r.missing = [...o.diff.missing.values()].map((x) => keyObject(plan, x.key));
    r.extra = [...o.diff.extra.values()].map((x) => keyObject(plan, x.key));
    r.different = [...o.diff.changed.values()].map((c) => ({ key: keyObject(plan, c.source.key), columns: c.columns }));
  } else {
    r.sourceOnlyRows = (o.diff as MultisetDiff).sourceOnly;
    r.targetOnlyRows = (o.diff as MultisetDiff).targetOnly;
  }
  if (!o.settled) r.unsettled = true;
  if (o.unlisted > 0) r.unlistedChunks = o.unlisted;
  return r;
}

/** @param plans the compared tables' plans, to name keys the way the columns print. */
function renderText(reports: readonly TableReport[], plans: ReadonlyMap<TableReport, TablePlan>): string {
  const lines: string[] = [];
  const fmt = (n: number) => n.toLocaleString("en");
  for (const r of reports) {
    const plan = plans.get(r);
    if (r.status === "error") {
      lines.push(`ERROR   ${r.table}: cannot compare: ${r.error}`);
      continue;
    }
    const head = `${r.table}: ${fmt(r.rows)} rows in ${fmt(r.chunks)} ${r.key === "none" ? "buckets (no key: compared as a multiset)" : "chunks"}, ${r.seconds.toFixed(1)} s`;
    if (r.status === "equal") {
      lines.push(`equal   ${head}`);
      continue;
    }
    const counts =
      r.key === "none"
        ? `${fmt(r.sourceOnlyRows ?? 0)} row(s) only on the source, ${fmt(r.targetOnlyRows ?? 0)} only on the target`
        : `${fmt(r.missing.length)} missing on the target, ${fmt(r.extra.length)} extra on the target, ${fmt(r.different.length)} different`;
    const more = r.unlistedChunks
      ? `; ${fmt(r.unlistedChunks)} more differing ${r.key === "none" ? "bucket(s)" : "chunk(s)"} not listed (over ${fmt(MAX_LISTED_ROWS)} differences: is the full copy loaded?)`
      : "";
    lines.push(`DIFFERS ${head}: ${counts}${more}${r.unsettled ? " (still changing when the re-check bound ran out)" : ""}`);
    const rows: string[] = [];
    const show = (k: Record<string, string | null>) => (plan ? describeKey(plan, Object.values(k)) : JSON.stringify(k));
    for (const k of r.missing) rows.push(`  missing on target  ${r.table}  ${show(k)}`);
    for (const k of r.extra) rows.push(`  extra on target    ${r.table}  ${show(k)}`);
    for (const d of r.different) rows.push(`  different          ${r.table}  ${show(d.key)}: ${d.columns.join(", ")}`);
    lines.push(...rows.slice(0, ROWS_SHOWN));
    if (rows.length > ROWS_SHOWN) lines.push(`  … and ${fmt(rows.length - ROWS_SHOWN)} more (see --json or --repair-sql)`);
  }
  const equal = reports.filter((r) => r.status === "equal").length;
  lines.push(`${equal === reports.length ? "passed" : "FAILED"}: ${equal} of ${reports.length} table(s) equal`);
  return `${lines.join("\n")}\n`;
}

function renderJson(reports: readonly TableReport[]): string {
  const passed = reports.every((r) => r.status === "equal");
  return `${JSON.stringify({ kind: "data", passed, tables: reports }, null, 2)}\n`;
}

function writeRepair(path: string, statements: readonly string[]): void {
  const body = statements.length > 0 ? `${statements.join("\n")}\n` : "-- no differences\n";
  try {
    writeFileSync(path, `${REPAIR_HEADER}${body}${REPAIR_FOOTER}`, { mode: 0o600 });
  } catch (cause) {
    throw new ReplicateError("CHECK_FAILED", `cannot write --repair-sql ${path}: ${(cause as Error).message}`, { kind: "runtime", where: path, cause });
  }
  log.info(`repair statements written to ${path}`);
}
