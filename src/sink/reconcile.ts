// Taking over from `gs-replicate copy` (src/copy/ledger.ts). The copy read each chunk of a table
// in its own consistent snapshot at binlog position Pc; the log starts at the hand-over position
// P ≤ every Pc. A transaction that began before Pc is already in that chunk's rows, so applying
// it again would insert a row twice, or delete or update one the chunk no longer holds.
//
// Per row change, per image: the before image (d, u) is "in the copy" when the chunk holding its
// split-column value was read after the transaction began (that chunk already reflects the row
// leaving), the after image (c, u) likewise (that chunk already holds the new row). A side in the
// copy is dropped: an update whose row moved from a chunk read earlier to one read later keeps
// only its delete, the reverse only its insert. Tables the copy did not load pass untouched.
//
// DDL on a copied table is applied when every chunk was read at or before the transaction, and
// dropped when every chunk was read after it (the copy created the table as it became); a
// statement between two chunks' snapshots means the copy holds rows in two shapes: COPY_OVERLAP.
//
// Past the latest chunk position (the horizon) nothing can be in the copy twice: the filter is
// switched off for good, so the steady state costs nothing per row.

import type postgres from "postgres";
import { parseDdl, type Ddl, type TableRef } from "../binlog/ddl.ts";
import { comparePositions, type BinlogPosition } from "../binlog/position.ts";
import { hasLedger, loadChunks, loadRun, loadTables, type LedgerChunk, type LedgerTable } from "../copy/ledger.ts";
import { ReplicateError } from "../errors.ts";
import type { BeginMessage, ChangeMessage, DdlMessage } from "../events/decode.ts";
import type { BinlogValue } from "../binlog/types.ts";
import { log } from "../runtime/log.ts";
import type { SinkTx, TxItem } from "./assembler.ts";
import { describeBegin } from "./units.ts";

interface Chunk {
  /** [lo, hi); null: unbounded. */
  lo: bigint | null;
  hi: bigint | null;
  at: BinlogPosition;
}

interface CopiedTable {
  name: string;
  splitColumn: string | null;
  /** Sorted by lo, the unbounded-below one first. */
  chunks: Chunk[];
}

const key = (database: string, table: string) => `${database}\u0000${table}`;
const at = (p: BinlogPosition) => `${p.file}:${p.pos}`;

const RESTART = "start the migration again (a new target database, or drop the copied tables and the gs_replicate schema; a new log; then gs-replicate copy --config FILE)";

/** Rewrites the log's transactions so that nothing the copy already holds is applied twice. */
export class CopyFilter {
  /** The latest chunk position: transactions from here on pass whole. */
  readonly horizon: BinlogPosition;
  private readonly first: BinlogPosition;
  private readonly tables = new Map<string, CopiedTable>();
  private readonly chunkCount: number;
  /** Split-column index per table and version (the log's schema fingerprint). */
  private readonly splitIndex = new Map<string, number>();
  private off = false;

  constructor(tables: LedgerTable[], chunks: LedgerChunk[]) {
    const byTable = new Map<string, Chunk[]>();
    for (const c of chunks) {
      const name = `${c.database}.${c.table}`;
      if (c.at === null) {
        throw new ReplicateError(
          "COPY_UNFINISHED",
          `copy has not finished on this target (chunk ${c.chunk} of ${name} is not loaded): run \`gs-replicate copy --config FILE\` again to finish it; the sink starts after it`,
          {
            where: name,
          },
        );
      }
      const list = byTable.get(key(c.database, c.table)) ?? [];
      list.push({ lo: bound(c.lo, name), hi: bound(c.hi, name), at: c.at });
      byTable.set(key(c.database, c.table), list);
    }
    let first: BinlogPosition | undefined;
    let last: BinlogPosition | undefined;
    for (const t of tables) {
      const name = `${t.database}.${t.table}`;
      const list = byTable.get(key(t.database, t.table));
      if (!list || list.length === 0) throw new ReplicateError("INTERNAL", `the copy ledger lists table ${name} without any chunk`, { where: name });
      list.sort((a, b) => (a.lo === null ? -1 : b.lo === null ? 1 : a.lo < b.lo ? -1 : a.lo > b.lo ? 1 : 0));
      this.tables.set(key(t.database, t.table), { name, splitColumn: t.splitColumn, chunks: list });
      for (const c of list) {
        if (!first || comparePositions(c.at, first) < 0) first = c.at;
        if (!last || comparePositions(c.at, last) > 0) last = c.at;
      }
    }
    this.chunkCount = [...this.tables.values()].reduce((n, t) => n + t.chunks.length, 0);
    // An empty ledger: nothing was copied, nothing to hold back.
    this.first = first ?? { file: "", pos: 0 };
    this.horizon = last ?? { file: "", pos: 0 };
    this.off = last === undefined;
  }

