// CREATE TABLE and CREATE TABLE … LIKE, and the table options both share with ALTER TABLE.
//
// Harmless options are ignored: ENGINE=InnoDB/MyISAM/Aria/MEMORY…, ROW_FORMAT, AUTO_INCREMENT=n
// (replicated rows carry their values; sequences are set at cutover), CHARSET/COLLATE (the
// source decodes text, the target stores it in its own encoding; CHARSET=binary makes the
// character columns byte strings, as in MySQL), STATS_*, KEY_BLOCK_SIZE, compression and
// encryption options. Engines whose rows are not ordinary stored rows are refused. PARTITION BY
// makes an openGauss partitioned table where that is exact (ddl-partitions-native.ts), else a
// plain table, recorded (ddl-objects.ts): it holds the same rows.

import type { CreateTable, CreateTableLike, ForeignKeyDef, TableOptions, TableRef } from "../binlog/ddl-model.ts";
import { type TargetColumn, type TargetIndex, type TargetTable } from "./ddl-catalog.ts";
import { checkClause, columnSql, commentSql, nextval, type ColumnPlan, planColumn, sequenceFor } from "./ddl-column.ts";
import { createIndexSql, planIndex } from "./ddl-index.ts";
import { copyTable, forgetTable, recordCheck, recordPartitioning } from "./ddl-objects.ts";
import { planForeignKey } from "./ddl-foreign.ts";
import { parsePartitioning } from "./ddl-partitions.ts";
import { nativePartitioning, partitionClause } from "./ddl-partitions-native.ts";
import { asJson, mariadbJson } from "./ddl-json.ts";
import { indexName, membersCheckName, mysqlIndexName, primaryKeyName, sameName } from "./ddl-names.ts";
import type { Translation } from "./ddl-state.ts";
import { quoteIdent } from "./identifiers.ts";

const ENGINES_REFUSED: Record<string, string> = {
  BLACKHOLE: "it stores nothing, so a target table would keep rows the source discards",
  FEDERATED: "its rows live on another server",
  FEDERATEDX: "its rows live on another server",
  CONNECT: "its rows live outside the server",
  SPIDER: "its rows live on other servers",
  MERGE: "it is a view over other tables",
  MRG_MYISAM: "it is a view over other tables",
  SEQUENCE: "it is a sequence, not a table",
};

export function checkTableOptions(tx: Translation, ref: TableRef, options: TableOptions): void {
  const engine = options.engine?.toUpperCase();
  if (engine && ENGINES_REFUSED[engine]) tx.refuse(`ENGINE=${options.engine} of ${ref.table}`, ENGINES_REFUSED[engine]);
  const sequence = options.other.find((o) => o.name === "SEQUENCE");
  if (sequence && !/^(0|NO|'0')$/i.test(sequence.value)) tx.refuse(`SEQUENCE=${sequence.value} of ${ref.table}`, "a MariaDB sequence is not a table");
}

/** The working-copy column for a planned column. */
export function targetColumn(plan: ColumnPlan, sequence: string | undefined): TargetColumn {
  return {
    name: plan.name,
    type: plan.mapped.sql,
    notNull: plan.notNull,
    default: plan.auto === "sequence" && sequence ? nextval(sequence) : (plan.default ?? null),
    identity: plan.auto === "identity",
    sequence: plan.auto === "none" ? null : (sequence ?? "identity"),
    comment: plan.comment ?? null,
  };
}

