// ALTER TABLE ops → target statements, one or more per op, against the working copy of the
// table (ddl-catalog.ts), in MySQL's order: drops first, then column changes and additions in
// written order, then keys, then table options and the rename. MODIFY/CHANGE/RENAME COLUMN are
// in ddl-modify.ts. Columns are appended: MySQL's FIRST/AFTER has no ALTER equivalent on the
// target, and the sink names every column in every statement, so order never matters to
// replication (reported, not refused).
//
// What MySQL computes into EXISTING rows is not in the log, so it must be reproduced exactly or
// refused: the implicit value of an added NOT NULL column (0, '', the first ENUM member; zero
// dates cannot be), an added column's DEFAULT, numbering of an added AUTO_INCREMENT column,
// generated values. Likewise the rows DROP/TRUNCATE PARTITION delete: a DELETE of exactly
// them where the partitions are known (ddl-objects.ts, ddl-partitions.ts), else refused.

import type { AlterOp, AlterTable, ColumnDef, ColumnPosition, TableRef } from "../binlog/ddl-model.ts";
import { findColumn, primaryKeyOf, type TargetIndex, type TargetTable } from "./ddl-catalog.ts";
import { checkClause, columnSql, commentSql, defaultSql, implicitValue, isZeroDate, nextval, type ColumnPlan, planColumn, sequenceFor, ZERO_DATE_FAMILIES } from "./ddl-column.ts";
import { createIndexSql, dropIndexSql, findIndex, planIndex } from "./ddl-index.ts";
import { indexRecordsFollow, moveTable, recordCheck, renameRecord } from "./ddl-objects.ts";
import { alterPartitions } from "./ddl-partitions-native.ts";
import { addForeignKey, dropPending, ibfkNumber, planForeignKey } from "./ddl-foreign.ts";
import { alterOpsWithJson } from "./ddl-json.ts";
import { fitName, indexName, literal, membersCheckName, mysqlIndexName, primaryKeyName, sameName, sequenceName } from "./ddl-names.ts";
import { position, renameColumn, restateColumn } from "./ddl-modify.ts";
import type { Translation } from "./ddl-state.ts";
import { checkTableOptions, targetColumn } from "./ddl-table.ts";
import { quoteIdent } from "./identifiers.ts";
import { familyOf } from "./types.ts";

/** Partition and tablespace maintenance that changes rows without logging them (DROP/TRUNCATE PARTITION: ddl-objects.ts). */
const DATA_CHANGING = /^EXCHANGE\s+PARTITION|^(IMPORT|DISCARD)\s+(PARTITION|TABLESPACE)/i;

const RANK: Record<AlterOp["op"], number> = {
  drop_foreign_key: 0,
  drop_constraint: 0,
  drop_index: 0,
  drop_primary_key: 0,
  drop_column: 1,
  add_column: 2,
  modify_column: 2,
  change_column: 2,
  rename_column: 2,
  alter_column_default: 2,
  alter_column_visibility: 2,
  rename_index: 3,
  add_primary_key: 3,
  add_unique: 3,
  add_index: 3,
  add_foreign_key: 3,
  add_check: 3,
  table_options: 4,
  convert_charset: 4,
  other: 4,
  unsupported: 4,
  rename_table: 5,
};

export function alterTable(tx: Translation, ddl: AlterTable): void {
  const ref = ddl.table;
  for (const op of ddl.ops) {
    if (op.op === "unsupported") tx.refuse(`ALTER TABLE ${ref.table} ${op.text}`, `this alter specification was not understood (${op.reason})`);
    if (op.op === "other" && DATA_CHANGING.test(op.text.trim())) {
      tx.refuse(
        `ALTER TABLE ${ref.table} ${op.text}`,
        "it changes rows without logging them (MySQL deletes or swaps a partition's rows, and the binlog has the statement, not the rows), so the target cannot follow; delete or load the same rows on the target (SHOW CREATE TABLE on the source gives the partition's bounds)",
      );
    }
  }
  if (!tx.current(ref)) {
    if (ddl.ifExists) return tx.skip(`ALTER TABLE IF EXISTS ${ref.table}`, "the table does not exist on the target");
    tx.existing(ref);
  }
  const before = tx.current(ref)!;
  alterPartitions(tx, ddl, before);
  const ops = alterOpsWithJson(tx, ddl.ops)
    .map((op, i) => ({ op, i }))
    .sort((a, b) => RANK[a.op.op] - RANK[b.op.op] || a.i - b.i);
  let current = ref;
  for (const { op } of ops) current = applyOp(tx, current, op);
}

