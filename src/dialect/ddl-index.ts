// MySQL keys → target indexes and constraints.
//
//   PRIMARY KEY        CONSTRAINT "t_pkey" PRIMARY KEY (…)        (key order; DESC is ordering only)
//   UNIQUE / INDEX k   CREATE [UNIQUE] INDEX "t_k" ON … (…)       (ddl-names.ts: per-schema names)
//   col(n) prefix      left("col", n) on text, substring(… 1, n) on bytes: the same prefix MySQL
//                      indexes (and, for UNIQUE, compares), and no btree row-size failure on long
//                      values, which is why MySQL needed the prefix
//   FULLTEXT           not created, recorded (ddl-objects.ts): it changes no data, and the target
//                      has no MATCH … AGAINST, so the application's searches are rewritten at
//                      cutover anyway, with whatever text-search index suits them (WITH PARSER too)
//   SPATIAL            not created, recorded: needs PostGIS, which is not assumed
//   (expr) key         not created, recorded; UNIQUE on an expression is refused (a constraint)
//   FOREIGN KEY        ddl-foreign.ts
//   names              table_index, shortened when over 63 bytes (ddl-names.ts); each shortening
//                      is noted, so the sink logs the mapping

import type { IndexDef, KeyPart, TableRef } from "../binlog/ddl-model.ts";
import { tokenize } from "../binlog/ddl-lexer.ts";
import { findColumn, type IndexPart, type TargetIndex, type TargetTable } from "./ddl-catalog.ts";
import { autoIndexName, fitName, indexName, literal, mysqlIndexName, sameName } from "./ddl-names.ts";
import type { Translation } from "./ddl-state.ts";
import { quoteIdent } from "./identifiers.ts";
import { familyOf } from "./types.ts";

/** MySQL names of the table's indexes (for automatic names). */
function mysqlNames(table: TargetTable): string[] {
  return table.indexes.flatMap((ix) => (ix.primary ? ["PRIMARY"] : [mysqlIndexName(table.name, ix.name) ?? ix.name]));
}

/** The MySQL name an unnamed key gets in this table. */
function nameFor(table: TargetTable, index: IndexDef): string {
  if (index.name !== undefined) return index.name;
  const first = index.parts[0];
  const names = mysqlNames(table);
  return autoIndexName(first && "column" in first ? first.column : undefined, (n) => names.some((x) => sameName(x, n)));
}

/** The target index standing for MySQL index `name` of `table`. */
export function findIndex(table: TargetTable, name: string): TargetIndex | undefined {
  if (sameName(name, "PRIMARY")) return table.indexes.find((i) => i.primary);
  // An unnamed key on a long column is named after the column's target name here, after its
  // source name (the one a later DROP INDEX gives) on the source.
  const auto = indexName(table.name, fitName(name));
  return (
    table.indexes.find((i) => !i.primary && i.name === indexName(table.name, name)) ??
    table.indexes.find((i) => !i.primary && i.name === auto) ??
    table.indexes.find((i) => !i.primary && sameName(mysqlIndexName(table.name, i.name) ?? "", name)) ??
    table.indexes.find((i) => !i.primary && sameName(i.name, name))
  );
}

/** Whether the statement has a FULLTEXT … WITH PARSER clause (the model does not keep it). */
function hasParser(statement: string): boolean {
  const words = tokenize(statement).tokens.filter((t) => t.kind === "word" || t.kind === "ident");
  return words.some((t, i) => t.upper === "WITH" && words[i + 1]?.upper === "PARSER");
}

/**
 * The target index for a MySQL key on `table` (its working copy), or undefined when it is not
 * created (reported). The index is not added to the table here.
 */
