// Writesets: the keys a transaction writes, for the scheduler's conflict detection
// (scheduler.ts, writeset mode). Two transactions conflict when their writesets intersect.
//
// Key kinds, chosen per table, the same way for every transaction so that keys of one table
// always meet keys of the same kind:
//   row    table has a primary key: table identity + the PK values of every row image
//          (before AND after, so an update that moves a row conflicts with both its old and
//          its new key), plus table identity + index name + values of every unique key the
//          caller declared (NULL-containing tuples give no key: NULLs never collide in a
//          unique index).
//   table  table without a primary key: one key for the whole table, so all its
//          transactions serialise (rows cannot be told apart).
//   group  table the caller maps to a group (tables linked by foreign keys): one key for the
//          whole group. Mapping a single table to a group of its own is the way to serialise
//          one table, e.g. one whose unique keys cannot be keyed (binlog_row_image=MINIMAL
//          leaves the old unique values out of the log).
// A change that cannot be keyed safely (primary key values missing from both images, a
// declared unique column absent, too many keys) marks the transaction as a barrier instead:
// it then runs alone, which is always correct.
//
// Values are canonicalised conservatively: values the source may consider equal must give
// the same key, while a false collision only costs parallelism. So integers compare by value
// whatever their JS type (1 === 1n), strings are case-folded, accent-stripped and lose
// trailing spaces (MySQL's default collations are case- and accent-insensitive, PAD SPACE),
// bytes lose trailing 0x00 (BINARY(n) padding). Every value carries a type tag and a length,
// so no two different value lists encode to the same text.

import type { BinlogValue } from "../binlog/types.ts";
import type { LoggedTable } from "../events/decode.ts";

/** One element of a writeset: canonical text, compared for equality only (the scheduler hashes it). */
export type WriteKey = string;

export interface KeyPolicy {
  /** Unique keys besides the primary key, as column-name lists (name → columns). Absent = none. */
  uniqueKeys?(table: LoggedTable): ReadonlyMap<string, readonly string[]> | null;
  /** Group of tables that must serialise with each other (FK-linked), or null. */
  fkGroup?(table: LoggedTable): string | null;
}

interface Writeset {
  keys: WriteKey[];
  /** Set when some change could not be keyed: the transaction must run alone. */
  barrier: boolean;
}

/** Above this many distinct keys a transaction becomes a barrier: bounded memory, and a bulk change is serial work anyway. */
const DEFAULT_MAX_KEYS = 16_384;

type Plan = { kind: "single"; key: WriteKey } | { kind: "rows"; prefix: string; pk: number[]; uniques: Array<{ prefix: string; cols: number[]; required: boolean[] }> };

/** A row change as the scheduler needs it (ChangeMessage fits). */
interface RowChange {
  table: LoggedTable;
  before: readonly BinlogValue[] | null;
  after: readonly BinlogValue[] | null;
}

/** Collects the writeset of one transaction, change by change. */
export class WritesetBuilder {
  private readonly plans = new WeakMap<LoggedTable, Plan>();
  private readonly keys = new Set<WriteKey>();
  private barrier = false;

  constructor(
    private readonly policy: KeyPolicy = {},
    private readonly maxKeys = DEFAULT_MAX_KEYS,
  ) {}

  add(change: RowChange): void {
    if (this.barrier) return;
    const plan = this.plan(change.table);
    if (plan.kind === "single") {
      this.keys.add(plan.key);
      return;
    }
    const a = change.before ? this.addImage(plan, change.before) : false;
    const b = change.after ? this.addImage(plan, change.after) : false;
    // MINIMAL images leave the PK out of an update's after image; one image with it is enough.
    if (!a && !b) this.barrier = true;
    if (this.keys.size > this.maxKeys) this.barrier = true;
  }

  /** The transaction's writeset; the builder is empty again afterwards. */
  take(): Writeset {
    const out: Writeset = this.barrier ? { keys: [], barrier: true } : { keys: Array.from(this.keys), barrier: false };
    this.keys.clear();
    this.barrier = false;
    return out;
  }

  /** Returns false when the image lacks primary key values. */
  private addImage(plan: Extract<Plan, { kind: "rows" }>, row: readonly BinlogValue[]): boolean {
    const pk = encodeTuple(plan.prefix, plan.pk, row);
    if (pk === null) return false;
    this.keys.add(pk);
    for (const u of plan.uniques) {
      const k = encodeTuple(u.prefix, u.cols, row);
      if (k !== null) {
        this.keys.add(k);
        continue;
      }
      // A NOT NULL column that reads NULL was left out of the image: its value is unknown.
      for (let i = 0; i < u.cols.length; i++) if (u.required[i] && row[u.cols[i]!] == null) this.barrier = true;
    }
    return true;
  }