/** One op; returns the table's name afterwards (RENAME TO changes it). */
export function applyOp(tx: Translation, ref: TableRef, op: AlterOp): TableRef {
  const t = tx.existing(ref);
  const qt = tx.qualifiedName(t.schema, t.name);
  const col = (name: string) => findColumn(t, name);
  switch (op.op) {
    case "add_column":
      addColumn(tx, ref, t, op.column, op.ifNotExists, op.position);
      break;
    case "drop_column":
      dropColumn(tx, t, op.name);
      break;
    case "modify_column":
    case "change_column":
      restateColumn(tx, ref, t, op.op === "change_column" ? op.oldName : op.column.name, op.column, op.ifExists, op.position);
      break;
    case "rename_column": {
      const c = col(op.from);
      if (!c) tx.refuse(`RENAME COLUMN ${op.from}`, "the column does not exist on the target");
      renameColumn(tx, t, c, op.to);
      break;
    }
    case "alter_column_default": {
      const c = col(op.name);
      if (!c) tx.refuse(`ALTER COLUMN ${op.name}`, "the column does not exist on the target");
      const target = { family: familyOf(c.type), bits: Number(/^bit\((\d+)\)/.exec(c.type)?.[1] ?? 1) };
      const d = op.default ? defaultSql(tx, `column ${t.name}.${c.name}`, op.default, target) : undefined;
      if (d !== undefined) tx.emit(`ALTER TABLE ${qt} ALTER COLUMN ${quoteIdent(c.name)} SET DEFAULT ${d}`);
      else if (c.default !== null) tx.emit(`ALTER TABLE ${qt} ALTER COLUMN ${quoteIdent(c.name)} DROP DEFAULT`);
      c.default = d ?? null;
      break;
    }
    case "alter_column_visibility":
      tx.skip(`ALTER COLUMN ${op.name} SET ${op.invisible ? "INVISIBLE" : "VISIBLE"}`, "the target has no invisible columns");
      break;
    case "add_index":
    case "add_unique": {
      const existing = op.index.name !== undefined ? findIndex(t, op.index.name) : undefined;
      if (existing && op.ifNotExists) return ref;
      addIndex(tx, t, planIndex(tx, ref, t, op.index));
      break;
    }
    case "add_primary_key": {
      if (primaryKeyOf(t)) tx.refuse(`ADD PRIMARY KEY to ${t.name}`, "the target table already has a primary key");
      const pk = planIndex(tx, ref, t, op.index)!;
      // Under zero_date = "null" a date column's NULLs may stand for zero dates, which a key
      // column holds as -infinity (values.ts). MySQL's ADD PRIMARY KEY succeeded, so the column
      // held no real NULL: each one is a zero date.
      if (tx.ctx.zeroDate === "null") {
        for (const p of pk.parts) {
          const c = p.column === undefined ? undefined : col(p.column);
          if (c && !c.notNull && ZERO_DATE_FAMILIES.has(familyOf(c.type))) tx.emit(`UPDATE ${qt} SET ${quoteIdent(c.name)} = '-infinity' WHERE ${quoteIdent(c.name)} IS NULL`);
        }
      }
      addIndex(tx, t, pk);
      for (const p of pk.parts) col(p.column!)!.notNull = true;
      t.constraints.push({ name: pk.name, kind: "p", columns: pk.parts.map((p) => p.column!) });
      break;
    }
    case "drop_index":
    case "drop_primary_key": {
      const name = op.op === "drop_index" ? op.name : "PRIMARY";
      const ix = findIndex(t, name);
      if (!ix) {
        const recorded = tx.forget({ kind: "index", schema: t.schema, name }, t.name);
        tx.skip(
          `DROP INDEX ${name} of ${t.name}`,
          recorded ? "the index was never created on the target; its record in gs_replicate.skipped_objects is removed" : "the target has no such index: nothing to drop",
        );
        break;
      }
      tx.emit(dropIndexSql(qt, t.schema, ix));
      removeIndex(t, ix);
      break;
    }
    case "rename_index": {
      const ix = findIndex(t, op.from);
      if (!ix && renameRecord(tx, { kind: "index", schema: t.schema, table: t.name, name: op.from }, op.to)) {
        tx.skip(`RENAME INDEX ${op.from} of ${t.name}`, "the index was never created on the target; its record in gs_replicate.skipped_objects is renamed");
        break;
      }
      if (!ix) tx.refuse(`RENAME INDEX ${op.from}`, "the target has no such index");
      const to = indexName(t.name, op.to);
      tx.emit(
        ix.constraint
          ? `ALTER TABLE ${qt} RENAME CONSTRAINT ${quoteIdent(ix.name)} TO ${quoteIdent(to)}`
          : `ALTER INDEX ${tx.qualifiedName(t.schema, ix.name)} RENAME TO ${quoteIdent(to)}`,
      );
      ix.name = to;
      break;
    }
    case "add_foreign_key": {
      const named = op.foreignKey.name === undefined ? undefined : fitName(op.foreignKey.name);
      const pending = tx.catalog.pending.filter((k) => k.schema === t.schema && k.table === t.name);
      if (op.ifNotExists && named && [...t.constraints.filter((c) => c.kind === "f"), ...pending].some((c) => sameName(c.name, named))) return ref;
      const planned = planForeignKey(tx, ref, t, op.foreignKey);
      addForeignKey(tx, t, planned);
      if (planned.index) addIndex(tx, t, planIndex(tx, ref, t, planned.index));
      break;
    }
    case "drop_foreign_key":
      if (dropPending(tx, t, op.name)) break;
      dropConstraint(tx, t, op.name, "f");
      break;
    case "add_check":
      recordCheck(tx, t.schema, t.name, op.check);
      break;
    case "drop_constraint": {
      if (op.check) {
        dropConstraint(tx, t, op.name, "c");
        break;
      }
      const ix = findIndex(t, op.name);
      if (ix && !ix.primary && ix.unique && !t.constraints.some((c) => c.kind === "f" && sameName(c.name, op.name))) {
        tx.emit(dropIndexSql(qt, t.schema, ix));
        removeIndex(t, ix);
      } else dropConstraint(tx, t, op.name, "fc");
      break;
    }
    case "rename_table":
      return renameTable(tx, ref, op.to, false);
    case "convert_charset":
      if (op.charset === "binary")
        tx.refuse(`CONVERT TO CHARACTER SET binary of ${t.name}`, "MySQL turns every character column into a byte string; change the columns to bytea by hand");
      break;
    case "table_options":
      checkTableOptions(tx, ref, op.options);
      if (op.options.comment !== undefined) {
        tx.emit(commentSql(`TABLE ${qt}`, op.options.comment));
        t.comment = op.options.comment || null;
      }
      break;
    case "other":
    case "unsupported":
      break;
  }
  return ref;
}

