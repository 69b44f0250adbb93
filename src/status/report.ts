// `gs-replicate status`: each part the configuration names, where it stands, and the distance
// between them, in transactions, binlog bytes and seconds of source commit time. A part that
// cannot be read is reported as such (the command then exits 1), the others still are.

import { BinlogConnection } from "../binlog/connection.ts";
import type { Config } from "../config/types.ts";
import { connectTarget } from "../dialect/connect.ts";
import { describeError } from "../errors.ts";
import { binlogBytes, gtidDistance, reached } from "./distance.ts";
import { countTransactions, type LogState, readLog, readSink, readSource, type SinkState, type SourceState } from "./positions.ts";

/** Transactions between the sink and the log's end are counted up to this many (a read of the log). */
const COUNT_LIMIT = 1_000_000;

interface Where {
  file: string;
  pos: number;
  gtid: string | null;
}

interface StatusReport {
  source: (Where & { serverTime: string }) | null;
  log: { records: string; lastTransaction: (Where & { committed: string | null; offset: string }) | null; lastPosition: (Where & { offset: string }) | null } | null;
  sink: { lowWater: string; file: string | null; pos: number | null; updatedAt: string | null } | null;
  /** The binlog the source has that the log does not hold yet. */
  sourceToLog: { caughtUp: boolean; transactions: number | null; bytes: number | null; seconds: number | null } | null;
  /** The log the sink has not applied yet. */
  logToSink: { caughtUp: boolean; records: string; transactions: number; atLeast: boolean; seconds: number | null } | null;
  /** Parts that could not be read, each with why. */
  unreadable: string[];
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export async function readStatus(cfg: Config): Promise<{ report: StatusReport; source: SourceState | null; log: LogState | null; sink: SinkState | null }> {
  const unreadable: string[] = [];
  const attempt = async <T>(what: string, fn: () => Promise<T>): Promise<T | null> => {
    try {
      return await fn();
    } catch (err) {
      unreadable.push(`${what}: ${describeError(err)}`);
      return null;
    }
  };
  const source = cfg.source
    ? await attempt("source", async () => {
        const conn = await BinlogConnection.open(cfg.source!);
        try {
          return await readSource(conn);
        } finally {
          conn.close();
        }
      })
    : null;
  const log = cfg.transport ? await attempt("log", () => readLog(cfg.transport!)) : null;
  const sink = cfg.target
    ? await attempt("target", async () => {
        const sql = connectTarget(cfg.target!, 1);
        try {
          return await readSink(sql);
        } finally {
          await sql.end({ timeout: 5 });
        }
      })
    : null;

  let sourceToLog: StatusReport["sourceToLog"] = null;
  if (source && log) {
    const last = log.lastPosition;
    const caughtUp = reached(last, source);
    sourceToLog = {
      caughtUp,
      transactions: caughtUp ? 0 : gtidDistance(source.gtid, last?.gtid ?? null),
      bytes: caughtUp ? 0 : last ? binlogBytes(last, source, source.files) : null,
      seconds: caughtUp ? 0 : log.lastTx?.tsMs ? Math.max(0, (source.nowMs - log.lastTx.tsMs) / 1000) : null,
    };
  }
  let logToSink: StatusReport["logToSink"] = null;
  if (log && cfg.target && !unreadable.some((u) => u.startsWith("target"))) {
    const low = sink?.lowWater ?? 0n;
    const caughtUp = log.lastTx === null || low > log.lastTx.offset;
    const counted = caughtUp ? { count: 0, more: false, belowTsMs: null } : await attempt("log", () => countTransactions(cfg.transport!, low, log.end, COUNT_LIMIT));
    if (counted) {
      logToSink = {
        caughtUp,
        records: (log.end > low ? log.end - low : 0n).toString(),
        transactions: counted.count,
        atLeast: counted.more,
        seconds: caughtUp ? 0 : counted.belowTsMs !== null && log.lastTx?.tsMs ? Math.max(0, (log.lastTx.tsMs - counted.belowTsMs) / 1000) : null,
      };
    }
  }
  const report: StatusReport = {
    source: source ? { file: source.file, pos: source.pos, gtid: source.gtid, serverTime: iso(source.nowMs)! } : null,
    log: log
      ? {
          records: log.end.toString(),
          lastTransaction: log.lastTx
            ? { file: log.lastTx.file, pos: log.lastTx.pos, gtid: log.lastTx.gtid, committed: iso(log.lastTx.tsMs), offset: log.lastTx.offset.toString() }
            : null,
          lastPosition: log.lastPosition
            ? { file: log.lastPosition.file, pos: log.lastPosition.pos, gtid: log.lastPosition.gtid, offset: log.lastPosition.offset.toString() }
            : null,
        }
      : null,
    sink: cfg.target && sink !== null ? { lowWater: sink.lowWater.toString(), file: sink.at?.file ?? null, pos: sink.at?.pos ?? null, updatedAt: sink.updatedAt } : null,
    sourceToLog,
    logToSink,
    unreadable,
  };
  return { report, source, log, sink };
}

const fmt = (n: number) => n.toLocaleString("en");
const at = (w: Where) => `${w.file}:${w.pos}${w.gtid ? ` (GTID ${w.gtid})` : ""}`;

export function renderStatus(r: StatusReport, cfg: Config): string {
  const lines: string[] = [];
  if (cfg.source) lines.push(r.source ? `source  ${at(r.source)}, server time ${r.source.serverTime}` : "source  unreadable");
  if (cfg.transport) {
    if (!r.log) lines.push("log     unreadable");
    else {
      const tx = r.log.lastTransaction;
      lines.push(
        `log     ${fmt(Number(r.log.records))} records; last transaction ${tx ? `${at(tx)} committed ${tx.committed}` : "none yet"}${r.log.lastPosition ? `; read up to ${at(r.log.lastPosition)}` : ""}`,
      );
    }
  }
  if (cfg.target)
    lines.push(
      r.sink
        ? `sink    applied below log offset ${fmt(Number(r.sink.lowWater))}${r.sink.file ? ` (${r.sink.file}:${r.sink.pos})` : ""}, updated ${r.sink.updatedAt}`
        : "sink    no checkpoint yet (the sink has not run against this target)",
    );
  const d = r.sourceToLog;
  if (d) {
    lines.push(
      d.caughtUp
        ? "source → log   caught up"
        : `source → log   ${d.transactions === null ? "? transactions" : `${fmt(d.transactions)} transactions`}, ${d.bytes === null ? "? bytes" : `${fmt(d.bytes)} bytes`} of binlog, ${d.seconds === null ? "?" : d.seconds.toFixed(1)} s`,
    );
  }
  const s = r.logToSink;
  if (s) {
    lines.push(
      s.caughtUp
        ? "log → sink     caught up"
        : `log → sink     ${s.atLeast ? "at least " : ""}${fmt(s.transactions)} transactions, ${fmt(Number(s.records))} records, ${s.seconds === null ? "?" : s.seconds.toFixed(1)} s of source commit time`,
    );
  }
  for (const u of r.unreadable) lines.push(`unreadable: ${u}`);
  return `${lines.join("\n")}\n`;
}
