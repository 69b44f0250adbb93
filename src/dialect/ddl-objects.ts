// Objects the target does not get: FULLTEXT, SPATIAL and functional indexes, CHECK
// constraints, views, triggers, routines, events. None of them changes replicated rows (a
// trigger's row changes are in the binlog already, so a trigger created on the target would
// apply them twice), but each is something the application may need at cutover. The policy
// is [sink] untranslatable:
//   "record" (default)  the rest of the statement is applied; the object is kept in
//                       TargetCatalog.objects, which the sink saves in gs_replicate.skipped_objects
//                       in the DDL's own transaction, and `check` lists with what to do at cutover
//   "stop"              TARGET_DDL_INCOMPATIBLE, as for changes that would alter rows (those
//                       stop under either setting)
// A later DROP of the object (or of its table or database) removes the record; a renamed
// table takes its records along.

import type { CheckDef, CodeObject, CodeObjectType, OtherDdl, TableRef } from "../binlog/ddl-model.ts";
import { findColumn, type TargetTable } from "./ddl-catalog.ts";
import { sameName } from "./ddl-names.ts";
import { type PartitionDef, type Partitioning, parseDefinitions, parsePartitioning, partitionCondition } from "./ddl-partitions.ts";
import { familyOf } from "./types.ts";
import type { Translation } from "./ddl-state.ts";
import { sameObject, type SkippedKind, type SkippedObject } from "./ddl-skipped.ts";

/**
 * PARTITION BY (RANGE, LIST, HASH, KEY, with or without COLUMNS/expressions/subpartitions): the
 * table is a plain table on the target, which holds exactly the same rows: partitioning only
 * decides where MySQL stores them. Partition DDL that deletes rows (DROP, TRUNCATE, EXCHANGE
 * PARTITION) is not logged as row changes, so it stops the sink (ddl-alter.ts) whatever the policy.
 */
export function recordPartitioning(tx: Translation, t: TargetTable, clause: string): void {
  const exact = parsePartitioning(clause);
  const method = /^PARTITION\s+BY\s+(LINEAR\s+)?(\w+)(\s+COLUMNS)?/i.exec(clause.trim());
  const name = method ? `${method[1] ?? ""}${method[2]}${method[3] ?? ""}`.toUpperCase().replace(/\s+/g, " ") : "PARTITION BY";
  recordPartitions(tx, t, exact, name);
}

/** The record of a plain table's partitions (`exact`: as row sets, when known). */
export function recordPartitions(tx: Translation, t: TargetTable, exact: Partitioning | undefined, name: string = exact?.method ?? "PARTITION BY"): void {
  const { schema, name: table } = t;
  forgetPartitioning(tx, schema, table);
  const column = exact ? findColumn(t, exact.column) : undefined;
  const definition = exact && column && familyOf(column.type) === "int" ? JSON.stringify({ ...exact, column: column.name }) : undefined;
  tx.record(`PARTITION BY of ${table}`, schema, {
    kind: "partitioning",
    table,
    name,
    reason: partitionReason(definition !== undefined),
    cutover:
      "if the target should be partitioned, recreate the table partitioned (openGauss: PARTITION BY RANGE/LIST/HASH; PostgreSQL: declarative partitioning) and copy its rows",
    ...(definition ? { definition } : {}),
  });
}

function partitionReason(exact: boolean): string {
  const plain = "the table is replicated as a plain table, which holds exactly the source's rows (partitioning only decides where MySQL stores them)";
  return exact
    ? `${plain}; DROP/TRUNCATE PARTITION, which MySQL logs without the rows they delete, are applied as a DELETE of the partition's rows`
    : `${plain}; DROP/TRUNCATE/EXCHANGE PARTITION, which delete rows without logging them, stop the sink (only RANGE/LIST on an integer column have partitions the sink can delete exactly)`;
}

function partitioningOf(tx: Translation, t: TargetTable): SkippedObject | undefined {
  return tx.catalog.objects.find((o) => o.kind === "partitioning" && o.schema === t.schema && sameName(o.table, t.name));
}

const unquote = (name: string) =>
  name
    .trim()
    .replace(/^`(.*)`$/s, "$1")
    .replace(/``/g, "`");

/**
 * DROP/TRUNCATE PARTITION: a DELETE of exactly the partition's rows when the record has the
 * partitions (ddl-partitions.ts), else refused: MySQL logged the statement, not the rows.
 */