function addIndex(tx: Translation, t: TargetTable, ix: TargetIndex | undefined): void {
  if (!ix) return;
  tx.emit(...createIndexSql(tx.qualifiedName(t.schema, t.name), t.schema, ix));
  t.indexes.push(ix);
}

function removeIndex(t: TargetTable, ix: TargetIndex): void {
  t.indexes = t.indexes.filter((i) => i !== ix);
  t.constraints = t.constraints.filter((c) => !(c.name === ix.name && (c.kind === "p" || c.kind === "u")));
}

/** Drops a constraint of one of `kinds` by MySQL name; a missing one is reported (nothing to drop). */
function dropConstraint(tx: Translation, t: TargetTable, name: string, kinds: string): void {
  const ibfk = /_ibfk_(\d+)$/.exec(name);
  // The ENUM/SET CHECKs are this tool's, not MySQL CHECKs that happen to share a name.
  const ours = (k: { kind: string; name: string }) => k.kind === "c" && t.columns.some((c) => membersCheckName(c.name) === k.name);
  const target = fitName(name);
  const c =
    t.constraints.find((k) => kinds.includes(k.kind) && (sameName(k.name, name) || k.name === target) && !ours(k)) ??
    (ibfk ? t.constraints.find((k) => k.kind === "f" && ibfkNumber(t.name, k.name) === Number(ibfk[1])) : undefined);
  if (!c) {
    // A CHECK, or (MariaDB DROP CONSTRAINT) a key, that was recorded instead of created.
    const recorded = [tx.forget({ kind: "check", schema: t.schema, name }, t.name), tx.forget({ kind: "index", schema: t.schema, name }, t.name)].some(Boolean);
    const why = recorded ? "it was never created on the target; its record in gs_replicate.skipped_objects is removed" : "the target has no such constraint: nothing to drop";
    return tx.skip(`DROP CONSTRAINT ${name} of ${t.name}`, why);
  }
  tx.emit(`ALTER TABLE ${tx.qualifiedName(t.schema, t.name)} DROP CONSTRAINT ${quoteIdent(c.name)}`);
  t.constraints = t.constraints.filter((k) => k !== c);
}

