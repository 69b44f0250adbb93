// Row-level comparison: once a chunk's hashes differ, both sides' rows of that chunk are read as
// canonical texts and matched by key (or, for a table without a key, counted as a multiset).
// This comparison is the authority: floats compare by value and JSON by parsed value, so a
// chunk whose SQL forms disagree on formatting alone reports nothing.

import type { ColumnPlan } from "./canonical.ts";
import type { TablePlan } from "./data-plan.ts";

export type Cell = string | null;

export interface RowImage {
  key: Cell[];
  /** Canonical text per column. */
  values: Cell[];
  /** Stored JSON text per column (undefined for other kinds). */
  raw: Array<Cell | undefined>;
}

export type Row = Record<string, unknown>;

/** The select list of a row read: k0.. key texts, c0.. canonical texts, r0.. JSON texts. */
export function rowSelect(plan: TablePlan, side: "my" | "pg"): string {
  const wrap = (e: string) => (side === "my" ? `CONCAT('', ${e})` : e);
  const parts = plan.columns.map((c, i) => `${wrap(side === "my" ? c.my : c.pg)} AS c${i}`);
  plan.columns.forEach((c, i) => {
    const raw = side === "my" ? c.myRaw : c.pgRaw;
    if (raw !== undefined) parts.push(`${wrap(raw)} AS r${i}`);
  });
  return parts.join(", ");
}

/** mysql2 hands back Buffers for binary results and parsed objects for JSON; canonical texts are strings. */
export function cell(v: unknown): Cell {
  if (v === null || v === undefined) return null;
  if (typeof v === "string") return v;
  if (v instanceof Uint8Array) return Buffer.from(v).toString("utf8");
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

export function toImage(plan: TablePlan, r: Row): RowImage {
  const values = plan.columns.map((_, i) => cell(r[`c${i}`]));
  return {
    key: plan.key.map((i) => values[i]!),
    values,
    raw: plan.columns.map((c, i) => (c.myRaw !== undefined ? cell(r[`r${i}`]) : undefined)),
  };
}

const keyId = (key: readonly Cell[]) => JSON.stringify(key);

function sameValue(c: ColumnPlan, a: Cell, b: Cell, rawA?: Cell, rawB?: Cell): boolean {
  if (c.kind === "json") {
    if (a === b && a !== null) return true;
    if (rawA === null || rawB === null || rawA === undefined || rawB === undefined) return rawA === rawB && a === b;
    return jsonEqual(rawA, rawB);
  }
  if (a === b) return true;
  if (a === null || b === null) return false;
  if (c.kind === "float" || c.kind === "double") {
    const x = Number(floatValue(a));
    const y = Number(floatValue(b));
    return c.kind === "float" ? Math.fround(x) === Math.fround(y) : x === y;
  }
  return false;
}

const floatValue = (canon: string) => (canon === "0" ? "0" : canon.replace(/^(-?)(\d+)e(-?\d+)$/, "$10.$2e$3"));

function jsonEqual(a: string, b: string): boolean {
  let x: unknown;
  let y: unknown;
  try {
    x = JSON.parse(a);
    y = JSON.parse(b);
  } catch {
    return a === b;
  }
  return deepEqual(x, y);
}

function deepEqual(x: unknown, y: unknown): boolean {
  if (x === y) return true;
  if (typeof x !== "object" || typeof y !== "object" || x === null || y === null) return false;
  if (Array.isArray(x) !== Array.isArray(y)) return false;
  if (Array.isArray(x) && Array.isArray(y)) return x.length === y.length && x.every((v, i) => deepEqual(v, y[i]));
  const a = x as Record<string, unknown>;
  const b = y as Record<string, unknown>;
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
}

/** Names of the columns whose values differ. */
function differingColumns(plan: TablePlan, s: RowImage, t: RowImage): string[] {
  return plan.columns.filter((c, i) => !sameValue(c, s.values[i]!, t.values[i]!, s.raw[i], t.raw[i])).map((c) => c.name);
}

interface Changed {
  source: RowImage;
  target: RowImage;
  columns: string[];
}

/**
 * Differences of a keyed table, accumulated chunk by chunk. A row found on one side only is
 * held until the end: with keys whose order differs between the servers it may turn up in
 * another chunk on the other side, and then it is compared there.
 */
export class KeyedDiff {
  readonly missing = new Map<string, RowImage>();
  readonly extra = new Map<string, RowImage>();
  readonly changed = new Map<string, Changed>();

  constructor(private readonly plan: TablePlan) {}

  get size(): number {
    return this.missing.size + this.extra.size + this.changed.size;
  }

  add(source: readonly RowImage[], target: readonly RowImage[]): void {
    const dst = new Map(target.map((r) => [keyId(r.key), r]));
    for (const s of source) {
      const id = keyId(s.key);
      const t = dst.get(id) ?? this.extra.get(id);
      if (!t) {
        this.missing.set(id, s);
        continue;
      }
      dst.delete(id);
      this.extra.delete(id);
      this.compare(id, s, t);
    }
    for (const [id, t] of dst) {
      const s = this.missing.get(id);
      if (s) {
        this.missing.delete(id);
        this.compare(id, s, t);
      } else this.extra.set(id, t);
    }
  }

  private compare(id: string, s: RowImage, t: RowImage): void {
    const columns = differingColumns(this.plan, s, t);
    if (columns.length > 0) this.changed.set(id, { source: s, target: t, columns });
  }

  /** Every key involved, to read again while a live system settles. */
  keys(): Array<readonly Cell[]> {
    return [...this.missing.values(), ...this.extra.values(), ...[...this.changed.values()].map((c) => c.source)].map((r) => r.key);
  }
}

/** A table without a usable key: rows are compared as a multiset of canonical texts. */
export class MultisetDiff {
  /** Row text → [row, copies only on the source (>0) or only on the target (<0)]. */
  readonly rows = new Map<string, { row: RowImage; delta: number }>();

  add(source: readonly RowImage[], target: readonly RowImage[]): void {
    for (const r of source) this.bump(r, 1);
    for (const r of target) this.bump(r, -1);
    for (const [k, v] of this.rows) if (v.delta === 0) this.rows.delete(k);
  }

  private bump(r: RowImage, by: number): void {
    const id = JSON.stringify(r.values);
    const e = this.rows.get(id);
    if (e) e.delta += by;
    else this.rows.set(id, { row: r, delta: by });
  }

  get sourceOnly(): number {
    let n = 0;
    for (const v of this.rows.values()) if (v.delta > 0) n += v.delta;
    return n;
  }

  get targetOnly(): number {
    let n = 0;
    for (const v of this.rows.values()) if (v.delta < 0) n -= v.delta;
    return n;
  }
}

/** "id=5, code='a'" for messages. */
export function describeKey(plan: TablePlan, key: readonly Cell[]): string {
  return plan.key
    .map((i, j) => {
      const c = plan.columns[i]!;
      const v = key[j];
      const shown = v === null || v === undefined ? "NULL" : c.kind === "int" || c.kind === "decimal" ? v : c.kind === "bytes" ? `x'${v}'` : `'${v}'`;
      return `${c.name}=${shown}`;
    })
    .join(", ");
}

/** The key as an object for the JSON report. */
export function keyObject(plan: TablePlan, key: readonly Cell[]): Record<string, Cell> {
  return Object.fromEntries(plan.key.map((i, j) => [plan.columns[i]!.name, key[j] ?? null]));
}
