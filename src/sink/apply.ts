// Applies one transaction's changes inside a target transaction.
//
// Statements, all prepared and with every identifier quoted (table and column names mapped to
// their target names, identifiers.ts):
//   runs of INSERTs into one table      one multi-row INSERT per up to MAX_ROWS rows
//   UPDATE / DELETE, table with a key   by primary key (the before image's key: keys can change)
//   UPDATE / DELETE, table without key  exactly one row whose columns all equal the before
//                                       image (ctid of the first match), as MySQL did
// Each UPDATE/DELETE must touch exactly one row; anything else means source and target have
// diverged, and the transaction fails naming the table and the row's key instead of going on.
// The server checks that (WITH w AS (UPDATE … RETURNING 1) SELECT expect_one_row(count(*))):
// a mismatch is an error inside the target transaction, so the caller may send COMMIT in the
// same pipeline and a transaction costs one round trip. After an error the server aborts the
// transaction; the statements behind it, COMMIT included, then change nothing.
// Statements are pipelined (postgres.js sends them without waiting for each answer) and
// awaited together.

import type postgres from "postgres";
import { classify, ReplicateError } from "../errors.ts";
import type { ChangeMessage, LoggedTable } from "../events/decode.ts";
import { qualifiedTable, targetIdent } from "../dialect/identifiers.ts";
import { toParam, type Param, type ValueContext } from "../dialect/values.ts";
import type { TxItem } from "./assembler.ts";
import { EXPECT_ONE_ROW, holdRefusal, ROW_MISMATCH_PREFIX } from "./checkpoint.ts";
import { chunksOf, hugeParam, hugeRaw, refuseTooLarge } from "./chunks.ts";

const MAX_PARAMS = 30_000;
const MAX_ROWS = 500;

export interface ApplyContext extends ValueContext {
  schemaMapping: Record<string, string>;
  /** Per column of a table: whether it is in the target table's primary key (catalog.ts); none when absent. */
  targetKey?: (table: LoggedTable) => readonly boolean[];
  /** Describes the transaction for messages: "GTID 0-1-42 (binlog.000003:1234)". */
  describe: string;
}

/** A connection or transaction statements can be sent on (a reserved worker connection). */
export type Runner = Pick<postgres.Sql, "unsafe">;
export type Pending = ReturnType<Runner["unsafe"]>;

/** One statement of a transaction: prepared text, its parameters, and the change it applies (UPDATE/DELETE). */
export interface PlannedStatement {
  text: string;
  params: Param[];
  change?: ChangeMessage;
  /** Carries a chunk of a huge value (chunks.ts): sent once everything before it is answered. */
  heavy?: boolean;
}

/**
 * The statements that apply `items` in order; DDL items are refused here (the caller handles
 * them alone). Consecutive inserts into one table become one multi-row INSERT.
 */
export function planStatements(items: TxItem[], ctx: ApplyContext): PlannedStatement[] {
  const out: PlannedStatement[] = [];
  let i = 0;
  while (i < items.length) {
    const item = items[i]!;
    if (item.kind === "ddl") {
      throw new ReplicateError("INTERNAL", "DDL inside a change batch", { where: ctx.describe });
    }
    if (item.op !== "d" && item.after!.some(hugeRaw)) {
      out.push(...chunked(item.op === "c" ? insert([item], ctx) : update(item, ctx), item, ctx));
      i++;
      continue;
    }
    if (item.op === "c") {
      let j = i + 1;
      const limit = Math.min(MAX_ROWS, Math.max(1, Math.floor(MAX_PARAMS / item.table.names.length)));
      while (j < items.length && j - i < limit) {
        const next = items[j]!;
        if (next.kind !== "change" || next.op !== "c" || next.table !== item.table || next.after!.some(hugeRaw)) break;
        j++;
      }
      out.push(insert(items.slice(i, j) as ChangeMessage[], ctx));
      i = j;
      continue;
    }
    out.push(item.op === "u" ? update(item, ctx) : remove(item, ctx));
    i++;
  }
  return out;
}

/**
 * Applies changes in order, each statement prepared on its own (the precise path: a failure
 * names the statement and row it belongs to). `lead` are statements already sent on the same
 * connection (BEGIN) and `tail` is sent right after the changes (COMMIT): all of them travel
 * in one pipeline. Returns the tail's result. The error thrown is the first statement's to
 * fail, in pipeline order (those after it fail only because the transaction is aborted).
 */