export function planIndex(tx: Translation, ref: TableRef, table: TargetTable, index: IndexDef): TargetIndex | undefined {
  const mysqlName = index.kind === "primary" ? "PRIMARY" : nameFor(table, index);
  const label = { primary: "PRIMARY KEY", unique: "UNIQUE index", index: "index", fulltext: "FULLTEXT index", spatial: "SPATIAL index" }[index.kind];
  const what = `${label}${index.kind === "primary" ? "" : ` ${mysqlName}`} of ${ref.table}`;
  const columns = index.parts.flatMap((p) => ("column" in p ? [p.column] : []));
  const record = (part: string, reason: string, cutover: string): undefined => {
    tx.record(part, table.schema, {
      kind: "index",
      table: table.name,
      name: mysqlName,
      reason,
      cutover,
      ...(columns.length > 0 ? { definition: JSON.stringify({ columns }) } : {}),
    });
    return undefined;
  };
  if (index.kind === "spatial") {
    return record(
      what,
      "SPATIAL indexes need PostGIS, which the target is not assumed to have; geometries are stored as bytes (WKB), and the index changes no data",
      "if the application runs spatial queries on the target, install PostGIS, convert the column to geometry and create a GiST index",
    );
  }
  if (index.kind === "fulltext") {
    const parser = hasParser(tx.ddl.statement) ? " (its WITH PARSER plugin, which decides how text is split into words, has no target equivalent)" : "";
    return record(
      what,
      `FULLTEXT indexes are not created${parser}: they change no data, and the target has no MATCH … AGAINST`,
      "rewrite the application's MATCH … AGAINST queries and create a text-search index for them (e.g. GIN on to_tsvector)",
    );
  }
  const expression = index.parts.find((p) => "expression" in p);
  if (expression && "expression" in expression) {
    if (index.kind !== "index") tx.refuse(`${what} on (${expression.expression})`, "a key on a MySQL expression is MySQL SQL, which is not translated");
    return record(
      `${what} on (${expression.expression})`,
      "functional index expressions are MySQL SQL, which is not translated; the index changes no data",
      "create an equivalent expression index by hand if queries need it",
    );
  }
  const parts: IndexPart[] = index.parts.map((p) => partFor(tx, table, p, what));
  if (index.kind === "primary") {
    if (parts.some((p) => p.column === undefined)) tx.refuse(what, "a primary key on a prefix or an expression has no target equivalent");
    if (parts.some((p) => p.descending)) tx.skip(`${what} DESC`, "a primary key constraint has no key order on the target; the key is ascending");
    for (const p of parts) p.descending = false;
  }
  if (index.invisible) tx.skip(`${what} INVISIBLE`, "the target has no invisible indexes: the index is visible to the planner");
  return {
    name: index.kind === "primary" ? tx.targetName(`primary key of ${ref.table}`, `${table.name}_pkey`) : tx.targetName(what, `${table.name}_${mysqlName}`),
    primary: index.kind === "primary",
    unique: index.kind !== "index",
    constraint: index.kind === "primary",
    method: "btree",
    parts,
    columns: [...new Set(parts.flatMap((p) => p.refs ?? (p.column ? [p.column] : [])))],
    partial: false,
    comment: index.comment ?? null,
  };
}

function partFor(tx: Translation, table: TargetTable, p: KeyPart, what: string): IndexPart {
  const descending = p.descending === true;
  if ("expression" in p) tx.refuse(what, "an expression key");
  const col = findColumn(table, p.column);
  if (!col) tx.refuse(what, `column ${p.column} does not exist on the target`);
  const c = quoteIdent(col.name);
  if (p.length === undefined) return { sql: c, column: col.name, descending };
  const family = familyOf(col.type);
  if (family === "bytes") return { sql: `"substring"(${c}, 1, ${p.length})`, refs: [col.name], descending };
  if (family === "text") return { sql: `"left"(${c}, ${p.length})`, refs: [col.name], descending };
  return { sql: c, column: col.name, descending };
}

export function createIndexSql(qualifiedTable: string, schema: string, ix: TargetIndex): string[] {
  const keys = ix.parts.map((p) => `${p.sql}${p.descending ? " DESC" : ""}`).join(", ");
  if (ix.primary) return [`ALTER TABLE ${qualifiedTable} ADD CONSTRAINT ${quoteIdent(ix.name)} PRIMARY KEY (${keys})`];
  const out = [`CREATE ${ix.unique ? "UNIQUE " : ""}INDEX ${quoteIdent(ix.name)} ON ${qualifiedTable}${ix.method !== "btree" ? ` USING ${ix.method}` : ""} (${keys})`];
  if (ix.comment) out.push(`COMMENT ON INDEX ${quoteIdent(schema)}.${quoteIdent(ix.name)} IS ${literal(ix.comment)}`);
  return out;
}

export function dropIndexSql(qualifiedTable: string, schema: string, ix: TargetIndex): string {
  return ix.constraint ? `ALTER TABLE ${qualifiedTable} DROP CONSTRAINT ${quoteIdent(ix.name)}` : `DROP INDEX ${quoteIdent(schema)}.${quoteIdent(ix.name)}`;
}
