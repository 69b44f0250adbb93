// Where `source` starts, and with which schema: the last End or Position in its log (closing a
// crash fragment with an Abort first), else `[source] start`; and the schema history when the
// server does not log column names (reloaded from the log, or snapshotted and recorded now).

import { closest } from "../config/load.ts";
import { BinlogConnection, describeStart, type DumpStart } from "../binlog/connection.ts";
import { firstDdlSince, type GapDdl } from "../binlog/ddl-gap.ts";
import { SchemaHistory } from "../binlog/schema.ts";
import { parseStart } from "../config/start.ts";
import type { Config } from "../config/types.ts";
import { ReplicateError } from "../errors.ts";
import type { ChangeEventWriter } from "../events/encode.ts";
import { HistoryLog, readHistory } from "../events/history.ts";
import { readTail } from "../events/resume.ts";
import { openLogReader } from "../transport/open.ts";
import type { LogWriter } from "../log-contract.ts";
import { log } from "../runtime/log.ts";

interface SourceStart {
  start: DumpStart;
  history: SchemaHistory | undefined;
  /** Writes the history's changes to the log; present with `history`. */
  historyLog: HistoryLog | undefined;
  /** True when the log holds no position yet: the runner records the start position. */
  fresh: boolean;
}

export async function prepareStart(cfg: Config, out: LogWriter, events: ChangeEventWriter, publish: boolean, stopAtEnd: boolean): Promise<SourceStart> {
  const source = cfg.source!;
  let start: DumpStart | undefined;
  let historyAt: bigint | null = null;
  if (publish) {
    const tail = await readTail(out);
    if (tail.fragment) {
      log.warn(`the log ends inside transaction ${tail.fragment.gtid ?? "(no GTID)"} left by an earlier run: closing it with an Abort record; it will be read again whole`);
      await out.append([events.abortRecord(tail.fragment.gtid, "source restarted: fragment of an interrupted run")]);
      await out.sync();
    }
    if (tail.resume) {
      start = { kind: "file", file: tail.resume.file, pos: tail.resume.pos };
      historyAt = tail.resume.historyOffset;
      log.info(`resuming after ${tail.resume.gtid ?? "the last transaction"} in the log, at ${tail.resume.file}:${tail.resume.pos}`);
    }
  }
  const conn = await BinlogConnection.open(source);
  try {
    const fresh = start === undefined;
    if (fresh) await checkDatabases(conn, source.databases, parseStart(source.start)?.kind === "current" && stopAtEnd);
    if (!start) {
      const s = parseStart(source.start);
      if (!s) throw new ReplicateError("CONFIG_BAD_VALUE", `bad [source] start "${source.start}"`, { kind: "config", where: "source.start" });
      start = s.kind === "current" ? { kind: "file", ...(await conn.currentPosition()) } : s.kind === "gtid" ? { kind: "gtid", set: s.set } : s;
    }
    // A history in the log is reloaded whatever the server logs today: the rows between the
    // resume point and now were written under the setting of their time (binlog_row_metadata
    // turned FULL later does not name their columns). The records written from here on point at
    // it again, so every later start, and every in-process restart, reloads this same history
    // instead of taking a snapshot of a live schema that DDL may have changed since.
    if (historyAt !== null) {
      const { history, historyLog } = await loadHistory(cfg, historyAt, events);
      events.historyOffset = historyAt;
      return { start, history, historyLog, fresh };
    }
    const rows = await conn.query<{ Value?: string }>("SHOW GLOBAL VARIABLES LIKE 'binlog_row_metadata'");
    if (rows[0]?.Value?.toUpperCase() === "FULL") return { start, history: undefined, historyLog: undefined, fresh };
    log.warn(
      "the source does not log column names (binlog_row_metadata is not FULL): gs-replicate follows its DDL from a snapshot of information_schema taken now; set binlog_row_metadata=FULL for the most robust capture",
    );
    const history = await SchemaHistory.snapshot((sql) => conn.query(sql), source.databases);
    // The snapshot describes the rows from `start` on only if no DDL changed a captured table
    // in between (ddl-gap.ts); it is taken first, so the scan covers everything before it.
    const gap = await firstDdlSince(source, start);
    if (gap) throw schemaUnknown(start, gap, fresh);
    const historyLog = new HistoryLog(events);
    await out.append(historyLog.records(history, out.endOffset()));
    await out.sync();
    return { start, history, historyLog, fresh };
  } finally {
    conn.close();
  }
}