  /** What the filter covers, for the start-up log line. */
  describe(): string {
    return `${this.tables.size} table${this.tables.size === 1 ? "" : "s"}, ${this.chunkCount} chunk${this.chunkCount === 1 ? "" : "s"}, positions from ${at(this.first)} to ${at(this.horizon)}`;
  }

  /** False once a transaction began at or after the horizon: every change applies from there on. */
  get active(): boolean {
    return !this.off;
  }

  /** `tx` without what the copy already holds (the same object when nothing is dropped). */
  transaction(tx: SinkTx): SinkTx {
    const items = this.items(tx.begin, tx.items);
    return items === tx.items ? tx : { ...tx, items };
  }

  /** The items of the transaction that began at `begin` that the copy does not hold yet (a streamed transaction's chunks too). */
  items(begin: BeginMessage, items: TxItem[]): TxItem[] {
    if (this.off) return items;
    if (comparePositions(begin, this.horizon) >= 0) {
      this.off = true;
      log.info(`passed the copy's last snapshot position ${at(this.horizon)} (${describeBegin(begin)}): every change applies from here`);
      return items;
    }
    let out: TxItem[] | undefined;
    for (const [i, item] of items.entries()) {
      const kept = item.kind === "change" ? this.change(begin, item) : this.ddl(begin, item);
      if (kept !== item && !out) out = items.slice(0, i);
      if (out && kept) out.push(kept);
    }
    return out ?? items;
  }

  private change(begin: BeginMessage, c: ChangeMessage): ChangeMessage | null {
    const t = this.tables.get(key(c.table.database, c.table.table));
    if (!t) return c;
    const inCopy = (image: BinlogValue[]) => comparePositions(begin, this.chunkOf(t, c, image).at) < 0;
    switch (c.op) {
      case "c":
        return inCopy(c.after!) ? null : c;
      case "d":
        return inCopy(c.before!) ? null : c;
      case "u": {
        const gone = inCopy(c.before!);
        const there = inCopy(c.after!);
        if (gone && there) return null;
        // The chunk the row left already lacks it; the chunk it moved to was read before: insert it there.
        if (gone) return { ...c, op: "c", before: null };
        // The chunk it moved to already holds it; the one it left still has the old row.
        if (there) return { ...c, op: "d", after: null };
        return c;
      }
    }
  }

