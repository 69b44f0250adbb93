// Turns the decoded event sequence into transaction items: begin, rows | ddl …, commit.
// This is the binlog layer's output contract (docs/source.md); the events layer never
// sees raw events. Items stream (one rows item per rows event) so that a transaction of a
// million rows never sits in memory whole.
//
// Boundaries, both flavours:
//   GTID (MySQL 33/34, MariaDB 162)  opens a transaction; MariaDB's STANDALONE flag and
//                                    MySQL's DDL mean "no BEGIN follows, one statement"
//   QUERY "BEGIN"                    opens one only when no GTID did (servers without GTIDs)
//   XID, QUERY "COMMIT"              commit
//   QUERY "ROLLBACK"                 the transaction is dropped (non-transactional leftovers)
//   QUERY <DDL> outside BEGIN        a one-statement transaction
//   QUERY <INSERT/UPDATE/DELETE…>    statement-based logging: refused, rows would be lost
//   TRANSACTION_PAYLOAD              its inner events, positioned at the payload's end
// A transaction whose commit is never seen (a GTID or BEGIN arrives first, or the connection
// drops) is closed with a rollback item so the log shows it as a fragment.

import { ReplicateError } from "../errors.ts";
import type { BinlogEvent, QueryEvent } from "./decode.ts";
import { NO_FOREIGN_KEY_CHECKS_F, type BinlogRowChange, type RowsOp } from "./events/rows.ts";
import type { Flavour } from "./events/control.ts";
import type { TableInfo } from "./types.ts";
import { SYSTEM_DATABASES } from "./ddl-catalog.ts";

/** Q_FLAGS2 bit of a session with FOREIGN_KEY_CHECKS=0 (MySQL and MariaDB alike, measured on MariaDB 10.11). */
const OPTION_NO_FOREIGN_KEY_CHECKS = 1 << 26;

export interface LogicalClock {
  /** MySQL: sequence_number of the last transaction this one may not run before (per binlog file). */
  lastCommitted?: number;
  sequenceNumber?: number;
  /** MariaDB: transactions with the same commit_id were group-committed together. */
  commitId?: bigint;
}

export interface BeginItem {
  kind: "begin";
  flavour: Flavour;
  /** MySQL "uuid:gno", MariaDB "domain-server-seq"; null without GTIDs (ANONYMOUS or old servers). */
  gtid: string | null;
  clock: LogicalClock;
  /** Binlog file and start offset of the transaction's first event. */
  file: string;
  pos: number;
  /** Commit time at the source, ms since the epoch (µs precision when the server gives it). */
  timestampMs: number;
  serverId: number;
}

export interface RowsItem {
  kind: "rows";
  op: RowsOp;
  table: TableInfo;
  rows: BinlogRowChange[];
  /** The rows event's NO_FOREIGN_KEY_CHECKS_F: the session wrote them with FOREIGN_KEY_CHECKS=0. */
  noForeignKeyChecks: boolean;
}

export interface DdlItem {
  kind: "ddl";
  /** Default database of the session that ran the statement ("" when none). */
  database: string;
  statement: string;
  /** sql_mode the statement ran under (a 64-bit flag set), when logged. */
  sqlMode?: bigint;
  /** The source has lower_case_table_names ≠ 0 (names in the statement are case-insensitive). */
  lowerCaseNames?: boolean;
  /** The session ran it with FOREIGN_KEY_CHECKS=0: foreign keys to tables that do not exist yet
   *  are accepted, as in a schema dump (absent when checks were on or not logged). */
  noForeignKeyChecks?: boolean;
}

export interface CommitItem {
  kind: "commit";
  gtid: string | null;
  /** Position right after the transaction: where a restart continues. */
  file: string;
  pos: number;
  timestampMs: number;
}

export interface RollbackItem {
  kind: "rollback";
  reason: string;
}

export interface HeartbeatItem {
  kind: "heartbeat";
  file: string;
  pos: number;
}

export type StreamItem = BeginItem | RowsItem | DdlItem | CommitItem | RollbackItem | HeartbeatItem;

/**
 * `[source] databases` as a predicate: the listed ones, or every non-system database.
 * `lowerCase`: the source stores names in lower case (lower_case_table_names ≠ 0), so the
 * configured names are compared in lower case.
 */
