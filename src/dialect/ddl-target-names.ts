// A parsed statement with its table and column names as the target has them (fitName,
// identifiers.ts). The translator then works in target names only: what it reads from the
// target's catalog, what it derives (index, key, sequence names) and what it creates agree,
// and the rows, which name tables and columns as the source does, meet the same mapping in
// apply.ts. Index and constraint names stay as written: the translator derives or shortens them.
// Expressions (defaults, generated columns, CHECK, partitioning text) are not translated, so
// their text is left as is; the one partition column the sink uses is mapped where it is used.

import type { AlterOp, ColumnDef, ColumnPosition, Ddl, ForeignKeyDef, ForeignKeyTarget, IndexDef, TableRef } from "../binlog/ddl-model.ts";
import { fitName } from "./identifiers.ts";

const ref = (r: TableRef): TableRef => ({ ...r, table: fitName(r.table) });
const fkTarget = (t: ForeignKeyTarget): ForeignKeyTarget => ({ ...t, table: ref(t.table), columns: t.columns.map(fitName) });
const fk = (k: ForeignKeyDef): ForeignKeyDef => ({ ...k, columns: k.columns.map(fitName), target: fkTarget(k.target) });
const index = (ix: IndexDef): IndexDef => ({ ...ix, parts: ix.parts.map((p) => ("column" in p ? { ...p, column: fitName(p.column) } : p)) });
const position = (p: ColumnPosition | undefined): ColumnPosition | undefined => (p && "after" in p ? { after: fitName(p.after) } : p);

function column(c: ColumnDef): ColumnDef {
  const out: ColumnDef = { ...c, name: fitName(c.name) };
  if (c.references) out.references = fkTarget(c.references);
  return out;
}

function op(o: AlterOp): AlterOp {
  switch (o.op) {
    case "add_column":
    case "modify_column":
      return withPosition({ ...o, column: column(o.column) }, o.position);
    case "change_column":
      return withPosition({ ...o, oldName: fitName(o.oldName), column: column(o.column) }, o.position);
    case "drop_column":
    case "alter_column_default":
    case "alter_column_visibility":
      return { ...o, name: fitName(o.name) };
    case "rename_column":
      return { ...o, from: fitName(o.from), to: fitName(o.to) };
    case "add_index":
    case "add_unique":
    case "add_primary_key":
      return { ...o, index: index(o.index) };
    case "add_foreign_key":
      return { ...o, foreignKey: fk(o.foreignKey) };
    case "rename_table":
      return { ...o, to: ref(o.to) };
    default:
      return o;
  }
}

function withPosition<T extends { position?: ColumnPosition }>(o: T, p: ColumnPosition | undefined): T {
  const mapped = position(p);
  return mapped === undefined ? o : { ...o, position: mapped };
}

/** `ddl` with every table and column name it names in its target form. */
export function targetNames(ddl: Ddl): Ddl {
  switch (ddl.kind) {
    case "create_table":
      return {
        ...ddl,
        table: ref(ddl.table),
        columns: ddl.columns.map(column),
        ...(ddl.primaryKey ? { primaryKey: index(ddl.primaryKey) } : {}),
        indexes: ddl.indexes.map(index),
        foreignKeys: ddl.foreignKeys.map(fk),
      };
    case "create_table_like":
      return { ...ddl, table: ref(ddl.table), like: ref(ddl.like) };
    case "alter_table":
      return { ...ddl, table: ref(ddl.table), ops: ddl.ops.map(op) };
    case "rename_table":
      return { ...ddl, renames: ddl.renames.map((r) => ({ from: ref(r.from), to: ref(r.to) })) };
    case "drop_table":
      return { ...ddl, tables: ddl.tables.map(ref) };
    case "truncate_table":
    case "drop_index":
      return { ...ddl, table: ref(ddl.table) };
    case "create_index":
      return { ...ddl, table: ref(ddl.table), index: index(ddl.index) };
    case "other":
      return ddl.object?.table ? { ...ddl, object: { ...ddl.object, table: ref(ddl.object.table) } } : ddl;
    case "unparsed":
      return ddl.tables ? { ...ddl, tables: ddl.tables.map(ref) } : ddl;
    default:
      return ddl;
  }
}

/** A table or column name the statement gives (creates or renames to), as the source spells it. */
interface GivenName {
  what: "table" | "column";
  /** "db.table" for a table, "db.table.column" for a column (source spelling). */
  source: string;
  name: string;
}

/** The names `ddl` gives tables and columns: those the sink logs when the target's differ. */
export function givenNames(ddl: Ddl): GivenName[] {
  const table = (r: TableRef): GivenName => ({ what: "table", source: `${r.database}.${r.table}`, name: r.table });
  const col = (r: TableRef, name: string): GivenName => ({ what: "column", source: `${r.database}.${r.table}.${name}`, name });
  switch (ddl.kind) {
    case "create_table":
      return [table(ddl.table), ...ddl.columns.map((c) => col(ddl.table, c.name))];
    case "create_table_like":
      return [table(ddl.table)];
    case "rename_table":
      return ddl.renames.map((r) => table(r.to));
    case "alter_table":
      return ddl.ops.flatMap((o) => {
        if (o.op === "add_column" || o.op === "change_column") return [col(ddl.table, o.column.name)];
        if (o.op === "rename_column") return [col(ddl.table, o.to)];
        if (o.op === "rename_table") return [table(o.to)];
        return [];
      });
    default:
      return [];
  }
}
