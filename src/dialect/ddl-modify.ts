// ALTER TABLE … MODIFY / CHANGE / RENAME COLUMN: MySQL restates a column whole (type,
// nullability, default, AUTO_INCREMENT, comment), so the target column is brought to the new
// definition from what it is now (the working copy of ddl-catalog.ts): only what differs is
// changed. Type changes carry a USING cast that converts as MySQL does, chosen from the
// column's current target type; conversions MySQL does differently from any target cast, or
// by the source session's time zone, are refused.

import type { ColumnDef, ColumnPosition, TableRef } from "../binlog/ddl-model.ts";
import { findColumn, primaryKeyOf, type TargetColumn, type TargetTable } from "./ddl-catalog.ts";
import { checkClause, commentSql, implicitValue, nextval, type AutoMode, type ColumnPlan, planColumn, sequenceFor } from "./ddl-column.ts";
import { membersCheckName } from "./ddl-names.ts";
import { indexRecordsFollow } from "./ddl-objects.ts";
import type { Translation } from "./ddl-state.ts";
import { quoteIdent } from "./identifiers.ts";
import { familyOf, type TypeFamily } from "./types.ts";

export function position(tx: Translation, t: TargetTable, column: string, pos: ColumnPosition | undefined): void {
  if (pos)
    tx.skip(
      `${column} ${"first" in pos ? "FIRST" : `AFTER ${pos.after}`} in ${t.name}`,
      "the target appends columns; the sink names every column, so order does not matter to replication",
    );
}

export function renameColumn(tx: Translation, t: TargetTable, c: TargetColumn, to: string): void {
  if (c.name === to) return;
  tx.ident(to, "column");
  const other = findColumn(t, to);
  if (other && other !== c)
    tx.refuse(`RENAME COLUMN ${c.name} TO ${to}`, "the target already has a column of that name (renames that swap names within one statement are not translated)");
  const qt = tx.qualifiedName(t.schema, t.name);
  tx.emit(`ALTER TABLE ${qt} RENAME COLUMN ${quoteIdent(c.name)} TO ${quoteIdent(to)}`);
  const check = t.constraints.find((k) => k.kind === "c" && k.name === membersCheckName(c.name));
  if (check) {
    tx.emit(`ALTER TABLE ${qt} RENAME CONSTRAINT ${quoteIdent(check.name)} TO ${quoteIdent(membersCheckName(to))}`);
    check.name = membersCheckName(to);
  }
  const from = c.name;
  const rename = (n: string) => (n === from ? to : n);
  indexRecordsFollow(tx, t.schema, t.name, from, to);
  c.name = to;
  for (const ix of t.indexes) {
    ix.columns = ix.columns.map(rename);
    for (const p of ix.parts) {
      if (p.column === from) Object.assign(p, { column: to, sql: p.sql === quoteIdent(from) || p.sql === from ? quoteIdent(to) : p.sql });
      if (p.refs) p.refs = p.refs.map(rename);
    }
  }
  for (const k of t.constraints) k.columns = k.columns.map(rename);
  for (const k of tx.catalog.pending) if (k.schema === t.schema && k.table === t.name) k.columns = k.columns.map(rename);
}

function autoOf(c: TargetColumn): AutoMode {
  if (c.identity) return "identity";
  return c.sequence !== null && (c.default ?? "").startsWith("nextval(") ? "sequence" : "none";
}

