// MySQL foreign keys → target foreign keys, created as strong as the source's.
//
// They are needed, not cosmetic: InnoDB runs ON DELETE/UPDATE CASCADE and SET NULL inside the
// source and does not log the rows they change (measured on MariaDB 10.11: a DELETE of one
// parent row is one row event, its cascaded children are not in the binlog), so only the same
// foreign key on the target removes or nulls them there too. A key is therefore created with
// the source's actions, or the statement is refused; never dropped or weakened.
//
// FOREIGN_KEY_CHECKS=0 (every schema dump: mysqldump creates tables in alphabetical order, so a
// child often comes before its parent) lets MySQL create a foreign key to a table that does
// not exist yet, and to add one without checking existing rows. The target cannot have a
// foreign key to a missing table, so such a key is kept PENDING (in the catalog's `pending`,
// which the sink stores in its checkpoint with the statement) and created, NOT VALID as MySQL
// never checked the rows already there, by the statement that creates its referenced table
// (CREATE TABLE, CREATE TABLE … LIKE, RENAME TABLE). Dropping a parent under
// FOREIGN_KEY_CHECKS=0 makes its children's keys pending again; dropping a child drops its
// pending keys. With FOREIGN_KEY_CHECKS=1 the source had the referenced table, so a target
// without it is refused with what to do.
//
// Names: a named key keeps its name (shortened like every name over 63 bytes, see
// ddl-names.ts); an unnamed one gets InnoDB's table_ibfk_N, N one more than the highest in use,
// pending keys included. Like InnoDB, an index on the key columns is created when none leads
// with them, named after the key, so a later DROP INDEX finds it.

import type { ForeignKeyDef, IndexDef, TableRef } from "../binlog/ddl-model.ts";
import { findColumn, type ForeignKeyRef, type TargetConstraint, type TargetIndex, type TargetTable } from "./ddl-catalog.ts";
import { byteLength, fitName, MAX_IDENTIFIER_BYTES, sameName } from "./ddl-names.ts";
import type { Translation } from "./ddl-state.ts";
import { quoteIdent } from "./identifiers.ts";

interface PlannedForeignKey {
  key: ForeignKeyRef;
  constraint: TargetConstraint;
  /** The constraint clause, when the referenced table exists; undefined for a pending key. */
  clause?: string;
  /** InnoDB's automatic index on the key columns, when no index leads with them. */
  index?: IndexDef;
}

/**
 * Plans foreign key `fk` of `table` (its working copy; `ref` its source name). A key whose
 * referenced table does not exist is pending under FOREIGN_KEY_CHECKS=0 and refused otherwise.
 */
export function planForeignKey(tx: Translation, ref: TableRef, table: TargetTable, fk: ForeignKeyDef, pendingIndexes: TargetIndex[] = []): PlannedForeignKey {
  const name = fk.name === undefined ? nextIbfk(tx, table) : tx.targetName(`foreign key ${fk.name} of ${ref.table}`, fk.name);
  const target = fk.target;
  const refSchema = tx.schemaName(target.table.database);
  const key: ForeignKeyRef = {
    schema: table.schema,
    table: table.name,
    name,
    columns: fk.columns.map((c) => findColumn(table, c)?.name ?? c),
    refSchema,
    refTable: target.table.table,
    refColumns: target.columns,
  };
  // InnoDB ignores MATCH; NO ACTION and RESTRICT both check at once there, and the target's
  // default (NO ACTION, at statement end) never refuses what a row-by-row check accepted.
  if (target.onDelete && target.onDelete !== "NO ACTION") key.onDelete = target.onDelete;
  if (target.onUpdate && target.onUpdate !== "NO ACTION") key.onUpdate = target.onUpdate;
  const self = refSchema === table.schema && sameName(target.table.table, table.name);
  const parent = self ? table : tx.current(target.table);
  const planned: PlannedForeignKey = { key, constraint: { name, kind: "f", columns: key.columns } };
  if (parent) planned.clause = clauseFor(tx, key, parent);
  else if (tx.foreignKeyChecks) {
    tx.refuse(
      `foreign key ${fk.name ?? name} of ${ref.table}`,
      `it references ${target.table.database}.${target.table.table}, which does not exist on the target (schema ${refSchema}). The source checked foreign keys when it ran the statement ` +
        `(FOREIGN_KEY_CHECKS=1), so it had that table: create it on the target as on the source (the full copy may have missed it) and restart the sink`,
    );
  } else {
    tx.note(
      `foreign key ${name} of ${table.schema}.${table.name} waits for table ${refSchema}.${key.refTable}, which does not exist yet (FOREIGN_KEY_CHECKS=0); it is created with that table`,
    );
  }
  const cols = key.columns;
  const leads = (ix: TargetIndex) => cols.every((c, i) => ix.parts[i]?.column !== undefined && sameName(ix.parts[i]!.column!, c));
  if (![...table.indexes, ...pendingIndexes].some(leads)) {
    const index: IndexDef = { kind: "index", parts: cols.map((column) => ({ column })) };
    if (fk.name !== undefined) index.name = fk.name;
    planned.index = index;
  }
  return planned;
}