export async function applyChanges(
  tx: Runner,
  items: TxItem[],
  ctx: ApplyContext,
  lead: Pending[] = [],
  tail?: () => Pending,
): Promise<postgres.RowList<postgres.Row[]> | undefined> {
  const pending: Array<PromiseLike<unknown>> = [...lead];
  const changeAt = new Map<number, ChangeMessage>();
  for (const st of planStatements(items, ctx)) {
    if (st.change) changeAt.set(pending.length, st.change);
    if (st.heavy) {
      // One chunk on the wire at a time, and its query (which keeps its serialized
      // parameters) not kept: only its outcome (chunks.ts).
      await Promise.allSettled(pending);
      // What the chunk before left behind (its text and message, tens of MiB), and the log
      // record the value was decoded from, are collected before this chunk is built: so the
      // sink holds the value and one chunk's worth, not the garbage of every chunk until the
      // collector happens to run (measured: 100 MB BLOB, bench/memory.ts).
      Bun.gc(true);
      const outcome = await tx.unsafe(st.text, st.params as never[], { prepare: true }).then(
        (value) => ({ ok: true as const, value }),
        (err: unknown) => ({ ok: false as const, err }),
      );
      pending.push(outcome.ok ? Promise.resolve(outcome.value) : rejected(outcome.err));
      continue;
    }
    pending.push(tx.unsafe(st.text, st.params as never[], { prepare: true }));
  }
  if (tail) pending.push(tail());
  const settled = await Promise.allSettled(pending);
  for (let k = 0; k < settled.length; k++) {
    const s = settled[k]!;
    if (s.status === "fulfilled") continue;
    const change = changeAt.get(k);
    const matched = change ? rowMismatch(s.reason) : undefined;
    if (change && matched !== undefined) {
      throw new ReplicateError(
        "TARGET_DATA",
        `${change.op === "u" ? "UPDATE" : "DELETE"} of ${change.table.database}.${change.table.table} row ${rowKey(change)} matched ${matched} rows on the target instead of 1: source and target have diverged (${ctx.describe}); compare them with gs-replicate check --data`,
        { where: `${change.table.database}.${change.table.table}`, cause: s.reason },
      );
    }
    throw asTargetError(s.reason, ctx);
  }
  const last = tail ? settled.at(-1) : undefined;
  return last?.status === "fulfilled" ? (last.value as postgres.RowList<postgres.Row[]>) : undefined;
}

/** A rejected promise whose rejection is handled later (by applyChanges' allSettled). */
function rejected(err: unknown): Promise<never> {
  const p = Promise.reject(err);
  p.catch(() => {});
  return p;
}

/**
 * A row whose huge text or byte values go in chunks (chunks.ts): `base` (its INSERT or UPDATE)
 * carries the first chunk of each, then one append per further chunk, by the row's key after
 * the change. A table without a key cannot name the row again: its values go whole.
 */
function chunked(base: PlannedStatement, ch: ChangeMessage, ctx: ApplyContext): PlannedStatement[] {
  const t = ch.table;
  const st = statementsFor(t, ctx.schemaMapping);
  let keyArgs: Param[] | undefined;
  const appends: PlannedStatement[] = [];
  // The statement's first parameters are the after image's columns (an UPDATE's key follows).
  for (let c = 0; c < t.names.length; c++) {
    const p = base.params[c]!;
    if (!hugeParam(p)) continue;
    refuseTooLarge(p, () => `${t.database}.${t.table}.${t.names[c]} of row ${rowKey(ch)}, ${ctx.describe}`);
    const d = t.descriptors[c]!;
    // jsonb has no append; text and bytea do.
    if (st.keys.length === 0 || d.m === "json" || (d.k !== "string" && d.k !== "bytes")) continue;
    if (!keyArgs) params(t, ch.after!, ctx, ch, (keyArgs = []), st.keys);
    const [first, ...rest] = chunksOf(p);
    base.params[c] = first!;
    const col = targetIdent(t.names[c]!);
    const text = expectOne(`UPDATE ${st.target} SET ${col} = ${col} || $1::${d.k === "bytes" ? "bytea" : "text"} WHERE ${st.keyCondition(1)}`);
    for (const chunk of rest) appends.push({ text, params: [chunk, ...keyArgs], change: ch, heavy: true });
  }
  if (appends.length > 0) base.heavy = true;
  return [base, ...appends];
}

/** The row count in expect_one_row's error, or undefined for any other error. */
function rowMismatch(err: unknown): number | undefined {
  const e = err as { code?: unknown; message?: unknown };
  if (e.code !== "P0001" || typeof e.message !== "string" || !e.message.startsWith(ROW_MISMATCH_PREFIX)) return undefined;
  return Number.parseInt(e.message.slice(ROW_MISMATCH_PREFIX.length), 10);
}

