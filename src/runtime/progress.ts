// The periodic progress line on stderr: what a DBA watches at 3 a.m. One line per period:
//   source: 12,345 events/s, 410 tx/s, at 0-1-51234, 0.4 s behind the source (total 1,234,567 events)
// The delay is the age of the last transaction handled, which is a delay only while more is
// waiting: once the command has handled everything there is (`idle`), the line says "caught
// up" instead, so an idle source does not look like a growing lag.

import { log } from "./log.ts";

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
  private at: string | undefined;
  private commitTs: number | undefined;

  constructor(
    private readonly seconds: number,
    private readonly who: string,
  ) {}

  position(at: string, commitTsMs: number): void {
    this.at = at;
    this.commitTs = commitTsMs;
  }

  maybeReport(): void {
    if (Date.now() - this.lastAt >= this.seconds * 1000) this.report();
  }

  report(note?: string): void {
    this.refresh?.();
    const now = Date.now();
    const secs = Math.max(0.001, (now - this.lastAt) / 1000);
    const fmt = (n: number) => Math.round(n).toLocaleString("en");
    const parts = [`${fmt((this.events - this.lastEvents) / secs)} events/s`, `${fmt((this.transactions - this.lastTx) / secs)} tx/s`];
    if (this.at) parts.push(`at ${this.at}`);
    if (this.idle && !this.waitingFor) parts.push("caught up");
    else if (this.commitTs !== undefined) parts.push(`${Math.max(0, (now - this.commitTs) / 1000).toFixed(1)} s behind the source`);
    if (this.extra) parts.push(this.extra());
    if (this.waitingFor) parts.push(`waiting for ${this.waitingFor}`);
    parts.push(`total ${fmt(this.events)} events, ${fmt(this.transactions)} tx`);
    log.info(`${this.who}: ${parts.join(", ")}${note ? ` (${note})` : ""}`);
    this.lastAt = now;
    this.lastEvents = this.events;
    this.lastTx = this.transactions;
  }
}