/**
 * The constraint clause of `key` referencing `parent` (its working copy). The target needs a
 * unique key on exactly the referenced columns where InnoDB accepts any index leading with
 * them; without one, the key cannot be created as strong as the source's, so it is refused.
 */
function clauseFor(tx: Translation, key: ForeignKeyRef, parent: TargetTable): string {
  const parentCols = key.refColumns.map((c) => findColumn(parent, c)?.name ?? c);
  const unique = parent.indexes.some(
    (ix) => ix.unique && !ix.partial && ix.parts.length === parentCols.length && ix.parts.every((p) => p.column !== undefined && parentCols.includes(p.column)),
  );
  if (parentCols.length > 0 && !unique) {
    tx.refuse(
      `foreign key ${key.name} of ${key.table}`,
      `the target needs a primary or unique key on exactly (${parentCols.join(", ")}) of ${parent.schema}.${parent.name}, which MySQL does not require; ` +
        `if those values are unique, add a unique key on them on the target (CREATE UNIQUE INDEX … ON ${tx.qualifiedName(parent.schema, parent.name)} (${parentCols.map(quoteIdent).join(", ")})) and restart the sink`,
    );
  }
  const refs = parentCols.length ? ` (${parentCols.map(quoteIdent).join(", ")})` : "";
  let clause = `CONSTRAINT ${quoteIdent(key.name)} FOREIGN KEY (${key.columns.map(quoteIdent).join(", ")}) REFERENCES ${tx.qualifiedName(parent.schema, parent.name)}${refs}`;
  if (key.onDelete) clause += ` ON DELETE ${key.onDelete}`;
  if (key.onUpdate) clause += ` ON UPDATE ${key.onUpdate}`;
  return clause;
}

/** ALTER TABLE … ADD of a planned key on a table that exists; pending keys are kept instead. */
export function addForeignKey(tx: Translation, t: TargetTable, planned: PlannedForeignKey): void {
  if (planned.clause === undefined) {
    tx.catalog.pending.push(planned.key);
    return;
  }
  // Under FOREIGN_KEY_CHECKS=0 MySQL does not check the rows already there.
  const notValid = !tx.foreignKeyChecks && t.hasRows ? " NOT VALID" : "";
  tx.emit(`ALTER TABLE ${tx.qualifiedName(t.schema, t.name)} ADD ${planned.clause}${notValid}`);
  t.constraints.push(planned.constraint);
}

/** Creates every pending key whose referenced table exists now (run after each statement). */
export function settlePending(tx: Translation): void {
  const waiting: ForeignKeyRef[] = [];
  for (const key of tx.catalog.pending) {
    const parent = tx.catalog.table(key.refSchema, key.refTable);
    if (!parent) {
      waiting.push(key);
      continue;
    }
    const child = tx.catalog.table(key.schema, key.table);
    if (child?.constraints.some((c) => c.kind === "f" && c.name === key.name)) {
      tx.note(`foreign key ${key.name} of ${key.schema}.${key.table}, pending since FOREIGN_KEY_CHECKS=0, is on the target already (added by hand): no longer pending`);
      continue;
    }
    tx.emit(`ALTER TABLE ${tx.qualifiedName(key.schema, key.table)} ADD ${clauseFor(tx, key, parent)} NOT VALID`);
    tx.catalog.table(key.schema, key.table)?.constraints.push({ name: key.name, kind: "f", columns: key.columns });
    tx.note(`foreign key ${key.name} of ${key.schema}.${key.table}, pending since FOREIGN_KEY_CHECKS=0, is created now that ${parent.schema}.${parent.name} exists`);
  }
  tx.catalog.pending = waiting;
}

/**
 * DROP TABLE (or DROP DATABASE) of `dropped`: their pending keys go with them, and keys of other
 * tables that reference them become pending under FOREIGN_KEY_CHECKS=0 (MySQL keeps them,
 * dangling); with checks on MySQL would have refused the drop, so the source had no such key.
 */
export function dropReferences(tx: Translation, dropped: ReadonlyArray<Pick<TargetTable, "schema" | "name">>): void {
  const isDropped = (schema: string, table: string) => dropped.some((d) => d.schema === schema && sameName(d.name, table));
  tx.catalog.pending = tx.catalog.pending.filter((k) => !isDropped(k.schema, k.table));
  const referencing = tx.catalog.referencing;
  tx.catalog.referencing = referencing.filter((fk) => !isDropped(fk.refSchema, fk.refTable));
  for (const fk of referencing) {
    if (!isDropped(fk.refSchema, fk.refTable) || isDropped(fk.schema, fk.table)) continue;
    if (tx.foreignKeyChecks) {
      tx.refuse(
        `DROP TABLE ${fk.refSchema}.${fk.refTable}`,
        `foreign key ${fk.name} of ${fk.schema}.${fk.table} references it on the target; the source dropped the table with FOREIGN_KEY_CHECKS=1, so it had no such foreign key: ` +
          `drop it on the target (ALTER TABLE ${tx.qualifiedName(fk.schema, fk.table)} DROP CONSTRAINT ${quoteIdent(fk.name)}) and restart the sink`,
      );
    }
    tx.emit(`ALTER TABLE ${tx.qualifiedName(fk.schema, fk.table)} DROP CONSTRAINT ${quoteIdent(fk.name)}`);
    const child = tx.catalog.table(fk.schema, fk.table);
    if (child) child.constraints = child.constraints.filter((c) => !(c.kind === "f" && c.name === fk.name));
    tx.catalog.pending.push(fk);
    tx.note(`foreign key ${fk.name} of ${fk.schema}.${fk.table} waits for table ${fk.refSchema}.${fk.refTable} again: it was dropped with FOREIGN_KEY_CHECKS=0`);
  }
}

