// MySQL RANGE/LIST partitioning as openGauss partitioning, where openGauss files every row in
// the partition MySQL files it in, so that partition DDL is followed as partition DDL:
//   ADD PARTITION            ALTER TABLE … ADD PARTITION
//   DROP PARTITION           ALTER TABLE … DROP PARTITION … UPDATE GLOBAL INDEX (rows go with it,
//                            as in MySQL; a RANGE partition's range joins the next one's)
//   TRUNCATE PARTITION       ALTER TABLE … TRUNCATE PARTITION … UPDATE GLOBAL INDEX
//   REORGANIZE (RANGE)       MERGE PARTITIONS into one, then SPLIT it into the new ones
// Exact only for what ddl-partitions.ts models (one integer column, integer bounds), on a
// column that is NOT NULL with no NULL among LIST values: MySQL files NULL in the first RANGE
// partition, openGauss refuses a NULL partition key. PostgreSQL (tested beside openGauss) keeps
// plain tables with the record of ddl-objects.ts.
//
// Measured on openGauss 7.0.0-RC2:
// - an index without the partition key is GLOBAL, and DROP/TRUNCATE PARTITION leave a global
//   index unusable unless told UPDATE GLOBAL INDEX;
// - an UPDATE that moves a row to another partition needs ENABLE ROW MOVEMENT;
// - SPLIT refuses a resulting partition named as an existing one; MERGE/SPLIT exist for RANGE
//   only ("can not merge LIST/HASH partition table");
// - a partition key column's type cannot be altered;
// - NULL is not a partition bound.
// What openGauss cannot follow (REMOVE PARTITIONING, a new PARTITION BY, REORGANIZE of LIST
// partitions or one that moves the last bound, a change of the key column) makes the table
// plain again (departition): same columns, rows, indexes and names, partitioning recorded.

import type { TargetTable } from "./ddl-catalog.ts";
import { findColumn } from "./ddl-catalog.ts";
import { createIndexSql } from "./ddl-index.ts";
import { commentSql } from "./ddl-column.ts";
import { sameName } from "./ddl-names.ts";
import { changePartitions, deletePartitions, forgetPartitioning, recordPartitioning, recordPartitions } from "./ddl-objects.ts";
import { type PartitionDef, type Partitioning, parseDefinitions, parsePartitioning } from "./ddl-partitions.ts";
import type { AlterTable } from "../binlog/ddl-model.ts";
import type { Translation } from "./ddl-state.ts";
import { fitName, quoteIdent, targetIdent } from "./identifiers.ts";
import { familyOf } from "./types.ts";

/** The partitioning the target table can have natively; undefined: it stays a plain table. */
export function nativePartitioning(tx: Translation, t: TargetTable, p: Partitioning | undefined): Partitioning | undefined {
  if (tx.dialect !== "opengauss" || !p || p.partitions.length === 0) return undefined;
  const column = findColumn(t, p.column);
  if (!column || !column.notNull || familyOf(column.type) !== "int") return undefined;
  if (p.partitions.some((d) => "values" in d && (d.values.includes(null) || d.values.length === 0))) return undefined;
  return { ...p, column: column.name };
}

/** Partition maintenance that moves rows between partitions and deletes none. */
const PARTITION_LAYOUT = /^(ADD|REORGANIZE|COALESCE|REBUILD|ANALYZE|CHECK|OPTIMIZE|REPAIR)\s+PARTITION/i;

/**
 * PARTITION BY, REMOVE PARTITIONING and partition maintenance, before the other ops: on an
 * openGauss partitioned table as partition DDL where openGauss can follow, else the table is
 * made plain first (ddl-partitions-native.ts); on a plain table against the record of its
 * partitions (ddl-objects.ts).
 */
export function alterPartitions(tx: Translation, ddl: AlterTable, t: TargetTable): void {
  const ref = ddl.table;
  // A column this statement restates or drops: openGauss cannot alter a partition key's type.
  const restated = (column: string) =>
    ddl.ops.some(
      (op) =>
        (op.op === "modify_column" && sameName(op.column.name, column)) ||
        (op.op === "change_column" && sameName(op.oldName, column)) ||
        (op.op === "drop_column" && sameName(op.name, column)),
    );
  const key = t.partitioning?.column;
  if (key !== undefined && restated(key))
    recordPartitions(
      tx,
      t,
      departition(tx, t, `this ALTER TABLE restates the partition key column ${key}, whose type and nullability openGauss cannot change in a partitioned table`),
    );
  if (ddl.partitioning) {
    const parsed = parsePartitioning(ddl.partitioning);
    const native = parsed && !restated(parsed.column) ? nativePartitioning(tx, t, parsed) : undefined;
    if (native) repartition(tx, t, native, t.partitioning ? "a new PARTITION BY" : "PARTITION BY");
    else {
      if (t.partitioning) departition(tx, t, "a new PARTITION BY that openGauss cannot reproduce exactly");
      recordPartitioning(tx, t, ddl.partitioning);
    }
  }
  for (const op of ddl.ops) {
    if (op.op !== "other") continue;
    const text = op.text.trim();
    const isDelete = /^(DROP|TRUNCATE)\s+PARTITION/i.test(text);
    const isLayout = PARTITION_LAYOUT.test(text);
    if (/^REMOVE\s+PARTITIONING/i.test(text)) {
      if (t.partitioning) departition(tx, t, "REMOVE PARTITIONING");
      else {
        const had = forgetPartitioning(tx, t.schema, t.name);
        tx.skip(`ALTER TABLE ${ref.table} REMOVE PARTITIONING`, `the target table is a plain table already${had ? "; its record in gs_replicate.skipped_objects is removed" : ""}`);
      }
      continue;
    }
    if (!isDelete && !isLayout) continue;
    if (t.partitioning) {
      if (nativePartitionOp(tx, t, text)) continue;
      recordPartitions(tx, t, departition(tx, t, `openGauss cannot reproduce ${text.split(/\s+/, 2).join(" ")} here`));
    }
    if (isDelete) deletePartitions(tx, t, text);
    else {
      changePartitions(tx, t, text);
      tx.skip(`ALTER TABLE ${ref.table} ${text}`, "the target table is not partitioned, and this moves no row in or out of the table");
    }
  }
}

