// How one table is compared: its columns' canonical expressions (canonical.ts), the key rows are
// matched by, whether key ranges select the same rows on both servers, and the literals that
// turn canonical texts back into SQL for key predicates and repair statements.

import type { TableDef } from "../binlog/ddl-apply.ts";
import { ReplicateError } from "../errors.ts";
import { fitName, targetSchema } from "../dialect/identifiers.ts";
import { KEY_ZERO_DATE } from "../dialect/values.ts";
import { type ColumnPlan, myIdent, orderSafe, pgColumn, pgIdent, planColumn, type PlanOptions } from "./canonical.ts";
import type { TargetTable } from "./target-catalog.ts";

export interface TablePlan {
  /** "db.table" as on the source. */
  name: string;
  myFrom: string;
  pgFrom: string;
  columns: ColumnPlan[];
  /** Indexes into `columns` of the key rows are matched by; empty: the table has none. */
  key: number[];
  keyKind: "primary" | "unique" | "none";
  /** Key ranges are the same rows on both sides (every key column sorts alike): chunk by ranges. */
  ranged: boolean;
  /** The source table's storage engine, lower case. */
  engine: string;
}

export function planTable(src: TableDef, dst: TargetTable, mapping: Record<string, string>, o: PlanOptions): TablePlan {
  const name = `${src.database}.${src.table}`;
  const columns = src.columns.map((c) => {
    const target = dst.columns.find((x) => x.name === fitName(c.name));
    if (!target) throw new ReplicateError("CHECK_FAILED", `${name}: column ${c.name} does not exist on the target`, { kind: "check", where: name });
    return planColumn(c.name, c.type, { targetType: target.type, sourceNotNull: c.nullable === false, targetNotNull: target.notNull, targetKey: target.inPrimaryKey }, o);
  });
  const index = (n: string) => src.columns.findIndex((c) => c.name === n);
  let key: number[] = [];
  let keyKind: TablePlan["keyKind"] = "none";
  if (src.primaryKey.length > 0) {
    key = src.primaryKey.map(index);
    keyKind = "primary";
  } else {
    // A unique key identifies rows only when none of its columns can be NULL.
    const unique = src.indexes.find(
      (i) => i.kind === "unique" && i.parts.every((p) => "column" in p && p.length === undefined && src.columns[index(p.column)]?.nullable === false),
    );
    if (unique) {
      key = unique.parts.map((p) => index("column" in p ? p.column : ""));
      keyKind = "unique";
    }
  }
  if (key.some((i) => i < 0)) key = [];
  return {
    name,
    myFrom: `${myIdent(src.database)}.${myIdent(src.table)}`,
    pgFrom: `${pgIdent(targetSchema(src.database, mapping))}.${pgIdent(fitName(src.table))}`,
    columns,
    key,
    keyKind: key.length === 0 ? "none" : keyKind,
    ranged: key.length > 0 && key.every((i) => orderSafe(columns[i]!.kind)),
    engine: (src.engine ?? "").toLowerCase(),
  };
}

// ---------------------------------------------------------------- literals

const hexOf = (s: string) => Buffer.from(s, "utf8").toString("hex");
const pgString = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** A float's canonical "[-]DeE" (value 0.D × 10^E) as decimal input text both servers parse. */
function floatText(canon: string): string {
  if (canon === "0") return "0";
  const m = /^(-?)(\d+)e(-?\d+)$/.exec(canon);
  if (!m) throw new ReplicateError("INTERNAL", `not a canonical float: ${canon}`);
  return `${m[1]}0.${m[2]}e${m[3]}`;
}

/**
 * The target literal of a canonical value: a quoted string the column's type parses (numbers
 * too, so that a column the DBA typed differently, e.g. boolean for TINYINT(1), still takes
 * it), or an expression for bytes.
 */
export function pgLiteral(c: ColumnPlan, canon: string | null, raw?: string | null): string {
  if (canon === null) return "NULL";
  if (c.zeroText !== undefined && canon === c.zeroText) return pgString(KEY_ZERO_DATE);
  switch (c.kind) {
    case "float":
    case "double":
      return pgString(floatText(canon));
    case "timestamp":
      return pgString(`${canon}+00`);
    case "bytes":
      return `decode('${canon}', 'hex')`;
    case "bit":
      return `B'${canon}'`;
    case "json":
      return pgString(raw ?? canon);
    default:
      return pgString(canon);
  }
}

/** The source literal of a canonical value, for key predicates. */
function myLiteral(c: ColumnPlan, canon: string | null): string {
  if (canon === null) return "NULL";
  switch (c.kind) {
    case "int":
    case "decimal":
      if (/^-?\d+(\.\d+)?$/.test(canon)) return canon;
      break;
    case "float":
    case "double":
      return floatText(canon);
    case "bit":
      return `b'${canon}'`;
    case "bytes":
      return `X'${canon}'`;
    case "text":
    case "json":
    case "other":
      // A hex literal with an introducer: no escaping rules (NO_BACKSLASH_ESCAPES) can change it,
      // and it coerces to the column's character set.
      return canon === "" ? "_utf8mb4''" : `_utf8mb4 X'${hexOf(canon)}'`;
    default:
      break;
  }
  return `'${canon.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`;
}

// ---------------------------------------------------------------- key predicates

type Side = "my" | "pg";

function keyCols(plan: TablePlan, side: Side): string[] {
  return plan.key.map((i) => (side === "my" ? myIdent(plan.columns[i]!.name) : pgColumn(plan.columns[i]!.name)));
}

function lits(plan: TablePlan, side: Side, key: readonly (string | null)[]): string[] {
  return plan.key.map((i, j) => (side === "my" ? myLiteral(plan.columns[i]!, key[j]!) : pgLiteral(plan.columns[i]!, key[j]!)));
}

/** key > lo (lo exclusive) or key <= hi, lexicographic over the key columns. */
export function keyBound(plan: TablePlan, side: Side, key: readonly (string | null)[], op: ">" | "<="): string {
  const cols = keyCols(plan, side);
  const vals = lits(plan, side, key);
  if (side === "pg") return `(${cols.join(", ")}) ${op} (${vals.join(", ")})`;
  // MySQL plans the OR-expanded form as index ranges; row constructors it may not.
  const strict = op === ">" ? ">" : "<";
  const terms: string[] = [];
  for (let i = 0; i < cols.length; i++) {
    const eq = cols.slice(0, i).map((c, j) => `${c} = ${vals[j]}`);
    const last = i === cols.length - 1 ? op : strict;
    terms.push([...eq, `${cols[i]} ${last} ${vals[i]}`].join(" AND "));
  }
  return terms.length === 1 ? terms[0]! : `(${terms.map((t) => `(${t})`).join(" OR ")})`;
}

/** Rows whose key is one of `keys`. */
export function keyIn(plan: TablePlan, side: Side, keys: ReadonlyArray<readonly (string | null)[]>): string {
  const cols = keyCols(plan, side);
  if (cols.length === 1) return `${cols[0]} IN (${keys.map((k) => lits(plan, side, k)[0]).join(", ")})`;
  return `(${keys
    .map(
      (k) =>
        `(${lits(plan, side, k)
          .map((v, j) => `${cols[j]} = ${v}`)
          .join(" AND ")})`,
    )
    .join(" OR ")})`;
}

/** Key columns as an ORDER BY list. */
export function keyOrder(plan: TablePlan): string {
  return keyCols(plan, "my").join(", ");
}

export function keyOrderPg(plan: TablePlan): string {
  return keyCols(plan, "pg").join(", ");
}