function addColumn(tx: Translation, ref: TableRef, t: TargetTable, def: ColumnDef, ifNotExists: boolean, pos: ColumnPosition | undefined): void {
  const qt = tx.qualifiedName(t.schema, t.name);
  if (findColumn(t, def.name)) {
    if (ifNotExists) return tx.skip(`ADD COLUMN IF NOT EXISTS ${def.name}`, "the column exists on the target");
    tx.refuse(`ADD COLUMN ${def.name}`, "the column already exists on the target");
  }
  const plan = planColumn(tx, ref, def, {});
  position(tx, t, def.name, pos);
  const what = `ADD COLUMN ${def.name} to ${t.name}, which has rows`;
  let fill: string | undefined = plan.default;
  if (t.hasRows) {
    if (plan.auto !== "none")
      tx.refuse(what, "MySQL numbered the existing rows in its own order, which the log does not carry; add the column on the target with the source's values");
    if (def.generated) tx.refuse(what, "MySQL computed the column for the existing rows, which the log does not carry; add it on the target with the source's values");
    if (def.default?.kind === "current_timestamp") fill = fillTime(tx, what, plan, def.default.fsp);
    else if (zeroDateDefault(def, plan) && tx.ctx.zeroDate === "null")
      fill = undefined; // the rows' zero dates: NULL, as the sink stores them
    else if (def.default !== undefined && def.default.kind !== "null" && plan.default === undefined)
      tx.refuse(what, "MySQL filled the existing rows with the column's DEFAULT, which has no exact target form");
    if (fill === undefined && plan.notNull)
      fill =
        implicitValue(plan) ??
        tx.refuse(what, `MySQL filled the existing rows with its implicit value for ${plan.type.name.toUpperCase()} NOT NULL, which the target cannot store`);
  }
  const c = `${qt} ALTER COLUMN ${quoteIdent(plan.name)}`;
  if (plan.auto === "sequence") {
    // openGauss refuses ADD COLUMN with a nextval() default: the table is empty here, so add, then default.
    const seq = sequenceFor(tx, t.schema, t.name, plan.name);
    tx.emit(
      `CREATE SEQUENCE ${seq}`,
      `ALTER TABLE ${qt} ADD COLUMN ${columnSql({ ...plan, auto: "none" })}`,
      `ALTER TABLE ${c} SET DEFAULT ${nextval(seq)}`,
      `ALTER SEQUENCE ${seq} OWNED BY ${qt}.${quoteIdent(plan.name)}`,
    );
    t.columns.push(targetColumn(plan, seq));
  } else {
    const add = fill === undefined ? plan : { ...plan, default: fill };
    tx.emit(`ALTER TABLE ${qt} ADD COLUMN ${columnSql(add)}`);
    if (fill !== plan.default) tx.emit(plan.default === undefined ? `ALTER TABLE ${c} DROP DEFAULT` : `ALTER TABLE ${c} SET DEFAULT ${plan.default}`);
    t.columns.push(targetColumn(plan, undefined));
  }
  if (plan.check) {
    tx.emit(`ALTER TABLE ${qt} ADD ${checkClause(plan.name, plan.check)}`);
    t.constraints.push({ name: membersCheckName(plan.name), kind: "c", columns: [plan.name] });
  }
  if (plan.comment) tx.emit(commentSql(`COLUMN ${qt}.${quoteIdent(plan.name)}`, plan.comment));
}