/**
 * TRUNCATE of `t` (its working copy). The target refuses to truncate a table other tables'
 * keys reference; MySQL too, unless FOREIGN_KEY_CHECKS=0, where it empties the table and keeps
 * the children's rows: the keys are dropped around the TRUNCATE and added again NOT VALID.
 */
export function truncateReferenced(tx: Translation, t: TargetTable): void {
  const qt = tx.qualifiedName(t.schema, t.name);
  const children = tx.catalog.referencing.filter((fk) => fk.refSchema === t.schema && fk.refTable === t.name && !(fk.schema === t.schema && fk.table === t.name));
  if (children.length > 0 && tx.foreignKeyChecks) {
    const fk = children[0]!;
    tx.refuse(
      `TRUNCATE TABLE ${t.schema}.${t.name}`,
      `foreign key ${fk.name} of ${fk.schema}.${fk.table} references it on the target; the source truncated the table with FOREIGN_KEY_CHECKS=1, which MySQL refuses for a referenced table, so it had no such foreign key: ` +
        `drop it on the target (ALTER TABLE ${tx.qualifiedName(fk.schema, fk.table)} DROP CONSTRAINT ${quoteIdent(fk.name)}) and restart the sink`,
    );
  }
  for (const fk of children) tx.emit(`ALTER TABLE ${tx.qualifiedName(fk.schema, fk.table)} DROP CONSTRAINT ${quoteIdent(fk.name)}`);
  tx.emit(`TRUNCATE TABLE ${qt}`);
  t.hasRows = false;
  for (const fk of children) tx.emit(`ALTER TABLE ${tx.qualifiedName(fk.schema, fk.table)} ADD ${clauseFor(tx, fk, t)} NOT VALID`);
  if (children.length > 0)
    tx.note(
      `TRUNCATE of ${t.schema}.${t.name} with FOREIGN_KEY_CHECKS=0 keeps the rows of ${children.map((k) => `${k.schema}.${k.table}`).join(", ")}, as MySQL does; their foreign keys are added again NOT VALID`,
    );
}

/** The pending key of `t` that MySQL's DROP FOREIGN KEY `name` names, removed; undefined when none. */
export function dropPending(tx: Translation, t: TargetTable, name: string): ForeignKeyRef | undefined {
  const mine = tx.catalog.pending.filter((k) => k.schema === t.schema && k.table === t.name);
  const n = ibfkNumber(t.name, name);
  const key = mine.find((k) => k.name === fitName(name) || sameName(k.name, name)) ?? (n === undefined ? undefined : mine.find((k) => ibfkNumber(t.name, k.name) === n));
  if (key) tx.catalog.pending = tx.catalog.pending.filter((k) => k !== key);
  return key;
}

/**
 * N of an InnoDB generated name table_ibfk_N (also in its shortened form), else undefined.
 * `table` is the target's name; the source's own name for a key of a long table has the
 * source's table name, which the target's is the shortened form of.
 */
export function ibfkNumber(table: string, name: string): number | undefined {
  const m = /_ibfk_(\d+)$/.exec(name);
  if (m && fitName(name.slice(0, -m[0].length)) === table) return Number(m[1]);
  if (byteLength(name) !== MAX_IDENTIFIER_BYTES || !/_[0-9a-f]{8}$/.test(name)) return undefined;
  // A shortened name keeps no number: try the ones InnoDB could have given.
  for (let k = 1; k <= 1000; k++) if (fitName(`${table}_ibfk_${k}`) === name) return k;
  return undefined;
}

/** InnoDB's name for an unnamed foreign key: table_ibfk_N, N one more than the highest in use. */
function nextIbfk(tx: Translation, table: TargetTable): string {
  let max = 0;
  const names = [
    ...table.constraints.filter((c) => c.kind === "f").map((c) => c.name),
    ...tx.catalog.pending.filter((k) => k.schema === table.schema && k.table === table.name).map((k) => k.name),
  ];
  for (const n of names) max = Math.max(max, ibfkNumber(table.name, n) ?? 0);
  return tx.targetName(`foreign key ${table.name}_ibfk_${max + 1}`, `${table.name}_ibfk_${max + 1}`);
}