/** MySQL partition names are case-insensitive: the target's are lower case. */
const partitionIdent = (name: string): string => quoteIdent(fitName(name.toLowerCase()));

function definitionSql(method: Partitioning["method"], d: PartitionDef): string {
  if ("values" in d) return `PARTITION ${partitionIdent(d.name)} VALUES (${d.values.join(", ")})`;
  return `PARTITION ${partitionIdent(d.name)} VALUES LESS THAN (${d.below})`;
}

/** The clause after CREATE TABLE's column list. */
export function partitionClause(p: Partitioning): string {
  return `PARTITION BY ${p.method} (${targetIdent(p.column)}) (${p.partitions.map((d) => definitionSql(p.method, d)).join(", ")}) ENABLE ROW MOVEMENT`;
}

const unquote = (name: string) =>
  name
    .trim()
    .replace(/^`(.*)`$/s, "$1")
    .replace(/``/g, "`");
const namesOf = (list: string) => list.split(",").map(unquote);

/**
 * A partition maintenance op on a natively partitioned table (t.partitioning); false when
 * openGauss cannot follow it, and the caller makes the table plain first.
 */
function nativePartitionOp(tx: Translation, t: TargetTable, text: string): boolean {
  const p = t.partitioning!;
  const qt = tx.qualifiedName(t.schema, t.name);
  const has = (n: string) => p.partitions.some((d) => sameName(d.name, n));
  let m = /^(DROP|TRUNCATE)\s+PARTITION\s+(.+)$/is.exec(text);
  if (m) {
    const verb = m[1]!.toUpperCase();
    if (verb === "TRUNCATE" && /^ALL$/i.test(m[2]!.trim())) {
      tx.emit(`DELETE FROM ${qt}`);
      return true;
    }
    const names = namesOf(m[2]!);
    const missing = names.find((n) => !has(n));
    if (missing !== undefined)
      tx.refuse(
        `ALTER TABLE ${t.name} ${text}`,
        `the target table has no partition "${missing}" (its partitions: ${p.partitions.map((d) => d.name).join(", ")}); it was changed outside replication`,
      );
    for (const n of names) tx.emit(`ALTER TABLE ${qt} ${verb} PARTITION ${partitionIdent(n)} UPDATE GLOBAL INDEX`);
    if (verb === "DROP") p.partitions = p.partitions.filter((d) => !names.some((n) => sameName(n, d.name)));
    return true;
  }
  m = /^ADD\s+PARTITION\s*(\(.*\))$/is.exec(text);
  if (m) {
    const defs = parseDefinitions(m[1]!, p.method);
    if (!defs || defs.some((d) => "values" in d && d.values.includes(null))) return false;
    for (const d of defs) tx.emit(`ALTER TABLE ${qt} ADD ${definitionSql(p.method, d)}`);
    p.partitions.push(...defs);
    return true;
  }
  m = /^REORGANIZE\s+PARTITION\s+(.+?)\s+INTO\s*(\(.*\))$/is.exec(text);
  if (m) return reorganize(tx, t, qt, namesOf(m[1]!), parseDefinitions(m[2]!, p.method));
  // REBUILD, OPTIMIZE, ANALYZE, CHECK, REPAIR: storage upkeep that changes no row and no bound.
  return /^(REBUILD|ANALYZE|CHECK|OPTIMIZE|REPAIR)\s+PARTITION/i.test(text);
}

/**
 * REORGANIZE of adjacent RANGE partitions into new ones over the same range: merged into one
 * (MERGE PARTITIONS; RENAME for one), then split at the new bounds (SPLIT PARTITION). The
 * intermediate partition takes a name no partition has, since SPLIT refuses a resulting name
 * that exists.
 */