export function deletePartitions(tx: Translation, t: TargetTable, text: string): void {
  const m = /^(DROP|TRUNCATE)\s+PARTITION\s+(.+)$/is.exec(text);
  const record = partitioningOf(tx, t);
  const p = record?.definition ? (JSON.parse(record.definition) as Partitioning) : undefined;
  const names = m && /^ALL$/i.test(m[2]!.trim()) ? "ALL" : (m?.[2] ?? "").split(",").map(unquote);
  const condition = m && p ? partitionCondition(p, names) : undefined;
  if (!m || !p || !condition) {
    const why = !p
      ? "the sink does not know which rows the partition holds (only RANGE/LIST partitioning on an integer column is followed)"
      : "the partition is not among those the sink knows for the table";
    tx.refuse(
      `ALTER TABLE ${t.name} ${text}`,
      `it changes rows without logging them (the binlog has the statement, not the rows), and ${why}; delete the same rows on the target (SHOW CREATE TABLE on the source gives the partition's bounds)`,
    );
  }
  const statement = `DELETE FROM ${tx.qualifiedName(t.schema, t.name)} WHERE ${condition}`;
  tx.emit(statement);
  tx.note(`${text} of ${t.name}: the target table is not partitioned; the partition's rows are deleted: ${statement}`);
  if (m[1]!.toUpperCase() === "DROP" && names !== "ALL") {
    p.partitions = p.partitions.filter((d) => !names.some((n) => sameName(n, d.name)));
    record!.definition = JSON.stringify(p);
  }
}

/** ADD PARTITION / REORGANIZE PARTITION … INTO: the record's partitions follow, or are dropped when not understood. */
export function changePartitions(tx: Translation, t: TargetTable, text: string): void {
  const record = partitioningOf(tx, t);
  if (!record?.definition) return;
  const p = JSON.parse(record.definition) as Partitioning;
  const add = /^ADD\s+PARTITION\s*(\(.*\))$/is.exec(text);
  const reorganize = /^REORGANIZE\s+PARTITION\s+(.+?)\s+INTO\s*(\(.*\))$/is.exec(text);
  const defs = add ? parseDefinitions(add[1]!, p.method) : reorganize ? parseDefinitions(reorganize[2]!, p.method) : undefined;
  let next: PartitionDef[] | undefined;
  if (add && defs) next = [...p.partitions, ...defs];
  if (reorganize && defs) {
    const names = reorganize[1]!.split(",").map(unquote);
    const at = p.partitions.findIndex((d) => names.some((n) => sameName(n, d.name)));
    if (at >= 0) next = [...p.partitions.slice(0, at), ...defs, ...p.partitions.slice(at).filter((d) => !names.some((n) => sameName(n, d.name)))];
  }
  if (next) record.definition = JSON.stringify({ ...p, partitions: next });
  else {
    delete record.definition;
    record.reason = partitionReason(false);
  }
}

/** REMOVE PARTITIONING, or a new PARTITION BY: the old record goes; whether there was one. */
export function forgetPartitioning(tx: Translation, schema: string, table: string): boolean {
  const before = tx.catalog.objects.length;
  tx.catalog.objects = tx.catalog.objects.filter((o) => !(o.kind === "partitioning" && o.schema === schema && sameName(o.table, table)));
  return tx.catalog.objects.length < before;
}

const CODE: Record<CodeObjectType, { kind: SkippedKind; reason: string; cutover: string }> = {
  VIEW: {
    kind: "view",
    reason: "views are not replicated (their rows are the tables'); their SQL is MySQL's",
    cutover: "rewrite the view for the target (SHOW CREATE VIEW on the source) and create it",
  },
  TRIGGER: {
    kind: "trigger",
    reason: "triggers are not created while replicating: the rows a trigger changed on the source are in the log already, and a trigger on the target would change them twice",
    cutover: "once the sink has caught up and before the application writes to the target, rewrite the trigger for the target and create it",
  },
  PROCEDURE: { kind: "procedure", reason: "routines are MySQL SQL, which is not translated", cutover: "rewrite the procedure for the target and create it" },
  FUNCTION: { kind: "function", reason: "routines are MySQL SQL, which is not translated", cutover: "rewrite the function for the target and create it" },
  PACKAGE: { kind: "package", reason: "packages are MariaDB SQL, which is not translated", cutover: "rewrite the package for the target and create it" },
  "PACKAGE BODY": { kind: "package", reason: "packages are MariaDB SQL, which is not translated", cutover: "rewrite the package for the target and create it" },
  EVENT: {
    kind: "event",
    reason: "events are scheduled MySQL SQL; while replicating, their row changes arrive from the binlog",
    cutover: "disable the event on the source, then schedule an equivalent job for the target (cron, pg_cron or the target's scheduler)",
  },
};