/** Statement texts of one table version, built once: a replay sends the same shapes millions of times. */
interface Statements {
  target: string;
  keys: number[];
  /** The key columns equal to $offset+1 …. */
  keyCondition: (offset: number) => string;
  inserts: Map<number, string>;
  update: string;
  remove: string;
}

const statements = new WeakMap<LoggedTable, Map<Record<string, string>, Statements>>();

function statementsFor(t: LoggedTable, mapping: Record<string, string>): Statements {
  let perMapping = statements.get(t);
  if (!perMapping) statements.set(t, (perMapping = new Map()));
  let st = perMapping.get(mapping);
  if (st) return st;
  const target = qualifiedTable(t.database, t.table, mapping);
  claimTarget(target, t.database, mapping);
  const n = t.names.length;
  const keys = t.key.map((k) => t.names.indexOf(k));
  const set = t.names.map((c, i) => `${targetIdent(c)} = $${i + 1}`).join(", ");
  const byKey = (offset: number) => keys.map((k, i) => `${targetIdent(t.names[k]!)} = $${offset + i + 1}`).join(" AND ");
  st = {
    target,
    keys,
    keyCondition: byKey,
    inserts: new Map(),
    update: expectOne(keys.length > 0 ? `UPDATE ${target} SET ${set} WHERE ${byKey(n)}` : `UPDATE ${target} SET ${set} WHERE ctid = (${matchOne(t, target, n)})`),
    remove: expectOne(keys.length > 0 ? `DELETE FROM ${target} WHERE ${byKey(0)}` : `DELETE FROM ${target} WHERE ctid = (${matchOne(t, target, 0)})`),
  };
  perMapping.set(mapping, st);
  return st;
}

/** Per [target] schema_mapping: which source database each target table takes rows from. */
const fedBy = new WeakMap<Record<string, string>, Map<string, string>>();

/**
 * Two databases mapped onto one schema with a table of the same name would merge their rows
 * into one target table: stopped at the first row of the second (check's schema.databases
 * finds it before any row).
 */
function claimTarget(target: string, database: string, mapping: Record<string, string>): void {
  let m = fedBy.get(mapping);
  if (!m) fedBy.set(mapping, (m = new Map()));
  const first = m.get(target);
  if (first === undefined) m.set(target, database);
  else if (first !== database) {
    throw new ReplicateError(
      "CONFIG_BAD_VALUE",
      `rows of ${first} and of ${database} both map to the target table ${target} through [target] schema_mapping: they would be merged into one table. Map each database to a schema of its own (gs-replicate check lists every such collision as schema.databases)`,
      { kind: "config", where: "target.schema_mapping" },
    );
  }
}

function insertText(t: LoggedTable, st: Statements, rows: number): string {
  let text = st.inserts.get(rows);
  if (!text) {
    const n = t.names.length;
    const values: string[] = [];
    for (let r = 0; r < rows; r++) values.push(`(${t.names.map((_, c) => `$${r * n + c + 1}`).join(", ")})`);
    text = `INSERT INTO ${st.target} (${t.names.map(targetIdent).join(", ")}) VALUES ${values.join(", ")}`;
    st.inserts.set(rows, text);
  }
  return text;
}

/** Converts the image's columns `cols` (all when undefined) onto the end of `out`. */
function params(t: LoggedTable, img: readonly unknown[], ctx: ApplyContext, change: ChangeMessage, out: Param[], cols?: number[]): void {
  const where = (c: number) => `${t.database}.${t.table}.${t.names[c]} of row ${rowKey(change)}, ${ctx.describe}`;
  const key = ctx.targetKey?.(t);
  if (cols) {
    for (const c of cols) out.push(toParam(t.descriptors[c]!, img[c] as never, ctx, () => where(c), key?.[c] === true));
    return;
  }
  for (let c = 0; c < t.names.length; c++) out.push(toParam(t.descriptors[c]!, img[c] as never, ctx, () => where(c), key?.[c] === true));
}

function insert(rows: ChangeMessage[], ctx: ApplyContext): PlannedStatement {
  const t = rows[0]!.table;
  const st = statementsFor(t, ctx.schemaMapping);
  const args: Param[] = [];
  for (const row of rows) params(t, row.after!, ctx, row, args);
  return { text: insertText(t, st, rows.length), params: args };
}

function update(ch: ChangeMessage, ctx: ApplyContext): PlannedStatement {
  const t = ch.table;
  const st = statementsFor(t, ctx.schemaMapping);
  const args: Param[] = [];
  params(t, ch.after!, ctx, ch, args);
  params(t, ch.before!, ctx, ch, args, st.keys.length > 0 ? st.keys : undefined);
  return { text: st.update, params: args, change: ch };
}