export function createTable(tx: Translation, ddl: CreateTable): void {
  const ref = ddl.table;
  if (ddl.temporary) return tx.skip(`CREATE TEMPORARY TABLE ${ref.table}`, "temporary tables belong to one source session and their rows are not replicated");
  checkTableOptions(tx, ref, ddl.options);
  const schema = tx.schemaName(ref.database);
  tx.ident(schema, "schema");
  tx.ident(ref.table, "table");
  const existing = tx.current(ref);
  if (existing && ddl.ifNotExists && !ddl.orReplace) return tx.skip(`CREATE TABLE IF NOT EXISTS ${ref.table}`, "the table exists on the target: nothing to do, as on the source");
  if (!ddl.orReplace) tx.notMerged(ref, existing);
  const qt = tx.qualifiedName(schema, ref.table);
  if (ddl.orReplace && existing) {
    tx.emit(`DROP TABLE ${tx.qualifiedName(schema, existing.name)}`);
    tx.catalog.remove(schema, existing.name);
    forgetTable(tx, schema, existing.name);
  }
  const pkColumns = ddl.primaryKey?.parts.flatMap((p) => ("column" in p ? [p.column] : [])) ?? [];
  const json = mariadbJson(tx, ddl.columns, ddl.checks);
  const columns = ddl.columns.map((c) => (json.columns.has(c) ? asJson(c) : c));
  const plans = columns.map((c) => planColumn(tx, ref, c, { tableCharset: ddl.options.charset, inPrimaryKey: pkColumns.some((k) => sameName(k, c.name)) }));
  const sequences = new Map<ColumnPlan, string>();
  for (const p of plans) if (p.auto === "sequence") sequences.set(p, sequenceFor(tx, schema, ref.table, p.name));
  const table: TargetTable = {
    schema,
    name: ref.table,
    columns: plans.map((p) => targetColumn(p, sequences.get(p))),
    indexes: [],
    constraints: [],
    hasRows: false,
    comment: ddl.options.comment ?? null,
  };
  const clauses = plans.map((p) => columnSql(p, sequences.get(p)));
  if (ddl.primaryKey) {
    const pk = planIndex(tx, ref, table, ddl.primaryKey)!;
    clauses.push(`CONSTRAINT ${quoteIdent(pk.name)} PRIMARY KEY (${pk.parts.map((p) => p.sql).join(", ")})`);
    table.indexes.push(pk);
    table.constraints.push({ name: pk.name, kind: "p", columns: pkColumns });
  }
  for (const p of plans) {
    if (!p.check) continue;
    clauses.push(checkClause(p.name, p.check));
    table.constraints.push({ name: membersCheckName(p.name), kind: "c", columns: [p.name] });
  }
  const created: TargetIndex[] = [];
  for (const index of ddl.indexes) {
    const ix = planIndex(tx, ref, table, index);
    if (!ix) continue;
    table.indexes.push(ix);
    created.push(ix);
  }
  for (const fk of foreignKeysOf(tx, ddl)) {
    const planned = planForeignKey(tx, ref, table, fk);
    if (planned.clause === undefined) tx.catalog.pending.push(planned.key);
    else {
      clauses.push(planned.clause);
      table.constraints.push(planned.constraint);
    }
    if (!planned.index) continue;
    const ix = planIndex(tx, ref, table, planned.index)!;
    table.indexes.push(ix);
    created.push(ix);
  }
  for (const check of ddl.checks) if (!json.checks.has(check)) recordCheck(tx, schema, ref.table, check);
  tx.emit(...[...sequences.values()].map((s) => `CREATE SEQUENCE ${s}`));
  const native = ddl.partitioning ? nativePartitioning(tx, table, parsePartitioning(ddl.partitioning)) : undefined;
  tx.emit(`CREATE TABLE ${qt} (${clauses.join(", ")})${native ? ` ${partitionClause(native)}` : ""}`);
  for (const [p, s] of sequences) tx.emit(`ALTER SEQUENCE ${s} OWNED BY ${qt}.${quoteIdent(p.name)}`);
  for (const ix of created) tx.emit(...createIndexSql(qt, schema, ix));
  if (ddl.options.comment) tx.emit(commentSql(`TABLE ${qt}`, ddl.options.comment));
  for (const p of plans) if (p.comment) tx.emit(commentSql(`COLUMN ${qt}.${quoteIdent(p.name)}`, p.comment));
  tx.catalog.put(table);
  if (native) {
    table.partitioning = native;
    tx.note(`${ref.table} is partitioned on the target as on the source (${native.method} on ${native.column}, ${native.partitions.length} partitions)`);
  } else if (ddl.partitioning) recordPartitioning(tx, table, ddl.partitioning);
}

/** Table-level foreign keys, and inline `col … REFERENCES`, which only MariaDB enforces. */
function foreignKeysOf(tx: Translation, ddl: CreateTable): ForeignKeyDef[] {
  const inline = ddl.columns.filter((c) => c.references);
  const out: ForeignKeyDef[] = [];
  for (const c of inline) {
    const what = `${ddl.table.table}.${c.name} REFERENCES ${c.references!.table.table}`;
    if (tx.ctx.flavour === "mysql") {
      tx.skip(what, "MySQL ignores a REFERENCES clause written on a column (only FOREIGN KEY creates a constraint)");
      continue;
    }
    if (tx.ctx.flavour !== "mariadb") tx.refuse(what, "whether an inline REFERENCES is a foreign key depends on the source flavour (MariaDB: yes, MySQL: no), which was not given");
    out.push({ columns: [c.name], target: c.references! });
  }
  return [...out, ...ddl.foreignKeys];
}