/** A DEFAULT that is MySQL's zero date ('0000-00-00…', or 0) of a DATE/DATETIME/TIMESTAMP column. */
function zeroDateDefault(def: ColumnDef, plan: ColumnPlan): boolean {
  const d = def.default;
  if (d === undefined || !ZERO_DATE_FAMILIES.has(plan.mapped.family)) return false;
  return (d.kind === "string" && isZeroDate(d.value)) || (d.kind === "number" && Number(d.text) === 0);
}

/** CURRENT_TIMESTAMP as MySQL evaluated it for existing rows: the statement's start, known to the second. */
function fillTime(tx: Translation, what: string, plan: ColumnPlan, fsp: number): string {
  const ms = tx.ctx.eventTimeMs;
  if (plan.mapped.family !== "timestamptz") tx.refuse(what, "MySQL filled the existing rows with the DDL's time in the source session's time zone, which the log does not carry");
  if (ms === undefined || fsp > 0) tx.refuse(what, "MySQL filled the existing rows with the DDL's time, which the log carries only to the second");
  return `${literal(new Date(Math.floor(ms / 1000) * 1000).toISOString())}::timestamp with time zone`;
}

/** A missing column is reported, IF EXISTS or not: the target is already as MySQL left it. */
function dropColumn(tx: Translation, t: TargetTable, name: string): void {
  const c = findColumn(t, name);
  if (!c) return tx.skip(`DROP COLUMN ${name} of ${t.name}`, "the column does not exist on the target: nothing to drop");
  const qt = tx.qualifiedName(t.schema, t.name);
  // The target drops every index on the column; MySQL removes the column from multi-column
  // indexes and keeps them (MariaDB refuses): those are recreated without it.
  const rebuilt: TargetIndex[] = [];
  for (const ix of t.indexes.filter((i) => i.columns.includes(c.name))) {
    removeIndex(t, ix);
    const unknown = ix.parts.some((p) => p.column === undefined && p.refs === undefined);
    const rest = ix.parts.filter((p) => p.column !== c.name && !(p.refs ?? []).includes(c.name));
    if (rest.length === 0 || rest.length === ix.parts.length) continue;
    if (unknown || ix.partial)
      tx.refuse(`DROP COLUMN ${name} of ${t.name}`, `MySQL keeps index ${ix.name} without the column, and the target's definition of it cannot be rebuilt`);
    rebuilt.push({ ...ix, parts: rest, columns: ix.columns.filter((x) => x !== c.name) });
  }
  tx.emit(`ALTER TABLE ${qt} DROP COLUMN ${quoteIdent(c.name)}`);
  indexRecordsFollow(tx, t.schema, t.name, c.name);
  t.columns = t.columns.filter((x) => x !== c);
  t.constraints = t.constraints.filter((k) => !k.columns.includes(c.name));
  for (const ix of rebuilt) {
    tx.emit(...createIndexSql(qt, t.schema, ix));
    t.indexes.push(ix);
    if (ix.primary) t.constraints.push({ name: ix.name, kind: "p", columns: ix.parts.map((p) => p.column!) });
  }
}

/** Whether `schema.name`, as the target prints it (quoted only where needed) or as built here, names that relation. */
function sameRelation(qualified: string, schema: string, name: string): boolean {
  const parts: string[] = [];
  const re = /"((?:[^"]|"")*)"|([^".]+)/g;
  for (let m = re.exec(qualified); m; m = re.exec(qualified)) parts.push(m[1] !== undefined ? m[1].replace(/""/g, '"') : m[2]!);
  return parts.length === 2 && parts[0] === schema && parts[1] === name;
}

