// The process's metrics, in Prometheus's text exposition format (version 0.0.4), written here:
// a few counters and gauges need no client library. `[metrics] listen` serves them on /metrics
// (metrics-server.ts); without it they are still counted (a few additions per batch) and never read.
//
// A family is either stored (counter.inc, gauge.add, with labels) or read at scrape time from
// the object that already counts it (counterFn/gaugeFn: the progress line's totals, the sink
// scheduler's queue). Families are got-or-created by name, so a pipeline restarted after an
// outage keeps counting into the same series, and a collector registered again replaces the old one.
//
// Causes and codes as label values: `cause` is one of a few fixed words (what is waited for or
// retried), `code` a ReplicateError code (src/error-codes.ts) or the driver's own code (an errno
// name, a SQLSTATE): bounded sets, so the series stay few.

import { causeChain, ReplicateError } from "../errors.ts";

type Labels = Readonly<Record<string, string>>;
type Sample = readonly [Labels, number];
type Kind = "counter" | "gauge";

interface Family {
  kind: Kind;
  help: string;
  samples(): readonly Sample[];
}

class Stored {
  private readonly series = new Map<string, [Labels, number]>();

  add(labels: Labels, n: number): void {
    const key = labelText(labels);
    const s = this.series.get(key);
    if (s) s[1] += n;
    else this.series.set(key, [labels, n]);
  }

  samples(): readonly Sample[] {
    return [...this.series.values()];
  }
}

class Counter {
  constructor(private readonly stored: Stored) {}

  inc(labels: Labels = {}, n = 1): void {
    this.stored.add(labels, n);
  }
}

class Gauge {
  constructor(private readonly stored: Stored) {}

  add(n: number, labels: Labels = {}): void {
    this.stored.add(labels, n);
  }
}

/** What a function-valued family returns: one value, several labelled ones, or nothing (no sample). */
type Reading = number | readonly Sample[] | undefined;

export class Registry {
  private readonly families = new Map<string, Family>();
  private readonly stores = new Map<string, Stored>();

  /** `labelled`: its series are by label (no sample until the first); else it shows 0 from the start. */
  counter(name: string, help: string, labelled = false): Counter {
    return new Counter(this.stored(name, "counter", help, labelled));
  }

  gauge(name: string, help: string, labelled = false): Gauge {
    return new Gauge(this.stored(name, "gauge", help, labelled));
  }

  /** A counter read at scrape time from a total that only grows. */
  counterFn(name: string, help: string, read: () => Reading): void {
    this.families.set(name, { kind: "counter", help, samples: () => asSamples(read()) });
  }

  gaugeFn(name: string, help: string, read: () => Reading): void {
    this.families.set(name, { kind: "gauge", help, samples: () => asSamples(read()) });
  }

  /** The text exposition: HELP and TYPE for each family, then its samples, families sorted by name. */
  expose(): string {
    let out = "";
    for (const name of [...this.families.keys()].sort()) {
      const f = this.families.get(name)!;
      out += `# HELP ${name} ${f.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}\n# TYPE ${name} ${f.kind}\n`;
      for (const [labels, value] of f.samples()) out += `${name}${labelText(labels)} ${numberText(value)}\n`;
    }
    return out;
  }

  private stored(name: string, kind: Kind, help: string, labelled: boolean): Stored {
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) throw new Error(`not a metric name: ${name}`);
    let s = this.stores.get(name);
    if (!s) {
      const store = new Stored();
      if (!labelled) store.add({}, 0);
      s = store;
      this.stores.set(name, store);
      this.families.set(name, { kind, help, samples: () => store.samples() });
    }
    return s;
  }
}

function asSamples(r: Reading): readonly Sample[] {
  if (r === undefined) return [];
  return typeof r === "number" ? [[{}, r]] : r;
}

/** `{a="x",b="y"}` with backslash, double quote and newline escaped as the format asks; "" without labels. */
function labelText(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return "";
  return `{${keys.map((k) => `${k}="${labels[k]!.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`).join(",")}}`;
}

function numberText(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "+Inf" : "-Inf";
  return String(v);
}

/** The one registry of the process. */
export const metrics = new Registry();

const retries = metrics.counter("gs_replicate_retries_total", "Attempts made again after a failure, by what was retried (cause)", true);
const errors = metrics.counter("gs_replicate_errors_total", "Errors met, retried or final, by code (a ReplicateError code, else the driver's errno name or SQLSTATE)", true);
const waitsBegun = metrics.counter("gs_replicate_waits_total", "Waits begun, by what was waited for (cause)", true);
const waiting = metrics.gauge("gs_replicate_waiting", "Waits in progress now, by what is waited for (cause)", true);

/** The label value for an error: its ReplicateError code, else the first code its causes carry, else UNKNOWN. */
function errorCode(err: unknown): string {
  if (err instanceof ReplicateError) return err.code;
  for (const e of causeChain(err)) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^[A-Za-z0-9_]{1,40}$/.test(code)) return code;
  }
  return "UNKNOWN";
}

export function noteError(err: unknown): void {
  errors.inc({ code: errorCode(err) });
}

/** One retry of `cause` after `err`: counted as a retry and as an error. */
export function noteRetry(cause: string, err?: unknown): void {
  retries.inc({ cause });
  if (err !== undefined) noteError(err);
}

/** A wait on `cause` begun (true) or ended (false): the gauge of waits now, and the count of waits begun. */
export function noteWait(cause: string, begun: boolean): void {
  if (begun) waitsBegun.inc({ cause });
  waiting.add(begun ? 1 : -1, { cause });
}