function remove(ch: ChangeMessage, ctx: ApplyContext): PlannedStatement {
  const t = ch.table;
  const st = statementsFor(t, ctx.schemaMapping);
  const args: Param[] = [];
  params(t, ch.before!, ctx, ch, args, st.keys.length > 0 ? st.keys : undefined);
  return { text: st.remove, params: args, change: ch };
}

/** The statement, failing on the server unless it changed exactly one row (see the file header). */
function expectOne(statement: string): string {
  return `WITH w AS (${statement} RETURNING 1) SELECT ${EXPECT_ONE_ROW}(count(*)) FROM w`;
}

/** The first row equal to the before image, column by column ($offset+1 … are its values). */
function matchOne(t: LoggedTable, target: string, offset: number): string {
  const conds = t.names.map((c, i) => {
    const col = targetIdent(c);
    const p = `$${offset + i + 1}`;
    // json has no equality operator: compare as jsonb, which ignores formatting
    return t.descriptors[i]!.m === "json" ? `${col}::jsonb IS NOT DISTINCT FROM ${p}::jsonb` : `${col} IS NOT DISTINCT FROM ${p}`;
  });
  return `SELECT ctid FROM ${target} WHERE ${conds.join(" AND ")} LIMIT 1`;
}

function rowKey(ch: ChangeMessage): string {
  const t = ch.table;
  const img = ch.before ?? ch.after ?? [];
  const idx = t.key.length > 0 ? t.key.map((k) => t.names.indexOf(k)) : t.names.map((_, i) => i);
  return `(${idx.map((i) => `${t.names[i]}=${show(img[i])}`).join(", ")})`;
}

function show(v: unknown): string {
  if (v instanceof Uint8Array) return `x'${Buffer.from(v).toString("hex")}'`;
  if (typeof v === "string") return `'${v.length > 40 ? `${v.slice(0, 40)}…` : v}'`;
  return String(v);
}

/** What to do about the data errors a migration meets, by SQLSTATE (the same on both targets). */
const ADVICE: Record<string, string> = {
  "23502":
    'The target column is NOT NULL but the row has NULL there. If it held a MySQL zero date stored as NULL ([sink] zero_date = "null"), let the column take NULL (ALTER TABLE … ALTER COLUMN … DROP NOT NULL); otherwise make the target table match the source (gs-replicate check lists the differences)',
  "23503":
    "A foreign key on the target refused the row. The source wrote it with FOREIGN_KEY_CHECKS=1, so it had the row the key names: the target misses it or holds a key the source does not (compare them with gs-replicate check --data and check)",
  "42P01":
    "The table does not exist on the target: create it with the mapped types under its target name (names over 63 bytes are shortened; gs-replicate check lists what is missing), or map its database with [target] schema_mapping",
  "42703": "The column does not exist on the target: add it with the mapped type (gs-replicate check lists what is missing)",
};

export function asTargetError(err: unknown, ctx: ApplyContext): ReplicateError {
  if (err instanceof ReplicateError) return err;
  const replaced = holdRefusal(err, ctx.describe);
  if (replaced) return replaced;
  const e = err as { code?: string; message?: string; query?: string; table_name?: string; detail?: string; position?: string };
  const code = e.code ?? "";
  // The one classification (errors.ts classify): a timeout or a deadlock is not a data error.
  const retriable = classify(err) !== "permanent";
  const statement = e.query ? `; statement: ${statementExcerpt(e.query, e.position)}` : "";
  const advice = retriable ? undefined : ADVICE[code];
  return new ReplicateError(
    retriable ? "TARGET_CONNECTION" : "TARGET_DATA",
    `${ctx.describe}: the target refused the transaction: ${e.message ?? String(err)}${e.detail ? ` (${e.detail})` : ""}${retriable ? "" : statement}${advice ? `. ${advice}; then restart the sink: nothing of this transaction was applied` : ""}`,
    { retriable, where: ctx.describe, cause: err },
  );
}

const EXCERPT = 300;

/**
 * A statement for a message: whole when short, else the part around the character the server
 * said failed (ErrorResponse "position", 1-based), else its start; the failing point is marked.
 */
export function statementExcerpt(query: string, position?: string | number): string {
  const at = Number(position ?? 0) - 1;
  const known = Number.isInteger(at) && at >= 0 && at < query.length;
  if (!known) return query.length <= EXCERPT ? query : `${query.slice(0, EXCERPT)}… (${query.length} characters)`;
  const from = Math.max(0, at - EXCERPT / 2);
  const to = Math.min(query.length, at + EXCERPT / 2);
  return `${from > 0 ? "…" : ""}${query.slice(from, at)}<<HERE>>${query.slice(at, to)}${to < query.length ? "…" : ""} (failed at character ${at + 1} of ${query.length})`;
}