function reorganize(tx: Translation, t: TargetTable, qt: string, names: string[], defs: PartitionDef[] | undefined): boolean {
  const p = t.partitioning!;
  if (p.method !== "RANGE" || !defs || defs.length === 0) return false;
  const at = p.partitions.findIndex((d) => sameName(d.name, names[0]!));
  const old = p.partitions.slice(at, at + names.length);
  if (at < 0 || old.length !== names.length || old.some((d, i) => !sameName(d.name, names[i]!))) return false;
  const last = (list: PartitionDef[]) => (list[list.length - 1] as { below: string }).below;
  // The same range, or openGauss's SPLIT cannot make it.
  if (last(old) !== last(defs)) return false;
  let tmp = "gsr_reorganize";
  for (let k = 1; p.partitions.some((d) => sameName(d.name, tmp)) || defs.some((d) => sameName(d.name, tmp)); k++) tmp = `gsr_reorganize${k}`;
  const oldSql = old.map((d) => partitionIdent(d.name)).join(", ");
  if (old.length > 1) tx.emit(`ALTER TABLE ${qt} MERGE PARTITIONS ${oldSql} INTO PARTITION ${partitionIdent(tmp)} UPDATE GLOBAL INDEX`);
  else tx.emit(`ALTER TABLE ${qt} RENAME PARTITION ${oldSql} TO ${partitionIdent(tmp)}`);
  if (defs.length > 1) tx.emit(`ALTER TABLE ${qt} SPLIT PARTITION ${partitionIdent(tmp)} INTO (${defs.map((d) => definitionSql("RANGE", d)).join(", ")}) UPDATE GLOBAL INDEX`);
  else tx.emit(`ALTER TABLE ${qt} RENAME PARTITION ${partitionIdent(tmp)} TO ${partitionIdent(defs[0]!.name)}`);
  p.partitions = [...p.partitions.slice(0, at), ...defs, ...p.partitions.slice(at + old.length)];
  return true;
}

/** The table made plain (rebuilt); the partitioning it had, for the caller's record. */
function departition(tx: Translation, t: TargetTable, why: string): Partitioning {
  const had = t.partitioning!;
  rebuild(tx, t, undefined);
  tx.note(`${t.name} is a plain table on the target again (${why}); its rows, indexes and names are kept`);
  return had;
}

/** A table (plain, or partitioned otherwise) rebuilt partitioned as `p`; its record goes. */
function repartition(tx: Translation, t: TargetTable, p: Partitioning, what: string): void {
  rebuild(tx, t, p);
  forgetPartitioning(tx, t.schema, t.name);
  tx.note(`${t.name} is rebuilt partitioned on the target as on the source (${what}: ${p.method} on ${p.column}, ${p.partitions.length} partitions)`);
}

/**
 * The table rebuilt under its own name, in the DDL's transaction, plain or partitioned as
 * `into` (openGauss cannot add or remove a table's partitioning in place): the columns (as
 * createTableLike copies them on openGauss, without LIKE), their defaults and owned sequences,
 * the rows, then the indexes and constraints under their names. MySQL refuses foreign keys on
 * partitioned tables, so none refers to it or from it.
 */
function rebuild(tx: Translation, t: TargetTable, into: Partitioning | undefined): void {
  const qt = tx.qualifiedName(t.schema, t.name);
  let old = fitName(`${t.name}_gsr_rebuilt`);
  for (let k = 1; tx.catalog.table(t.schema, old); k++) old = fitName(`${t.name}_gsr_rebuilt${k}`);
  const qold = tx.qualifiedName(t.schema, old);
  tx.emit(`ALTER TABLE ${qt} RENAME TO ${quoteIdent(old)}`);
  const columns = t.columns.map((c) => `${quoteIdent(c.name)} ${c.type}${c.notNull ? " NOT NULL" : ""}`);
  const checks = t.constraints.flatMap((k) => (k.kind === "c" && k.definition ? [`CONSTRAINT ${quoteIdent(k.name)} ${k.definition}`] : []));
  tx.emit(`CREATE TABLE ${qt} (${[...columns, ...checks].join(", ")})${into ? ` ${partitionClause(into)}` : ""}`);
  for (const c of t.columns) {
    // A nextval() default names the sequence, which is kept and owned by the new table.
    if (c.default !== null) tx.emit(`ALTER TABLE ${qt} ALTER COLUMN ${quoteIdent(c.name)} SET DEFAULT ${c.default}`);
    if (c.sequence) tx.emit(`ALTER SEQUENCE ${c.sequence} OWNED BY ${qt}.${quoteIdent(c.name)}`);
    if (c.comment) tx.emit(commentSql(`COLUMN ${qt}.${quoteIdent(c.name)}`, c.comment));
  }
  const list = t.columns.map((c) => quoteIdent(c.name)).join(", ");
  // Index names are per schema: the old table (and its indexes) go before the indexes are made again.
  tx.emit(`INSERT INTO ${qt} (${list}) SELECT ${list} FROM ${qold}`, `DROP TABLE ${qold}`);
  for (const ix of t.indexes) tx.emit(...createIndexSql(qt, t.schema, ix));
  if (t.comment) tx.emit(commentSql(`TABLE ${qt}`, t.comment));
  if (into) t.partitioning = into;
  else delete t.partitioning;
}