export function databaseFilter(databases: string[], lowerCase = false): (db: string) => boolean {
  const wanted = new Set(lowerCase ? databases.map((d) => d.toLowerCase()) : databases);
  return wanted.size > 0 ? (db) => wanted.has(lowerCase ? db.toLowerCase() : db) : (db) => !SYSTEM_DATABASES.has(db);
}

interface AssemblerOptions {
  /** Databases whose rows are kept; empty keeps every non-system database. */
  databases: string[];
}

export class TransactionAssembler {
  private open: BeginItem | undefined;
  /** The open transaction began with QUERY BEGIN (so a DDL inside it does not end it). */
  private sawBegin = false;
  /** standalone: MariaDB's GTID flag (true: one statement, no COMMIT follows); undefined for MySQL, where only a BEGIN tells. */
  private pendingGtid: { gtid: string | null; clock: LogicalClock; standalone?: boolean; timestampMs?: number } | undefined;
  private keep: (db: string) => boolean;
  private lowerCaseNames = false;
  file = "";

  constructor(private readonly opts: AssemblerOptions) {
    this.keep = databaseFilter(opts.databases);
  }

  /** Once connected: the source's lower_case_table_names is not 0 (see DdlItem.lowerCaseNames). */
  setLowerCaseNames(on: boolean): void {
    this.lowerCaseNames = on;
    this.keep = databaseFilter(this.opts.databases, on);
  }

  /** Items produced by one event. `endPos` overrides the event's log_pos (payload inner events). */
  push(ev: BinlogEvent, out: StreamItem[], endPos?: number): void {
    const pos = endPos ?? ev.header.logPos;
    switch (ev.kind) {
      case "gtid": {
        if (this.open) this.abort(out, `transaction ${this.open.gtid ?? "without GTID"} has no commit before the next GTID`);
        const g = ev.gtid;
        const start = ev.header.logPos - ev.header.eventSize;
        if (g.flavour === "mysql") {
          this.begin(out, ev, start, {
            gtid: g.anonymous ? null : g.text,
            clock: { lastCommitted: g.lastCommitted, sequenceNumber: g.sequenceNumber },
            timestampMs: g.immediateCommitTimestamp !== undefined ? g.immediateCommitTimestamp / 1000 : undefined,
          });
        } else {
          this.begin(out, ev, start, { gtid: g.text, clock: { commitId: g.commitId }, standalone: g.standalone });
        }
        return;
      }
      case "query":
        return this.onQuery(ev, out, pos);
      case "xid":
        return this.commit(out, pos, ev.header.timestamp);
      case "rows": {
        if (ev.rows.length === 0 || !this.keep(ev.table.database)) return;
        if (!this.open) {
          throw new ReplicateError("BINLOG_BAD_VALUE", `row changes of ${ev.table.database}.${ev.table.table} outside any transaction`, {
            where: ev.where,
          });
        }
        out.push({ kind: "rows", op: ev.op, table: ev.table, rows: ev.rows, noForeignKeyChecks: (ev.flags & NO_FOREIGN_KEY_CHECKS_F) !== 0 });
        return;
      }
      case "rotate":
        if (this.open && !ev.artificial) this.abort(out, "binlog rotated inside a transaction");
        this.file = ev.nextFile;
        return;
      case "heartbeat":
        if (!this.open) out.push({ kind: "heartbeat", file: this.file, pos: ev.position });
        return;
      case "incident":
        throw new ReplicateError(
          "BINLOG_UNSUPPORTED",
          `the source wrote an INCIDENT event (${ev.message || `code ${ev.incidentType}`}): changes may be missing from its binlog here; compare the data (gs-replicate check --data) and resynchronise the affected tables`,
          { where: ev.where },
        );
      case "xaPrepare":
        throw new ReplicateError("BINLOG_UNSUPPORTED", "XA transactions (XA PREPARE) are not supported; commit them as ordinary transactions", {
          where: ev.where,
        });
      default:
        return; // format, previousGtids, gtidList, checkpoint, rowsQuery, stop, ignored, tableMap, payload (expanded by the caller)
    }
  }

  /** The connection dropped or the stream ended: an open transaction becomes a fragment. */
  interrupt(out: StreamItem[], reason: string): void {
    this.pendingGtid = undefined;
    if (this.open) this.abort(out, reason);
  }