function schemaUnknown(start: DumpStart, gap: GapDdl, fresh: boolean): ReplicateError {
  const at = describeStart(start);
  const why = fresh
    ? `[source] start is ${at}, and since then "${gap.statement.slice(0, 200)}" (at ${gap.at}) changed a captured table: the binlog does not name the columns of the rows before it (binlog_row_metadata is not FULL), and today's schema does not describe them`
    : `the log resumes at ${at} but holds no schema history for that position (it was written while binlog_row_metadata was FULL, or by an older gs-replicate), and since then "${gap.statement.slice(0, 200)}" (at ${gap.at}) changed a captured table: the rows between cannot be decoded for sure`;
  const fix = fresh
    ? "start at a position after that statement (and take the full copy after it), or set binlog_row_metadata=FULL before the rows to capture are written"
    : "start a new migration (a new log, a full copy) at a position after that statement, and keep binlog_row_metadata as it is now";
  return new ReplicateError("BINLOG_SCHEMA_MISSING", `${why}; ${fix}`, { where: gap.at });
}

async function loadHistory(cfg: Config, offset: bigint, events: ChangeEventWriter): Promise<{ history: SchemaHistory; historyLog: HistoryLog }> {
  const reader = await openLogReader(cfg.transport!);
  try {
    const { history, chain, records, reads } = await readHistory(reader, offset);
    log.info(`schema history reloaded from log offset ${offset} (${records} record${records === 1 ? "" : "s"} in ${reads} read${reads === 1 ? "" : "s"} of the log)`);
    return { history, historyLog: new HistoryLog(events, chain) };
  } finally {
    await reader.close();
  }
}

/**
 * A first start and databases of [source] databases the server does not have: a misspelt name
 * publishes nothing. From "current" with --stop-at-end nothing of them can come (refused);
 * otherwise they may have existed at the start position or be created later (a warning).
 */
async function checkDatabases(conn: BinlogConnection, databases: string[], refuse: boolean): Promise<void> {
  if (databases.length === 0) return;
  const fold = conn.info.lowerCaseTableNames !== 0 ? (n: string) => n.toLowerCase() : (n: string) => n;
  const present = (await conn.query<{ db: string }>("SELECT SCHEMA_NAME AS db FROM information_schema.SCHEMATA")).map((r) => String(r.db));
  const have = new Set(present.map(fold));
  const missing = databases.filter((d) => !have.has(fold(d)));
  if (missing.length === 0) return;
  const hints = missing.map((m) => closest(m, present)).filter((h): h is string => h !== undefined);
  const what = `[source] databases lists ${missing.join(", ")}, which the source ${conn.info.version} does not have${hints.length > 0 ? ` (did you mean ${hints.join(", ")}?)` : ""}`;
  if (refuse) {
    throw new ReplicateError(
      "CONFIG_BAD_VALUE",
      `${what}: reading from the current position to the end, nothing of ${missing.length === 1 ? "it" : "them"} can be published. Correct [source] databases, or create the database first`,
      {
        kind: "config",
        where: "source.databases",
      },
    );
  }
  log.warn(
    `${what}: nothing of ${missing.length === 1 ? "it" : "them"} is published unless the binlog holds ${missing.length === 1 ? "it" : "them"} (created later, or dropped since the start position); check [source] databases`,
  );
}