/**
 * mysqldump and mariadb-dump create a stand-in for each view before any table, so that views
 * on views can be created in any order: a view of the same columns, each a constant and no
 * table read (`SELECT NULL AS a, NULL AS b`; MySQL's and older dumps write `1 AS a`). The
 * real view comes after the tables: DROP VIEW IF EXISTS, then CREATE. The server logs the
 * stand-in as CREATE ALGORITHM=… DEFINER=… VIEW `v` AS SELECT NULL AS `a`, … .
 */
const IDENT = "(?:`(?:[^`]|``)+`|[A-Za-z0-9_$]+)";
const STAND_IN_COLUMN = `(?:NULL|1)\\s+AS\\s+${IDENT}`;
const STAND_IN = new RegExp(`\\sVIEW\\s+${IDENT}(?:\\s*\\.\\s*${IDENT})?\\s+AS\\s+SELECT\\s+${STAND_IN_COLUMN}(?:\\s*,\\s*${STAND_IN_COLUMN})*\\s*(?:\\*/)?\\s*;?\\s*$`, "i");

/** Its record says what it is, so that check explains it if the dump never replaced it, and its DROP knows it. */
const STAND_IN_REASON =
  "a view of constants that reads no table: the stand-in mysqldump and mariadb-dump create for a view until they create the view itself (still here: the dump stopped before that, or the source has such a view); views are not replicated";

/** CREATE/ALTER/DROP of a view, trigger, routine or event (an "other" DDL with the names read). */
export function codeObjectDdl(tx: Translation, ddl: OtherDdl, object: CodeObject): void {
  const spec = CODE[object.type];
  const verb = ddl.what.split(" ")[0];
  // Trigger names are unique per schema, whatever table they fire on.
  const key = (name: TableRef) => ({ kind: spec.kind, schema: tx.schemaName(name.database), name: name.table });
  const forget = (name: TableRef) => tx.forget(key(name), spec.kind === "trigger" ? undefined : "");
  if (verb === "DROP") {
    for (const name of object.names) {
      const standIn = tx.catalog.objects.some((o) => sameObject(o, { ...key(name), table: "" }) && o.reason === STAND_IN_REASON);
      const gone = forget(name);
      const what = `${ddl.what} ${name.database}.${name.table}`;
      // The dump replacing its stand-in: the view itself, recorded next, is the one to report.
      if (standIn) tx.note(`${what}: the dump's stand-in view; its record in gs_replicate.skipped_objects is removed`);
      else tx.skip(what, gone ? "it was never created on the target; its record in gs_replicate.skipped_objects is removed" : "it does not exist on the target: nothing to drop");
    }
    return;
  }
  const on = object.table && spec.kind === "trigger" ? (tx.current(object.table)?.name ?? object.table.table) : "";
  const standIn = spec.kind === "view" && verb === "CREATE" && STAND_IN.test(ddl.statement);
  for (const name of object.names) {
    // CREATE OR REPLACE and ALTER replace the record; ALTER EVENT … RENAME TO moves it.
    forget(name);
    const to = verb === "ALTER" && object.renameTo ? object.renameTo : name;
    const part = `${ddl.what} ${to.database}.${to.table}`;
    const rec = { kind: spec.kind, table: on, name: to.table, reason: standIn ? STAND_IN_REASON : spec.reason, cutover: spec.cutover };
    tx.record(
      part,
      tx.schemaName(to.database),
      rec,
      standIn ? "a dump's stand-in for the view (constant columns, no table read), recorded until the dump creates the view itself, which is reported then" : undefined,
    );
  }
}

/** The records of a table that goes (DROP TABLE): its indexes, checks and triggers go with it. */
export function forgetTable(tx: Translation, schema: string, table: string): void {
  tx.catalog.objects = tx.catalog.objects.filter((o) => !(o.schema === schema && o.table !== "" && sameName(o.table, table)));
}