export function createTableLike(tx: Translation, ddl: CreateTableLike): void {
  const ref = ddl.table;
  if (ddl.temporary) return tx.skip(`CREATE TEMPORARY TABLE ${ref.table} LIKE`, "temporary tables belong to one source session and their rows are not replicated");
  const schema = tx.schemaName(ref.database);
  tx.ident(schema, "schema");
  tx.ident(ref.table, "table");
  const existing = tx.current(ref);
  if (existing && ddl.ifNotExists && !ddl.orReplace)
    return tx.skip(`CREATE TABLE IF NOT EXISTS ${ref.table} LIKE`, "the table exists on the target: nothing to do, as on the source");
  if (!ddl.orReplace) tx.notMerged(ref, existing);
  const src = tx.existing(ddl.like);
  const qt = tx.qualifiedName(schema, ref.table);
  if (ddl.orReplace && existing) {
    tx.emit(`DROP TABLE ${tx.qualifiedName(schema, existing.name)}`);
    tx.catalog.remove(schema, existing.name);
    forgetTable(tx, schema, existing.name);
  }
  copyTable(tx, { schema: src.schema, table: src.name }, { schema, table: ref.table });
  // Defaults are set column by column: a copied nextval() default would share the old table's sequence.
  const table: TargetTable = { ...structuredClone(src), schema, name: ref.table, indexes: [], hasRows: false };
  table.constraints = src.constraints.filter((c) => c.kind === "c");
  if (tx.dialect === "opengauss") copyColumns(tx, qt, table);
  else tx.emit(`CREATE TABLE ${qt} (LIKE ${tx.qualifiedName(src.schema, src.name)} INCLUDING CONSTRAINTS INCLUDING COMMENTS)`);
  for (const col of table.columns) {
    const c = `${qt} ALTER COLUMN ${quoteIdent(col.name)}`;
    if (col.identity) tx.emit(`ALTER TABLE ${c} ADD GENERATED BY DEFAULT AS IDENTITY`);
    else if (col.sequence) {
      const seq = sequenceFor(tx, schema, ref.table, col.name);
      tx.emit(`CREATE SEQUENCE ${seq}`, `ALTER TABLE ${c} SET DEFAULT ${nextval(seq)}`, `ALTER SEQUENCE ${seq} OWNED BY ${qt}.${quoteIdent(col.name)}`);
      col.sequence = seq;
      col.default = nextval(seq);
    } else if (col.default !== null) tx.emit(`ALTER TABLE ${c} SET DEFAULT ${col.default}`);
  }
  for (const ix of src.indexes) {
    if (ix.partial) {
      tx.skip(`index ${ix.name} of ${src.name}`, "a partial index was not created by this tool and is not copied; recreate it by hand");
      continue;
    }
    const name = ix.primary ? primaryKeyName(ref.table) : indexName(ref.table, mysqlIndexName(src.name, ix.name) ?? ix.name);
    const copy: TargetIndex = { ...structuredClone(ix), name, constraint: ix.primary };
    tx.emit(...createIndexSql(qt, schema, copy));
    table.indexes.push(copy);
    if (ix.primary) table.constraints.push({ name, kind: "p", columns: ix.parts.flatMap((p) => (p.column ? [p.column] : [])) });
  }
  if (src.comment) tx.emit(commentSql(`TABLE ${qt}`, src.comment));
  tx.catalog.put(table);
}

/**
 * The columns, CHECK constraints and column comments of a table copied without LIKE: openGauss
 * (7.0) turns a column whose default is nextval() of an owned sequence into a serial column
 * when LIKE copies it, creating a sequence of its own choosing ("t_id_seq", or "t_id_seq1" when
 * that is taken) that the statements after it would collide with.
 */
function copyColumns(tx: Translation, qt: string, table: TargetTable): void {
  const columns = table.columns.map((c) => `${quoteIdent(c.name)} ${c.type}${c.notNull ? " NOT NULL" : ""}`);
  const checks = table.constraints.flatMap((k) => (k.definition ? [`CONSTRAINT ${quoteIdent(k.name)} ${k.definition}`] : []));
  // MySQL's LIKE copies the partitioning too.
  tx.emit(`CREATE TABLE ${qt} (${[...columns, ...checks].join(", ")})${table.partitioning ? ` ${partitionClause(table.partitioning)}` : ""}`);
  for (const c of table.columns) if (c.comment) tx.emit(commentSql(`COLUMN ${qt}.${quoteIdent(c.name)}`, c.comment));
}
