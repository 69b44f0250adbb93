// The periodic progress line on stderr: what a DBA watches at 3 a.m. One line per period:
//   source: 12,345 events/s, 410 tx/s, at 0-1-51234, 0.4 s behind the source (total 1,234,567 events)
// The delay is the age of the last transaction handled, which is a delay only while more is
// waiting: once the command has handled everything there is (`idle`), the line says "caught
// up" instead, so an idle source does not look like a growing lag.
// The same totals, position and delay are metrics (metrics.ts), read when scraped: the
// line and /metrics cannot disagree.

import { log } from "./log.ts";
import { metrics } from "./metrics.ts";

/** Where the last transaction handled ended: its binlog file and position, and GTID if the server has them. */
interface At {
  file: string | null;
  pos: number | null;
  gtid: string | null;
}

export class Progress {
  events = 0;
  transactions = 0;
  rows = 0;
  waitingFor: string | undefined;
  /** Nothing is left to handle now (set by the command; an outage wait overrides it). */
  idle = false;
  /** Called before each line, to bring the fields above up to date. */
  refresh: (() => void) | undefined;
  extra: (() => string) | undefined;
  private lastEvents = 0;
  private lastTx = 0;
  private lastAt = Date.now();
  private at: At | undefined;
  private commitTs: number | undefined;

  /** `verb`: what the totals count, in the metric names ("read" for source, "applied" for sink). */
  constructor(
    private readonly seconds: number,
    private readonly who: "source" | "sink",
    verb: "read" | "applied",
  ) {
    const what = verb === "read" ? "read from the binlog" : "applied on the target";
    const m = `gs_replicate_${who}`;
    metrics.counterFn(`${m}_events_${verb}_total`, `Row changes and DDL statements ${what}`, () => this.events);
    metrics.counterFn(`${m}_transactions_${verb}_total`, `Transactions ${what}`, () => this.transactions);
    metrics.gaugeFn(`${m}_lag_seconds`, `Age of the last transaction ${what} (its source commit time), 0 when caught up`, () => {
      this.refresh?.();
      return this.lagSeconds(Date.now()) ?? 0;
    });
    metrics.gaugeFn(`${m}_binlog_file_number`, `Number of the binlog file (its name's numeric suffix) of the last transaction ${what}`, () => fileNumber(this.at?.file));
    metrics.gaugeFn(`${m}_binlog_position_bytes`, `Binlog position (byte offset in its file) after the last transaction ${what}`, () => this.at?.pos ?? undefined);
    metrics.gaugeFn(`${m}_gtid_sequence_number`, `Sequence number of the GTID of the last transaction ${what}, by GTID domain (MariaDB domain id, MySQL server uuid)`, () => {
      const g = gtidParts(this.at?.gtid);
      return g ? [[{ domain: g.domain }, g.seq]] : undefined;
    });
  }

  /**
   * The last transaction handled. The sink's workers commit independent units out of order, so
   * a position before the one already shown is not taken: the line and the metrics only move
   * forward (to the furthest transaction applied; the checkpoint's low-water mark is what a restart uses).
   */
  position(at: At, commitTsMs: number): void {
    if (this.at && before(at, this.at)) return;
    this.at = at;
    this.commitTs = commitTsMs;
  }

  maybeReport(): void {
    if (Date.now() - this.lastAt >= this.seconds * 1000) this.report();
  }

  /** The delay behind the source: 0 when caught up, undefined before the first transaction. */
  private lagSeconds(now: number): number | undefined {
    if (this.idle && !this.waitingFor) return 0;
    return this.commitTs === undefined ? undefined : Math.max(0, (now - this.commitTs) / 1000);
  }

  report(note?: string): void {
    this.refresh?.();
    const now = Date.now();
    const secs = Math.max(0.001, (now - this.lastAt) / 1000);
    const fmt = (n: number) => Math.round(n).toLocaleString("en");
    const parts = [`${fmt((this.events - this.lastEvents) / secs)} events/s`, `${fmt((this.transactions - this.lastTx) / secs)} tx/s`];
    const at = this.at ? (this.at.gtid ?? `${this.at.file}:${this.at.pos}`) : undefined;
    if (at) parts.push(`at ${at}`);
    const lag = this.lagSeconds(now);
    if (this.idle && !this.waitingFor) parts.push("caught up");
    else if (lag !== undefined) parts.push(`${lag.toFixed(1)} s behind the source`);
    if (this.extra) parts.push(this.extra());
    if (this.waitingFor) parts.push(`waiting for ${this.waitingFor}`);
    parts.push(`total ${fmt(this.events)} events, ${fmt(this.transactions)} tx`);
    log.info({ message: `${this.who}: ${parts.join(", ")}${note ? ` (${note})` : ""}`, position: at });
    this.lastAt = now;
    this.lastEvents = this.events;
    this.lastTx = this.transactions;
  }
}

/** Whether `a` is an earlier binlog position than `b` (file number, then position); unknown ones are not. */
function before(a: At, b: At): boolean {
  const fa = fileNumber(a.file);
  const fb = fileNumber(b.file);
  if (fa === undefined || fb === undefined || a.pos === null || b.pos === null) return false;
  return fa < fb || (fa === fb && a.pos < b.pos);
}

/** 3 for "mariadb-bin.000003"; undefined for a name without a numeric suffix. */
function fileNumber(file: string | null | undefined): number | undefined {
  const m = file ? /\.(\d+)$/.exec(file) : null;
  return m ? Number(m[1]) : undefined;
}

/** MariaDB "0-1-51234" → domain "0", seq 51234; MySQL "uuid:51234" → domain uuid. */
function gtidParts(gtid: string | null | undefined): { domain: string; seq: number } | undefined {
  const m = gtid ? (/^(\d+)-\d+-(\d+)$/.exec(gtid) ?? /^([0-9a-fA-F-]{36}):(\d+)$/.exec(gtid)) : null;
  return m ? { domain: m[1]!, seq: Number(m[2]) } : undefined;
}