/** RENAME TABLE: the table's records follow it. */
export function moveTable(tx: Translation, from: { schema: string; table: string }, to: { schema: string; table: string }): void {
  for (const o of tx.catalog.objects) {
    if (o.schema !== from.schema || o.table === "" || !sameName(o.table, from.table)) continue;
    o.schema = to.schema;
    o.table = to.table;
  }
}

/** CREATE TABLE … LIKE: the copy lacks what the original lacks on the target. */
export function copyTable(tx: Translation, from: { schema: string; table: string }, to: { schema: string; table: string }): void {
  const copies = tx.catalog.objects.filter(
    (o) => o.schema === from.schema && (o.kind === "index" || o.kind === "check" || o.kind === "partitioning") && sameName(o.table, from.table),
  );
  const what = { index: "index", check: "CHECK", partitioning: "PARTITION BY" } as Record<SkippedKind, string>;
  for (const o of copies) {
    tx.record(`${what[o.kind]} ${o.name} of ${to.table} (copied by LIKE from ${from.table})`, to.schema, {
      kind: o.kind,
      table: to.table,
      name: o.name,
      reason: o.reason,
      cutover: o.cutover,
      ...(o.definition ? { definition: o.definition } : {}),
    });
  }
}

/** RENAME INDEX of an index that was recorded, not created; whether there was one. */
export function renameRecord(tx: Translation, key: Pick<SkippedObject, "kind" | "schema" | "table" | "name">, to: string): boolean {
  const o = tx.catalog.objects.find((x) => sameObject(x, key));
  if (o) o.name = to;
  return o !== undefined;
}

/**
 * A CHECK constraint: its expression is MySQL SQL; the source checked every replicated row.
 * An unnamed one is recorded under the name the source gives it, so that a later DROP
 * CONSTRAINT/DROP CHECK by that name finds the record (measured on MariaDB 10.11: a column's
 * own CHECK takes the column's name, a table's CONSTRAINT_1, CONSTRAINT_2 …; MySQL 8:
 * <table>_chk_1, _chk_2 … for both).
 */
export function recordCheck(tx: Translation, schema: string, table: string, check: CheckDef): void {
  tx.record(`CHECK (${check.expression}) of ${table}`, schema, {
    kind: "check",
    table,
    name: check.name ?? generatedCheckName(tx, schema, table, check),
    reason: "CHECK expressions are MySQL SQL, which is not translated; replicated rows were checked by the source",
    cutover: "rewrite the CHECK for the target and add it (ALTER TABLE … ADD CONSTRAINT … CHECK …)",
  });
}

function generatedCheckName(tx: Translation, schema: string, table: string, check: CheckDef): string {
  const mariadb = tx.flavour === "mariadb";
  if (mariadb && check.column !== undefined) return check.column;
  const prefix = mariadb ? "CONSTRAINT_" : `${table}_chk_`;
  let n = 0;
  for (const o of tx.catalog.objects) {
    if (o.kind !== "check" || o.schema !== schema || !sameName(o.table, table) || !o.name.startsWith(prefix)) continue;
    const k = Number(o.name.slice(prefix.length));
    if (Number.isInteger(k) && k > n) n = k;
  }
  return `${prefix}${n + 1}`;
}

/**
 * DROP or RENAME (`to`) of column `from`: recorded indexes on it follow, as MySQL's own do: a
 * renamed column is renamed in them; a dropped one leaves them, and an index left with no
 * column goes too (records written before columns were kept are left as they are).
 */
export function indexRecordsFollow(tx: Translation, schema: string, table: string, from: string, to?: string): void {
  for (const o of [...tx.catalog.objects]) {
    if (o.kind !== "index" || o.schema !== schema || !sameName(o.table, table) || !o.definition) continue;
    const { columns } = JSON.parse(o.definition) as { columns: string[] };
    if (!columns.some((c) => sameName(c, from))) continue;
    const rest = to === undefined ? columns.filter((c) => !sameName(c, from)) : columns.map((c) => (sameName(c, from) ? to : c));
    if (rest.length === 0) {
      tx.forget(o, table);
      tx.note(`recorded index ${o.name} of ${table} is gone with its last column ${from}, as MySQL drops it: its record in gs_replicate.skipped_objects is removed`);
      continue;
    }
    tx.catalog.objects = tx.catalog.objects.map((x) => (x === o ? { ...o, definition: JSON.stringify({ columns: rest }) } : x));
  }
}