/** RENAME TABLE a TO b (also across databases): indexes named after the table follow it. */
export function renameTable(tx: Translation, from: TableRef, to: TableRef, ifExists: boolean): TableRef {
  const t = tx.current(from);
  if (!t) {
    if (ifExists) {
      tx.skip(`RENAME TABLE IF EXISTS ${from.database}.${from.table}`, "the table does not exist on the target");
      return to;
    }
    tx.existing(from);
  }
  const table = t!;
  const schema = tx.schemaName(to.database);
  tx.ident(schema, "schema");
  tx.ident(to.table, "table");
  if (schema === table.schema && to.table === table.name) return to;
  const other = tx.catalog.table(schema, to.table);
  if (other && other !== table && other.name === to.table) tx.refuse(`RENAME TABLE ${from.table} TO ${to.database}.${to.table}`, "the target already has that table");
  const qt = tx.qualifiedName(table.schema, table.name);
  for (const ix of table.indexes) {
    const m = ix.primary ? (ix.name === primaryKeyName(table.name) ? "" : undefined) : mysqlIndexName(table.name, ix.name);
    if (m === undefined) continue;
    const name = ix.primary ? primaryKeyName(to.table) : indexName(to.table, m);
    if (name === ix.name) continue;
    tx.emit(
      ix.constraint
        ? `ALTER TABLE ${qt} RENAME CONSTRAINT ${quoteIdent(ix.name)} TO ${quoteIdent(name)}`
        : `ALTER INDEX ${tx.qualifiedName(table.schema, ix.name)} RENAME TO ${quoteIdent(name)}`,
    );
    for (const k of table.constraints) if (k.name === ix.name && k.kind !== "f") k.name = name;
    ix.name = name;
  }
  // MySQL 8 renames generated foreign key names (t_ibfk_N) with the table; pending keys follow it.
  for (const k of table.constraints) {
    const n = k.kind === "f" ? ibfkNumber(table.name, k.name) : undefined;
    if (n === undefined) continue;
    const name = tx.targetName(`foreign key ${to.table}_ibfk_${n}`, `${to.table}_ibfk_${n}`);
    tx.emit(`ALTER TABLE ${qt} RENAME CONSTRAINT ${quoteIdent(k.name)} TO ${quoteIdent(name)}`);
    k.name = name;
  }
  moveTable(tx, { schema: table.schema, table: table.name }, { schema, table: to.table });
  for (const k of tx.catalog.pending.filter((p) => p.schema === table.schema && p.table === table.name)) {
    const n = ibfkNumber(table.name, k.name);
    if (n !== undefined) k.name = fitName(`${to.table}_ibfk_${n}`);
    k.schema = schema;
    k.table = to.table;
  }
  // An AUTO_INCREMENT sequence this tool named after the table follows it too, so the name is
  // free again for a table created under the old name (online schema change tools do that).
  // openGauss cannot rename a sequence: there it keeps its name, and a new one picks a free name.
  for (const c of tx.dialect === "opengauss" ? [] : table.columns) {
    if (c.identity || !c.sequence || !sameRelation(c.sequence, table.schema, sequenceName(table.name, c.name))) continue;
    const name = sequenceName(to.table, c.name);
    tx.emit(`ALTER SEQUENCE ${c.sequence} RENAME TO ${quoteIdent(name)}`);
    const renamed = tx.qualifiedName(table.schema, name);
    if (c.default !== null) c.default = nextval(renamed);
    c.sequence = renamed;
  }
  if (table.name !== to.table) tx.emit(`ALTER TABLE ${qt} RENAME TO ${quoteIdent(to.table)}`);
  if (table.schema !== schema) tx.emit(`ALTER TABLE ${tx.qualifiedName(table.schema, to.table)} SET SCHEMA ${quoteIdent(schema)}`);
  if (table.schema !== schema) {
    // Owned sequences move with the table.
    const [a, b] = [`${quoteIdent(table.schema)}.`, `${quoteIdent(schema)}.`];
    for (const c of table.columns) {
      if (c.sequence?.startsWith(a)) c.sequence = b + c.sequence.slice(a.length);
      if (c.default?.includes(literal(a).slice(1, -1))) c.default = c.default.replace(literal(a).slice(1, -1), literal(b).slice(1, -1));
    }
  }
  tx.catalog.remove(table.schema, table.name);
  table.schema = schema;
  table.name = to.table;
  tx.catalog.put(table);
  return to;
}