  private begin(out: StreamItem[], ev: BinlogEvent, start: number, g: NonNullable<TransactionAssembler["pendingGtid"]>): void {
    this.pendingGtid = g;
    this.sawBegin = false;
    this.open = {
      kind: "begin",
      flavour: ev.kind === "gtid" ? ev.gtid.flavour : "mysql",
      gtid: g.gtid,
      clock: g.clock,
      file: this.file,
      pos: start,
      timestampMs: g.timestampMs ?? ev.header.timestamp * 1000,
      serverId: ev.header.serverId,
    };
    out.push(this.open);
  }

  private onQuery(ev: QueryEvent, out: StreamItem[], pos: number): void {
    const sql = ev.statement;
    const verb = firstWord(sql);
    if (verb === "BEGIN" || (verb === "START" && /^\s*START\s+TRANSACTION/i.test(sql))) {
      if (!this.open) this.begin(out, ev, ev.header.logPos - ev.header.eventSize, { gtid: null, clock: {} });
      this.sawBegin = true;
      return;
    }
    if (verb === "COMMIT") return this.commit(out, pos, ev.header.timestamp);
    if (verb === "ROLLBACK" && !/^\s*ROLLBACK\s+TO\b/i.test(sql)) {
      if (this.open) this.abort(out, "the source logged ROLLBACK");
      return;
    }
    if (verb === "SAVEPOINT" || verb === "ROLLBACK" || verb === "#" || verb === "") return;
    if (verb === "XA") {
      throw new ReplicateError("BINLOG_UNSUPPORTED", `XA transactions are not supported (${sql.slice(0, 60)})`, { where: ev.where });
    }
    if (DML.has(verb)) {
      throw new ReplicateError(
        "BINLOG_UNSUPPORTED",
        `statement-based binlog event (${sql.slice(0, 80)}): rows are not logged as rows; set binlog_format=ROW (globally, and in sessions that override it)`,
        { where: ev.where },
      );
    }
    // A DDL ends its transaction unless a BEGIN opened it, or MariaDB's GTID says more follows
    // (CREATE TABLE … SELECT: the DDL, then the rows, then COMMIT, in one GTID group).
    const standalone = !this.sawBegin && (this.pendingGtid?.standalone ?? true);
    if (!this.open) this.begin(out, ev, ev.header.logPos - ev.header.eventSize, { gtid: null, clock: {}, standalone: true });
    const item: DdlItem = { kind: "ddl", database: ev.database, statement: sql, sqlMode: ev.status.sqlMode };
    if (this.lowerCaseNames) item.lowerCaseNames = true;
    if (((ev.status.flags2 ?? 0) & OPTION_NO_FOREIGN_KEY_CHECKS) !== 0) item.noForeignKeyChecks = true;
    out.push(item);
    if (standalone) this.commit(out, pos, ev.header.timestamp);
  }

  private commit(out: StreamItem[], pos: number, timestampSec: number): void {
    const open = this.open;
    if (!open) return; // a COMMIT of a transaction that started before the stream did
    out.push({
      kind: "commit",
      gtid: open.gtid,
      file: this.file,
      pos,
      timestampMs: this.pendingGtid?.timestampMs ?? Math.max(open.timestampMs, timestampSec * 1000),
    });
    this.open = undefined;
    this.pendingGtid = undefined;
    this.sawBegin = false;
  }

  private abort(out: StreamItem[], reason: string): void {
    out.push({ kind: "rollback", reason });
    this.open = undefined;
    this.pendingGtid = undefined;
    this.sawBegin = false;
  }
}

const DML = new Set(["INSERT", "UPDATE", "DELETE", "REPLACE", "LOAD"]);

/** First keyword of a statement, upper-cased, skipping whitespace and leading comments. */
function firstWord(sql: string): string {
  let i = 0;
  for (;;) {
    while (i < sql.length && /\s/.test(sql[i]!)) i++;
    if (sql.startsWith("/*", i) && !sql.startsWith("/*!", i)) {
      const end = sql.indexOf("*/", i + 2);
      if (end < 0) return "";
      i = end + 2;
      continue;
    }
    if (sql.startsWith("/*!", i)) {
      // Versioned comment: its body is executed, so read the keyword inside it.
      i += 3;
      while (i < sql.length && /\d/.test(sql[i]!)) i++;
      continue;
    }
    break;
  }
  if (sql[i] === "#" || sql.startsWith("--", i)) return "#";
  let j = i;
  while (j < sql.length && /[A-Za-z_]/.test(sql[j]!)) j++;
  return sql.slice(i, j).toUpperCase();
}