/** MODIFY / CHANGE: the column restated whole (see the file comment). */
export function restateColumn(tx: Translation, ref: TableRef, t: TargetTable, oldName: string, def: ColumnDef, ifExists: boolean, pos: ColumnPosition | undefined): void {
  const c = findColumn(t, oldName);
  if (!c) {
    if (ifExists) return tx.skip(`MODIFY/CHANGE COLUMN IF EXISTS ${oldName}`, "the column does not exist on the target");
    tx.refuse(`MODIFY/CHANGE COLUMN ${oldName}`, "the column does not exist on the target");
  }
  const qt = tx.qualifiedName(t.schema, t.name);
  if (def.name !== oldName) renameColumn(tx, t, c, def.name);
  const inPk = primaryKeyOf(t)?.parts.some((p) => p.column === c.name) ?? false;
  const plan = planColumn(tx, ref, { ...def, name: c.name }, { inPrimaryKey: inPk });
  position(tx, t, c.name, pos);
  if (def.generated && t.hasRows)
    tx.refuse(`MODIFY COLUMN ${c.name} AS (…) of ${t.name}, which has rows`, "MySQL recomputed the column for the existing rows, which the log does not carry");
  const col = `${qt} ALTER COLUMN ${quoteIdent(c.name)}`;
  const check = t.constraints.find((k) => k.kind === "c" && k.name === membersCheckName(c.name));
  const wasMembers = check !== undefined;
  if (check) {
    tx.emit(`ALTER TABLE ${qt} DROP CONSTRAINT ${quoteIdent(check.name)}`);
    t.constraints = t.constraints.filter((k) => k !== check);
  }
  const before = autoOf(c);
  const typeChanges = c.type !== plan.mapped.sql;
  if (before !== plan.auto) {
    if (before === "identity") tx.emit(`ALTER TABLE ${col} DROP IDENTITY`);
    if (before === "sequence") tx.emit(`ALTER TABLE ${col} DROP DEFAULT`, `DROP SEQUENCE ${c.sequence}`);
    Object.assign(c, { identity: false, sequence: null, default: before === "none" ? c.default : null });
  }
  // An identity column may not have a default; a changed type would have to cast the old one.
  if (c.default !== null && (plan.auto === "none" ? typeChanges || plan.default !== c.default : before === "none")) {
    tx.emit(`ALTER TABLE ${col} DROP DEFAULT`);
    c.default = null;
  }
  if (typeChanges) {
    const using = castFor(tx, t, c, plan, wasMembers);
    tx.emit(`ALTER TABLE ${col} TYPE ${plan.mapped.sql}${using ? ` USING ${using}` : ""}`);
    c.type = plan.mapped.sql;
  }
  const notNull = plan.notNull || inPk;
  if (notNull && !c.notNull) {
    const fill = t.hasRows ? implicitValue(plan) : undefined;
    // Outside strict mode MySQL turned NULLs into the implicit value; in strict mode there were none.
    if (fill !== undefined) tx.emit(`UPDATE ${qt} SET ${quoteIdent(c.name)} = ${fill} WHERE ${quoteIdent(c.name)} IS NULL`);
    tx.emit(`ALTER TABLE ${col} SET NOT NULL`);
  } else if (!notNull && c.notNull) tx.emit(`ALTER TABLE ${col} DROP NOT NULL`);
  c.notNull = notNull;
  if (before !== plan.auto && plan.auto === "identity") tx.emit(`ALTER TABLE ${col} ADD GENERATED BY DEFAULT AS IDENTITY`);
  if (before !== plan.auto && plan.auto === "sequence") {
    const seq = sequenceFor(tx, t.schema, t.name, c.name);
    tx.emit(`CREATE SEQUENCE ${seq}`, `ALTER TABLE ${col} SET DEFAULT ${nextval(seq)}`, `ALTER SEQUENCE ${seq} OWNED BY ${qt}.${quoteIdent(c.name)}`);
    Object.assign(c, { sequence: seq, default: nextval(seq) });
  }
  if (plan.auto === "identity") Object.assign(c, { identity: true, sequence: c.sequence ?? "identity" });
  if (plan.auto === "none" && plan.default !== undefined && c.default !== plan.default) {
    tx.emit(`ALTER TABLE ${col} SET DEFAULT ${plan.default}`);
    c.default = plan.default;
  }
  if (plan.check) {
    tx.emit(`ALTER TABLE ${qt} ADD ${checkClause(c.name, plan.check)}`);
    t.constraints.push({ name: membersCheckName(c.name), kind: "c", columns: [c.name] });
  }
  if ((plan.comment ?? null) !== c.comment) {
    tx.emit(commentSql(`COLUMN ${qt}.${quoteIdent(c.name)}`, plan.comment));
    c.comment = plan.comment ?? null;
  }
}

const TZ = "MySQL converted the values in the source session's time zone, which the log does not carry; convert them on the target with AT TIME ZONE";

/** The USING expression converting the column's current target type to the planned one as MySQL converts. */
function castFor(tx: Translation, t: TargetTable, c: TargetColumn, plan: ColumnPlan, wasMembers: boolean): string | undefined {
  const from = familyOf(c.type);
  const to: TypeFamily = plan.mapped.family;
  const q = quoteIdent(c.name);
  const T = plan.mapped.sql;
  const refuse = (why: string): never => tx.refuse(`MODIFY COLUMN ${c.name} of ${t.name} from ${c.type} to ${T}`, why);
  const numeric = (f: TypeFamily) => f === "int" || f === "numeric" || f === "float";
  const temporal = (f: TypeFamily) => f === "date" || f === "timestamp" || f === "timestamptz" || f === "interval";
  if (from === "other") return `${q}::${T}`;
  if ((from === "timestamptz") !== (to === "timestamptz") && (temporal(from) || from === "text") && (temporal(to) || to === "text")) refuse(TZ);
  if ((from === "interval" && to !== "interval" && to !== "text") || (to === "interval" && from !== "interval" && from !== "text"))
    refuse("MySQL converts TIME to and from numbers and dates in ways the target's casts do not reproduce");
  if ((temporal(from) && numeric(to)) || (numeric(from) && temporal(to))) refuse("MySQL reads dates as YYYYMMDDhhmmss numbers, which the target's casts do not");
  if (wasMembers && numeric(to)) refuse("MySQL converts an ENUM/SET to its member index or bitmask, not its text");
  if (plan.mapped.members && numeric(from)) refuse("MySQL reads a number as an ENUM/SET member index or bitmask");
  if (from === "bytes" && to === "text") return `convert_from(${q}, 'UTF8')::${T}`;
  if (from === "text" && to === "bytes") return `convert_to(${q}, 'UTF8')`;
  // Bit strings cast to another length pad on the right; MySQL keeps the number.
  if (from === "bit" && (numeric(to) || to === "bit")) return `${q}::bigint::${T}`;
  if (numeric(from) && to === "bit") return `${q}::bigint::${T}`;
  if (from !== to && (from === "bit" || to === "bit" || from === "bytes" || to === "bytes" || from === "json" || (to === "json" && from !== "text"))) {
    refuse("MySQL's conversion between these types has no exact target cast");
  }
  return `${q}::${T}`;
}
