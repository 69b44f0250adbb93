// The copy's progress on stderr: one line per period with the whole copy (tables done, rows and
// bytes so far against the source's estimate, rates, ETA) and the tables being loaded, and one
// line per table as it finishes.

import { log } from "../runtime/log.ts";
import type { SourceTable } from "./schema.ts";

interface TableCount {
  rows: number;
  bytes: number;
  started: number;
}

const fmt = (n: number) => Math.round(n).toLocaleString("en");
const mb = (b: number) => (b / 1048576).toFixed(1);

function duration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return "?";
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${Math.round(s % 60)}s`;
  return `${Math.floor(s / 3600)}h${Math.round((s % 3600) / 60)}m`;
}

export class CopyProgress {
  private rows = 0;
  private bytes = 0;
  private done = 0;
  private readonly estimate: number;
  private readonly started = Date.now();
  private lastAt = Date.now();
  private lastRows = 0;
  private lastBytes = 0;
  private readonly active = new Map<string, TableCount>();
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly seconds: number,
    private readonly tables: SourceTable[],
  ) {
    this.estimate = tables.reduce((a, t) => a + t.rowsEstimate, 0);
    this.timer = setInterval(() => this.maybeReport(), 1000);
    this.timer.unref?.();
  }

  add(t: SourceTable, rows: number, bytes: number): void {
    this.rows += rows;
    this.bytes += bytes;
    const key = `${t.database}.${t.table}`;
    const c = this.active.get(key) ?? { rows: 0, bytes: 0, started: Date.now() };
    c.rows += rows;
    c.bytes += bytes;
    this.active.set(key, c);
  }

  tableDone(t: SourceTable): void {
    this.done++;
    const key = `${t.database}.${t.table}`;
    const c = this.active.get(key);
    this.active.delete(key);
    const secs = c ? (Date.now() - c.started) / 1000 : 0;
    log.info(`copy: ${key} loaded: ${fmt(c?.rows ?? 0)} rows, ${mb(c?.bytes ?? 0)} MB in ${secs.toFixed(1)} s`);
  }

  private maybeReport(): void {
    if (Date.now() - this.lastAt >= this.seconds * 1000) this.report();
  }

  report(note?: string): void {
    const now = Date.now();
    const secs = Math.max(0.001, (now - this.lastAt) / 1000);
    const rate = (this.rows - this.lastRows) / secs;
    const all = (now - this.started) / 1000;
    const avg = this.rows / Math.max(0.001, all);
    const left = Math.max(0, this.estimate - this.rows);
    const pct = this.estimate > 0 ? ` (~${Math.min(100, Math.round((100 * this.rows) / this.estimate))}% of about ${fmt(this.estimate)})` : "";
    const loading = [...this.active.entries()]
      .map(([k, c]) => {
        const t = Math.max(0.001, (now - c.started) / 1000);
        return `${k} ${fmt(c.rows)} rows at ${fmt(c.rows / t)} rows/s, ${mb(c.bytes / t)} MB/s`;
      })
      .join(", ");
    log.info(
      `copy: ${this.done}/${this.tables.length} tables, ${fmt(this.rows)} rows${pct}, ${fmt(rate)} rows/s, ${mb((this.bytes - this.lastBytes) / secs)} MB/s, ETA ${avg > 0 ? duration(left / avg) : "?"}${loading ? `; loading ${loading}` : ""}${note ? ` (${note})` : ""}`,
    );
    this.lastAt = now;
    this.lastRows = this.rows;
    this.lastBytes = this.bytes;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