  private chunkOf(t: CopiedTable, c: ChangeMessage, image: BinlogValue[]): Chunk {
    if (t.splitColumn === null) return t.chunks[0]!;
    const v = image[this.splitColumnIndex(t, c)];
    const n = typeof v === "bigint" ? v : typeof v === "number" && Number.isInteger(v) ? BigInt(v) : undefined;
    if (n === undefined) {
      throw new ReplicateError(
        "COPY_OVERLAP",
        `${t.name}: a row of the log has ${v === null ? "NULL" : `a non-integer value`} in the column ${t.splitColumn} the copy split the table on: the table changed while copy read it; ${RESTART}`,
        { where: t.name },
      );
    }
    // The last chunk whose lo is at or below n; the ranges are contiguous, so it holds n unless hi says otherwise.
    let lo = 0;
    let hi = t.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      const l = t.chunks[mid]!.lo;
      if (l === null || l <= n) lo = mid;
      else hi = mid - 1;
    }
    const chunk = t.chunks[lo]!;
    if ((chunk.lo !== null && n < chunk.lo) || (chunk.hi !== null && n >= chunk.hi)) {
      throw new ReplicateError("INTERNAL", `the copy ledger has no chunk of ${t.name} holding ${t.splitColumn} = ${n}: its chunks do not cover the column's range`, {
        where: t.name,
      });
    }
    return chunk;
  }

  private splitColumnIndex(t: CopiedTable, c: ChangeMessage): number {
    const version = `${key(c.table.database, c.table.table)}\u0000${c.table.version}`;
    const cached = this.splitIndex.get(version);
    if (cached !== undefined) return cached;
    const wanted = t.splitColumn!.toLowerCase();
    const i = c.table.names.findIndex((n) => n.toLowerCase() === wanted);
    if (i < 0) {
      throw new ReplicateError(
        "COPY_OVERLAP",
        `${t.name}: the log's rows have no column ${t.splitColumn}, the column the copy split the table on: the table changed while copy read it; ${RESTART}`,
        {
          where: t.name,
        },
      );
    }
    this.splitIndex.set(version, i);
    return i;
  }

  private ddl(begin: BeginMessage, d: DdlMessage): DdlMessage | null {
    const parsed = parseDdl(d.statement, {
      database: d.database,
      flavour: begin.flavour === "mariadb" ? "mariadb" : "mysql",
      lowerCaseNames: d.lowerCaseNames,
      ...(d.sqlMode === null ? {} : { sqlMode: d.sqlMode }),
    });
    let verdict: { inCopy: boolean; table: string } | undefined;
    for (const t of this.named(parsed)) {
      const before = t.chunks.filter((c) => comparePositions(begin, c.at) < 0).length;
      const inCopy = before === t.chunks.length;
      if ((before > 0 && !inCopy) || (verdict && verdict.inCopy !== inCopy)) throw this.overlap(begin, d, t, verdict);
      verdict ??= { inCopy, table: t.name };
    }
    if (!verdict?.inCopy) return d;
    log.info(`${describeBegin(begin)}: DDL not applied, the copy already reflects it (its snapshots of ${verdict.table} were read after it): ${shorten(d.statement)}`);
    return null;
  }

  /** The copied tables a statement changes (not those it only reads, like a foreign key's parent). */
  private named(ddl: Ddl): CopiedTable[] {
    const refs: TableRef[] = tablesChanged(ddl);
    const out = new Set<CopiedTable>();
    if (ddl.kind === "drop_database") {
      for (const t of this.tables.values()) if (t.name.startsWith(`${ddl.name}.`)) out.add(t);
    }
    for (const r of refs) {
      const t = this.tables.get(key(r.database, r.table));
      if (t) out.add(t);
    }
    return [...out];
  }

  private overlap(begin: BeginMessage, d: DdlMessage, t: CopiedTable, other: { inCopy: boolean; table: string } | undefined): ReplicateError {
    const straddles = t.chunks.some((c) => comparePositions(begin, c.at) < 0) && t.chunks.some((c) => comparePositions(begin, c.at) >= 0);
    const why = straddles
      ? `some chunks of ${t.name} were read before it and some after`
      : `the chunks of ${t.name} were read ${other!.inCopy ? "before" : "after"} it, those of ${other!.table} ${other!.inCopy ? "after" : "before"}`;
    return new ReplicateError(
      "COPY_OVERLAP",
      `${describeBegin(begin)}: the DDL "${shorten(d.statement)}" (at ${d.file}:${d.pos}) changed ${t.name} while copy read it (${why}): the copy holds its rows in two shapes; ${RESTART}`,
      { where: `${t.name} at ${begin.file}:${begin.pos}` },
    );
  }
}

/**
 * The copy filter for this target, or null when no copy ran into it. A copy that has not
 * finished stops the sink: its tables are still being loaded.
 */
export async function loadCopyFilter(sql: Pick<postgres.Sql, "unsafe">): Promise<CopyFilter | null> {
  if (!(await hasLedger(sql))) return null;
  const run = await loadRun(sql);
  if (run?.state !== "done") {
    throw new ReplicateError(
      "COPY_UNFINISHED",
      `copy has not finished on this target (state ${run?.state ?? "not started"}): run \`gs-replicate copy --config FILE\` again to finish it; the sink starts after it`,
      { where: "gs_replicate.copy_run" },
    );
  }
  return new CopyFilter(await loadTables(sql), await loadChunks(sql));
}

function tablesChanged(ddl: Ddl): TableRef[] {
  switch (ddl.kind) {
    case "create_table":
    case "create_table_like":
    case "truncate_table":
    case "create_index":
    case "drop_index":
      return [ddl.table];
    case "alter_table":
      return [ddl.table, ...ddl.ops.flatMap((o) => (o.op === "rename_table" ? [o.to] : []))];
    case "rename_table":
      return ddl.renames.flatMap((r) => [r.from, r.to]);
    case "drop_table":
      return ddl.temporary ? [] : ddl.tables;
    case "unparsed":
      return ddl.tables ?? [];
    default:
      return [];
  }
}

/** A ledger bound as a BigInt (the split column is an integer column). */
function bound(text: string | null, table: string): bigint | null {
  if (text === null) return null;
  if (!/^-?\d+$/.test(text)) throw new ReplicateError("INTERNAL", `the copy ledger has a chunk bound ${text} of ${table} that is not an integer`, { where: table });
  return BigInt(text);
}

function shorten(s: string): string {
  return s.length > 120 ? `${s.slice(0, 120)}…` : s;
}
