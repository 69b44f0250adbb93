// Comparing one table. Both servers hash the same chunk at the same time and only the chunk's
// row count and hash sum travel; rows are read only for chunks that differ.
//
//  - Ranged: a key whose columns sort alike on both servers (numbers, temporals, bytes). The
//    source walks its key index CHUNK_ROWS rows at a time; chunk i is (boundary i-1, boundary i]
//    on both sides, the last one open-ended so rows the target has beyond the source's last key
//    are counted too.
//  - Bucketed: text, float, ENUM… keys (MySQL collations and the target's sort differently, so
//    a key range is not the same rows) and tables without a key. One scan per side groups rows
//    into buckets by a hash of the key (of the whole row without a key); differing buckets are
//    read back. Without a key, rows are compared as a multiset.
//
// Live systems: see settle() — differences are re-read until nothing moves on either side.

import type { BinlogConnection } from "../binlog/connection.ts";
import type postgres from "postgres";
import { bucketMy, bucketPg, hash60My, hash60Pg, rowTextMy, rowTextPg } from "./canonical.ts";
import { keyBound, keyIn, keyOrder, keyOrderPg, type TablePlan } from "./data-plan.ts";
import { type Cell, cell, KeyedDiff, MultisetDiff, type Row, type RowImage, rowSelect, toImage } from "./data-rows.ts";

export const CHUNK_ROWS = 10_000;
/** Waits between re-reads of differences while the system is live: about 30 s in all. */
const SETTLE_DELAYS_MS = [1_000, 2_000, 4_000, 8_000, 15_000];
const BUCKETS_PER_READ = 8;
const KEYS_PER_READ = 500;

export interface Lane {
  my: BinlogConnection;
  pg: postgres.ReservedSql;
}

interface TableRun {
  lanes: Lane[];
  /** The source connection that walks key boundaries. */
  walker: BinlogConnection;
  /** A signature of both servers' write positions: equal readings mean nothing moved between them. */
  activity: () => Promise<string>;
  /** Rows of the table, for bucket counts (an estimate is fine). */
  estimatedRows: number;
  onRows: (rows: number) => void;
  onNote: (message: string) => void;
  chunkRows?: number;
  /** MAX_LISTED_ROWS unless given (tests). */
  maxListedRows?: number;
}

export interface TableOutcome {
  rows: number;
  chunks: number;
  diff: KeyedDiff | MultisetDiff;
  /** Chunks or buckets that differ but were not read row by row (MAX_LISTED_ROWS reached). */
  unlisted: number;
  /** False when differences still moved at the end of the settle bound. */
  settled: boolean;
}

/**
 * Rows held as differences per table. An empty or very different target would otherwise put
 * the whole table in memory; past this, differing chunks are only counted.
 */
export const MAX_LISTED_ROWS = 100_000;

export async function compareTable(plan: TablePlan, run: TableRun): Promise<TableOutcome> {
  let before = await run.activity();
  const first = plan.ranged ? await ranged(plan, run) : await bucketed(plan, run);
  let { diff } = first;
  if (diffSize(diff) === 0 && first.unlisted === 0) return { ...first, settled: true };
  let after = await run.activity();
  for (const delay of SETTLE_DELAYS_MS) {
    if (after === before) return { ...first, diff, settled: true };
    run.onNote(`${plan.name}: ${diffSize(diff)} difference(s) while the servers are changing; reading them again in ${delay / 1000} s`);
    await Bun.sleep(delay);
    before = await run.activity();
    diff = diff instanceof KeyedDiff ? await reread(plan, run, diff) : (await bucketed(plan, { ...run, onRows: () => {} })).diff;
    if (diffSize(diff) === 0 && first.unlisted === 0) return { ...first, diff, settled: true };
    after = await run.activity();
  }
  return { ...first, diff, settled: after === before };
}