  private plan(t: LoggedTable): Plan {
    let p = this.plans.get(t);
    if (!p) {
      p = makePlan(t, this.policy);
      this.plans.set(t, p);
    }
    return p;
  }
}

function makePlan(t: LoggedTable, policy: KeyPolicy): Plan {
  const group = policy.fkGroup?.(t) ?? null;
  if (group !== null) return { kind: "single", key: "g" + str(group) };
  const table = tableId(t);
  const pk = indexes(t, t.key);
  // No PK, or a PK naming columns the table does not have: rows cannot be told apart.
  if (t.key.length === 0 || pk === null) return { kind: "single", key: "t" + table };
  const uniques: Array<{ prefix: string; cols: number[]; required: boolean[] }> = [];
  for (const [name, cols] of policy.uniqueKeys?.(t) ?? []) {
    const idx = indexes(t, cols);
    // An unknown unique key cannot be keyed: serialise the whole table rather than guess.
    if (idx === null || idx.length === 0) return { kind: "single", key: "t" + table };
    uniques.push({ prefix: "u" + table + str(name), cols: idx, required: idx.map((i) => t.descriptors[i]?.nullable === false) });
  }
  return { kind: "rows", prefix: "p" + table, pk, uniques };
}

function indexes(t: LoggedTable, cols: readonly string[]): number[] | null {
  const out: number[] = [];
  for (const c of cols) {
    const i = t.names.indexOf(c);
    if (i < 0) return null;
    out.push(i);
  }
  return out;
}

/** Table identity: database and table, length-prefixed so "a.b"+"c" ≠ "a"+"b.c". */
function tableId(t: { database: string; table: string }): string {
  return str(t.database) + str(t.table);
}

function str(s: string): string {
  return `${s.length}:${s}`;
}

/** Key of prefix + every value canonicalised; null when a value is NULL (or absent). */
function encodeTuple(prefix: string, cols: readonly number[], row: readonly BinlogValue[]): WriteKey | null {
  let out = prefix;
  for (const c of cols) {
    const v = row[c];
    if (v === null || v === undefined) return null;
    out += canonicalValue(v);
  }
  return out;
}

/**
 * 53-bit hash of a key, for the scheduler's key table: number keys are far cheaper to store
 * and compare than strings, and hashing loses no safety there. Equal keys always hash equal;
 * two different keys sharing a hash only make two transactions wait for each other
 * needlessly (about once in 2^53 / live keys lookups), never let conflicting ones overlap.
 * Two 32-bit multiplicative lanes over the UTF-16 code units, each finished with murmur3's
 * fmix32.
 */
export function keyHash(text: WriteKey): number {
  let a = 0x9e3779b9;
  let b = 0x85ebca6b ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul((b << 5) | (b >>> 27), 0x5bd1e995) ^ c;
  }
  return (fmix32(a) >>> 0) * 0x200000 + (fmix32(b) >>> 11);
}

function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

const NON_ASCII = /[^\x00-\x7f]/;
const MARKS = /\p{M}/gu;

/**
 * Tagged, length-prefixed text of one value. Equal values (and values a default MySQL
 * collation calls equal) give equal text; values of different kinds never do.
 */
export function canonicalValue(v: Exclude<BinlogValue, null>): string {
  switch (typeof v) {
    case "number":
      // -0 prints as "0"; an integral double equals the same bigint in MySQL comparisons.
      return Number.isInteger(v) ? `i${String(v)};` : `f${String(v)};`;
    case "bigint":
      return `i${v.toString()};`;
    case "string": {
      let s = v.replace(/ +$/, "");
      // Upper-casing first folds expansions too (ß → SS → ss, as utf8mb4_0900_ai_ci compares).
      s = NON_ASCII.test(s) ? s.normalize("NFKD").replace(MARKS, "").toUpperCase().toLowerCase() : s.toLowerCase();
      return "s" + str(s);
    }
    default: {
      let n = v.length;
      while (n > 0 && v[n - 1] === 0) n--;
      return "b" + str(Buffer.from(v.buffer, v.byteOffset, n).toString("latin1"));
    }
  }
}