export function diffSize(d: KeyedDiff | MultisetDiff): number {
  return d instanceof KeyedDiff ? d.size : d.rows.size;
}

// ---------------------------------------------------------------- ranged

async function ranged(plan: TablePlan, run: TableRun): Promise<Omit<TableOutcome, "settled">> {
  const chunk = run.chunkRows ?? CHUNK_ROWS;
  const diff = new KeyedDiff(plan);
  const keySelect = plan.key.map((i, j) => `CONCAT('', ${plan.columns[i]!.my}) AS k${j}`).join(", ");
  const free = [...run.lanes];
  const waiting: Array<(l: Lane) => void> = [];
  const release = (l: Lane) => (waiting.length > 0 ? waiting.shift()!(l) : free.push(l));
  const acquire = () => (free.length > 0 ? Promise.resolve(free.pop()!) : new Promise<Lane>((resolve) => waiting.push(resolve)));
  const running = new Set<Promise<void>>();
  let failure: unknown;
  let rows = 0;
  let chunks = 0;
  let unlisted = 0;
  let lo: Cell[] | null = null;
  for (;;) {
    const where: string = lo ? `WHERE ${keyBound(plan, "my", lo, ">")}` : "";
    const found: Row[] = await run.walker.query<Row>(`SELECT ${keySelect} FROM ${plan.myFrom} ${where} ORDER BY ${keyOrder(plan)} LIMIT 1 OFFSET ${chunk - 1}`);
    const b = found[0];
    const hi: Cell[] | null = b ? plan.key.map((_, j) => cell(b[`k${j}`])) : null;
    const lane = await acquire();
    if (failure !== undefined) break;
    chunks++;
    const from = lo;
    const p = hashRange(plan, lane, from, hi)
      .then((n) => {
        rows += n;
        run.onRows(n);
      })
      .catch((err: unknown) => {
        failure ??= err;
      })
      .finally(() => {
        release(lane);
        running.delete(p);
      });
    running.add(p);
    if (!hi) break;
    lo = hi;
  }
  await Promise.all(running);
  if (failure !== undefined) throw failure;
  return { rows, chunks, diff, unlisted };

  async function hashRange(p: TablePlan, lane: Lane, from: Cell[] | null, to: Cell[] | null): Promise<number> {
    const pred = (side: "my" | "pg") => [from ? keyBound(p, side, from, ">") : "", to ? keyBound(p, side, to, "<=") : ""].filter((x) => x).join(" AND ") || "TRUE";
    // Both sides concatenate the chunk's rows in key order and hash once: cheaper than a hash
    // per row, and exact since a key range is the same rows in the same order on both servers.
    // InnoDB reads a primary-key range in key order, so the source skips the sort.
    const inOrder = p.keyKind === "primary" && p.engine === "innodb";
    const [s, t] = await Promise.all([
      lane.my.query<Row>(
        `SELECT COUNT(*) AS n, MD5(GROUP_CONCAT(${rowTextMy(p.columns)}${inOrder ? "" : ` ORDER BY ${keyOrder(p)}`} SEPARATOR '#')) AS s FROM ${p.myFrom}${inOrder ? " FORCE INDEX (PRIMARY)" : ""} WHERE ${pred("my")}`,
      ),
      // A sorted subquery feeds string_agg in index order without the aggregate's own sort.
      lane.pg.unsafe(
        `SELECT count(*)::text AS n, md5(string_agg(r, '#')) AS s FROM (SELECT ${rowTextPg(p.columns)} AS r FROM ${p.pgFrom} WHERE ${pred("pg")} ORDER BY ${keyOrderPg(p)}) AS chunk`,
      ),
    ]);
    const n = Number(s[0]?.n ?? 0);
    if (String(n) !== String(t[0]?.n) || cell(s[0]?.s) !== cell(t[0]?.s)) {
      if (diff.size >= (run.maxListedRows ?? MAX_LISTED_ROWS)) unlisted++;
      else {
        const [src, dst] = await readRows(p, lane, pred("my"), pred("pg"));
        diff.add(src, dst);
      }
    }
    return n;
  }
}

async function readRows(plan: TablePlan, lane: Lane, myWhere: string, pgWhere: string): Promise<[RowImage[], RowImage[]]> {
  const [s, t] = await Promise.all([
    lane.my.query<Row>(`SELECT ${rowSelect(plan, "my")} FROM ${plan.myFrom} WHERE ${myWhere}`),
    lane.pg.unsafe(`SELECT ${rowSelect(plan, "pg")} FROM ${plan.pgFrom} WHERE ${pgWhere}`),
  ]);
  return [s.map((r) => toImage(plan, r)), [...t].map((r) => toImage(plan, r))];
}

// ---------------------------------------------------------------- bucketed

async function bucketed(plan: TablePlan, run: TableRun): Promise<Omit<TableOutcome, "settled">> {
  const chunk = run.chunkRows ?? CHUNK_ROWS;
  const buckets = Math.max(1, Math.ceil(run.estimatedRows / chunk));
  const keyCols = plan.key.map((i) => plan.columns[i]!);
  const myKey = rowTextMy(keyCols.length > 0 ? keyCols : plan.columns);
  const pgKey = rowTextPg(keyCols.length > 0 ? keyCols : plan.columns);
  const lane = run.lanes[0]!;
  const [s, t] = await Promise.all([
    lane.my.query<Row>(`SELECT ${bucketMy(myKey, buckets)} AS b, COUNT(*) AS n, CAST(SUM(${hash60My(rowTextMy(plan.columns))}) AS CHAR) AS s FROM ${plan.myFrom} GROUP BY b`),
    lane.pg.unsafe(`SELECT ${bucketPg(pgKey, buckets)} AS b, count(*)::text AS n, sum(${hash60Pg(rowTextPg(plan.columns))})::text AS s FROM ${plan.pgFrom} GROUP BY 1`),
  ]);
  const sig = (r: Row) => `${Number(r.n)}:${cell(r.s)}`;
  const src = new Map(s.map((r) => [Number(r.b), sig(r)]));
  const dst = new Map([...t].map((r) => [Number(r.b), sig(r)]));
  const rows = s.reduce((a, r) => a + Number(r.n), 0);
  run.onRows(rows);
  const differing = [...new Set([...src.keys(), ...dst.keys()])].filter((b) => src.get(b) !== dst.get(b));
  const diff = plan.key.length > 0 ? new KeyedDiff(plan) : new MultisetDiff();
  let unlisted = 0;
  for (let i = 0; i < differing.length; i += BUCKETS_PER_READ) {
    const batch = differing.slice(i, i + BUCKETS_PER_READ);
    if (diffSize(diff) >= (run.maxListedRows ?? MAX_LISTED_ROWS)) {
      unlisted += batch.length;
      continue;
    }
    const [a, b] = await readRows(plan, lane, `${bucketMy(myKey, buckets)} IN (${batch.join(", ")})`, `${bucketPg(pgKey, buckets)} IN (${batch.join(", ")})`);
    diff.add(a, b);
  }
  return { rows, chunks: buckets, diff, unlisted };
}

// ---------------------------------------------------------------- settling

/** Reads the rows of every differing key again, on both sides, and compares them afresh. */
async function reread(plan: TablePlan, run: TableRun, diff: KeyedDiff): Promise<KeyedDiff> {
  const keys = diff.keys();
  const next = new KeyedDiff(plan);
  const lane = run.lanes[0]!;
  for (let i = 0; i < keys.length; i += KEYS_PER_READ) {
    const batch = keys.slice(i, i + KEYS_PER_READ);
    const [s, t] = await readRows(plan, lane, keyIn(plan, "my", batch), keyIn(plan, "pg", batch));
    next.add(s, t);
  }
  return next;
}
