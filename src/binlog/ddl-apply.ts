// Applies the DDL change model to table definitions the way the server does, producing the
// EFFECTIVE definition: every character column with its resolved charset and collation
// (column → table default → database default), TEXT(M)/BLOB(M) sized, nullability decided,
// index names assigned. ALTER TABLE follows MySQL's mysql_prepare_alter_table order (drops and
// in-place changes first, then additions and repositioned columns in written order, then
// keys), so a statement the server accepted gives the table the server built. Column
// placement was checked against MariaDB 10.11: a changed column with FIRST/AFTER stays in its
// old slot until its turn, and AFTER names refer to the new names.
// Definitions are immutable: every change returns a new TableDef (the schema history's
// per-table cache relies on object identity).

import { ReplicateError } from "../errors.ts";
import { isCharacterType } from "./ddl-column.ts";
import type { AlterOp, AlterTable, ColumnDef, CreateTable, IndexDef, KeyPart } from "./ddl-model.ts";
import { blobMaxBytes, blobTypeFor, type Catalog, isByteStringType } from "./ddl-types.ts";

/** MariaDB's fixed-size binary types: their cells are bytes in the binlog (STRING, binary). */
const BINARY_STORED = new Set(["uuid", "inet4", "inet6"]);

export interface TableDef {
  database: string;
  table: string;
  /** Effective definitions: charset/collation resolved ("binary" for byte strings), nullable set. */
  columns: ColumnDef[];
  /** Primary key column names, in key order; empty when the table has none. */
  primaryKey: string[];
  /** Every non-primary index (unique keys have kind "unique"), names assigned. */
  indexes: IndexDef[];
  charset: string;
  collation: string;
  engine?: string;
  comment?: string;
}

export interface ApplyEnv {
  catalog: Catalog;
  flavour: "mysql" | "mariadb";
  /** explicit_defaults_for_timestamp: when off, TIMESTAMP columns are NOT NULL unless declared NULL. */
  explicitDefaultsForTimestamp: boolean;
}

export interface CharsetPair {
  charset: string;
  collation: string;
}

export function drift(where: string, message: string): ReplicateError {
  return new ReplicateError(
    "BINLOG_SCHEMA_MISSING",
    `schema history of ${where} is out of step with the source: ${message}; take a new schema snapshot (restart from a snapshot), or set binlog_row_metadata=FULL on the source`,
    { where },
  );
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** A charset/collation pair from optional names, the server's way: collation decides the charset. */
export function resolveCharset(env: ApplyEnv, where: string, charset: string | undefined, collation: string | undefined, fallback: CharsetPair): CharsetPair {
  const cat = env.catalog;
  if (charset === "default") charset = undefined;
  if (charset === undefined && collation === undefined) return fallback;
  if (collation !== undefined) {
    const co = cat.collation(collation);
    if (!co) throw drift(where, `collation ${collation} is not one the server listed`);
    return { charset: co.charset, collation: co.name };
  }
  const cs = cat.charset(charset!);
  if (!cs) throw drift(where, `character set ${charset} is not one the server listed`);
  return { charset: cs.name, collation: cs.defaultCollation };
}

/** The effective form of a declared column in a table whose default is `table`. */
export function effectiveColumn(env: ApplyEnv, where: string, col: ColumnDef, table: CharsetPair): ColumnDef {
  const type = { ...col.type };
  const out: ColumnDef = { ...col, type };
  if (isCharacterType(type.name)) {
    const cs = { ...resolveCharset(env, where, type.charset, type.collation, table) };
    if (type.binaryCollation) {
      const bin = env.catalog.binCollation(cs.charset);
      if (!bin) throw drift(where, `character set ${cs.charset} has no _bin collation`);
      cs.collation = bin.name;
    }
    type.charset = cs.charset;
    type.collation = cs.collation;
    delete type.binaryCollation;
    if (type.name === "text" && type.length !== undefined) {
      type.name = blobTypeFor(type.length * maxlen(env, cs.charset), true);
      delete type.length;
    }
  } else if (type.name === "blob" && type.length !== undefined) {
    type.name = blobTypeFor(type.length, false);
    delete type.length;
  }
  if (isByteStringType(type.name) || BINARY_STORED.has(type.name)) {
    type.charset = type.collation = "binary";
  } else if (type.name === "json" && env.flavour === "mariadb") {
    // MariaDB's JSON is LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin.
    type.charset = "utf8mb4";
    type.collation = "utf8mb4_bin";
  } else if (!isCharacterType(type.name)) {
    delete type.charset;
    delete type.collation;
  }
  out.nullable = col.nullable ?? !(type.name === "timestamp" && !env.explicitDefaultsForTimestamp);
  return out;
}

function maxlen(env: ApplyEnv, charset: string): number {
  if (charset === "binary") return 1;
  const cs = env.catalog.charset(charset);
  if (!cs) throw new ReplicateError("BINLOG_SCHEMA_MISSING", `character set ${charset} is not one the server listed`);
  return cs.maxlen;
}

export function tableFromCreate(env: ApplyEnv, ddl: CreateTable, database: CharsetPair): TableDef {
  const where = `${ddl.table.database}.${ddl.table.table}`;
  const tcs = resolveCharset(env, where, ddl.options.charset, ddl.options.collation, database);
  let def: TableDef = {
    database: ddl.table.database,
    table: ddl.table.table,
    columns: ddl.columns.map((c) => effectiveColumn(env, where, c, tcs)),
    primaryKey: [],
    indexes: [],
    ...tcs,
  };
  if (ddl.options.engine !== undefined) def.engine = ddl.options.engine;
  if (ddl.options.comment !== undefined) def.comment = ddl.options.comment;
  const keyOps: AlterOp[] = ddl.indexes.map((index) => ({ op: index.kind === "unique" ? "add_unique" : "add_index", index, ifNotExists: false }));
  if (ddl.primaryKey) keyOps.unshift({ op: "add_primary_key", index: ddl.primaryKey });
  def = applyKeys(def, keyOps, where);
  checkNames(def, where);
  return def;
}

/** CREATE TABLE ... LIKE: a copy of the definition under the new name. */
export function tableLike(source: TableDef, database: string, table: string): TableDef {
  return { ...source, database, table };
}

export function alterTable(env: ApplyEnv, def: TableDef, ddl: AlterTable, database: CharsetPair): TableDef {
  const where = `${def.database}.${def.table}`;
  for (const op of ddl.ops) if (op.op === "unsupported") throw drift(where, `cannot follow "${op.text}" (${op.reason})`);
  let tcs: CharsetPair = { charset: def.charset, collation: def.collation };
  let convert: CharsetPair | undefined;
  let engine = def.engine;
  let comment = def.comment;
  for (const op of ddl.ops) {
    if (op.op === "table_options") {
      tcs = resolveCharset(env, where, op.options.charset === "default" ? database.charset : op.options.charset, op.options.collation, tcs);
      engine = op.options.engine ?? engine;
      comment = op.options.comment ?? comment;
    } else if (op.op === "convert_charset") {
      tcs = convert = resolveCharset(env, where, op.charset === "default" ? database.charset : op.charset, op.collation, tcs);
    }
  }
  const { columns, renames, dropped } = alterColumns(env, where, def.columns, ddl.ops, tcs);
  let out: TableDef = { ...def, columns, ...tcs };
  if (engine !== undefined) out.engine = engine;
  if (comment !== undefined) out.comment = comment;
  if (convert) out.columns = out.columns.map((c) => convertColumn(env, c, convert!));
  out = renameKeyColumns(out, renames, dropped);
  out = applyKeys(out, ddl.ops, where);
  checkNames(out, where);
  return out;
}

interface Placed {
  col: ColumnDef;
}

function alterColumns(env: ApplyEnv, where: string, old: ColumnDef[], ops: AlterOp[], tcs: CharsetPair) {
  const exists = (name: string) => old.some((c) => same(c.name, name));
  const drops = new Set<string>();
  for (const op of ops) {
    if (op.op === "rename_column" && !exists(op.from)) throw drift(where, `RENAME COLUMN ${op.from}: no such column`);
    if (op.op !== "drop_column") continue;
    if (exists(op.name)) drops.add(op.name.toLowerCase());
    else if (!op.ifExists) throw drift(where, `DROP COLUMN ${op.name}: no such column`);
  }
  // CHANGE/MODIFY by old name; each becomes a Placed whose identity marks it in the new list.
  const changes = new Map<string, { op: AlterOp & { op: "change_column" | "modify_column" }; placed: Placed }>();
  const renames = new Map<string, string>();
  const dropped = new Set(drops);
  for (const op of ops) {
    if (op.op !== "change_column" && op.op !== "modify_column") continue;
    const oldName = op.op === "change_column" ? op.oldName : op.column.name;
    if (!exists(oldName) || drops.has(oldName.toLowerCase())) {
      if (op.ifExists) continue;
      throw drift(where, `${op.op === "change_column" ? "CHANGE" : "MODIFY"} COLUMN ${oldName}: no such column`);
    }
    changes.set(oldName.toLowerCase(), { op, placed: { col: effectiveColumn(env, where, op.column, tcs) } });
    if (!same(oldName, op.column.name)) renames.set(oldName.toLowerCase(), op.column.name);
  }
  const list: Placed[] = [];
  for (const col of old) {
    const key = col.name.toLowerCase();
    if (drops.has(key)) continue;
    const ch = changes.get(key);
    if (ch) {
      // In the old slot for now; one with FIRST/AFTER moves when its turn comes below.
      list.push(ch.placed);
      continue;
    }
    let c = col;
    for (const op of ops) {
      if (op.op === "rename_column" && same(op.from, c.name)) {
        renames.set(c.name.toLowerCase(), op.to);
        c = { ...c, name: op.to };
      } else if (op.op === "alter_column_default" && same(op.name, col.name)) {
        c = { ...c };
        if (op.default) c.default = op.default;
        else delete c.default;
      } else if (op.op === "alter_column_visibility" && same(op.name, col.name)) {
        c = { ...c, invisible: op.invisible };
      }
    }
    list.push({ col: c });
  }
  for (const op of ops) {
    let placed: Placed;
    if (op.op === "add_column") {
      if (list.some((p) => same(p.col.name, op.column.name))) {
        if (op.ifNotExists) continue;
        throw drift(where, `ADD COLUMN ${op.column.name}: the column already exists`);
      }
      placed = { col: effectiveColumn(env, where, op.column, tcs) };
      if (!op.position) {
        list.push(placed);
        continue;
      }
    } else if ((op.op === "change_column" || op.op === "modify_column") && op.position) {
      const ch = changes.get((op.op === "change_column" ? op.oldName : op.column.name).toLowerCase());
      if (!ch) continue; // IF EXISTS on a missing column
      placed = ch.placed;
      list.splice(list.indexOf(placed), 1);
    } else continue;
    const pos = op.position!;
    if ("first" in pos) list.unshift(placed);
    else {
      const at = list.findIndex((p) => same(p.col.name, pos.after));
      if (at < 0) throw drift(where, `AFTER ${pos.after}: no such column`);
      list.splice(at + 1, 0, placed);
    }
  }
  return { columns: list.map((p) => p.col), renames, dropped };
}

/** CONVERT TO CHARACTER SET: character columns take the charset; TEXT grows to keep its length in characters. */
function convertColumn(env: ApplyEnv, col: ColumnDef, to: CharsetPair): ColumnDef {
  const t = col.type;
  if (!isCharacterType(t.name) || t.charset === "binary") return col;
  const type = { ...t, charset: to.charset, collation: to.collation };
  const bytes = blobMaxBytes(t.name);
  if (bytes !== undefined && t.charset !== undefined) {
    const chars = Math.floor(bytes / maxlen(env, t.charset));
    type.name = blobTypeFor(chars * maxlen(env, to.charset), true);
  }
  return { ...col, type };
}

function renameKeyColumns(def: TableDef, renames: Map<string, string>, dropped: Set<string>): TableDef {
  const map = (name: string) => renames.get(name.toLowerCase()) ?? name;
  const keep = (name: string) => !dropped.has(name.toLowerCase());
  const indexes: IndexDef[] = [];
  for (const ix of def.indexes) {
    const parts = ix.parts.filter((p) => !("column" in p) || keep(p.column)).map((p): KeyPart => ("column" in p ? { ...p, column: map(p.column) } : p));
    if (parts.length > 0) indexes.push({ ...ix, parts });
  }
  return { ...def, primaryKey: def.primaryKey.filter(keep).map(map), indexes };
}

function applyKeys(def: TableDef, ops: AlterOp[], where: string): TableDef {
  let primaryKey = def.primaryKey;
  let indexes = def.indexes;
  const find = (name: string) => indexes.findIndex((ix) => ix.name !== undefined && same(ix.name, name));
  for (const op of ops) {
    if (op.op === "drop_primary_key") primaryKey = [];
    else if (op.op === "drop_index" || op.op === "drop_constraint") {
      const at = find(op.name);
      if (at >= 0) indexes = indexes.filter((_, k) => k !== at);
      else if (op.op === "drop_constraint" && same(op.name, "PRIMARY")) primaryKey = [];
    } else if (op.op === "rename_index") {
      const at = find(op.from);
      if (at >= 0) indexes = indexes.map((ix, k) => (k === at ? { ...ix, name: op.to } : ix));
    }
  }
  const columns = def.columns.map((c) => ({ ...c }));
  for (const op of ops) {
    if (op.op === "add_primary_key") {
      if (primaryKey.length > 0) throw drift(where, "ADD PRIMARY KEY: the table already has one");
      primaryKey = op.index.parts.map((p) => {
        if (!("column" in p)) throw drift(where, "a primary key on an expression");
        const col = columns.find((c) => same(c.name, p.column));
        if (!col) throw drift(where, `PRIMARY KEY (${p.column}): no such column`);
        return col.name;
      });
    } else if (op.op === "add_index" || op.op === "add_unique") {
      const name = op.index.name ?? autoName(indexes, op.index.parts);
      if (find(name) >= 0) {
        if (op.ifNotExists) continue;
        throw drift(where, `index ${name} already exists`);
      }
      indexes = [...indexes, { ...op.index, name }];
    }
  }
  // Primary key columns are NOT NULL whatever a later MODIFY/CHANGE says.
  for (const col of columns) if (primaryKey.some((n) => same(n, col.name))) col.nullable = false;
  return { ...def, columns, primaryKey, indexes };
}

/** The server names an unnamed index after its first column: a, a_2, a_3... */
function autoName(indexes: IndexDef[], parts: KeyPart[]): string {
  const first = parts[0];
  const base = first && "column" in first ? first.column : "functional_index";
  const taken = (n: string) => indexes.some((ix) => ix.name !== undefined && same(ix.name, n)) || same(n, "PRIMARY");
  if (!taken(base)) return base;
  for (let k = 2; ; k++) if (!taken(`${base}_${k}`)) return `${base}_${k}`;
}

function checkNames(def: TableDef, where: string): void {
  const seen = new Set<string>();
  for (const c of def.columns) {
    const key = c.name.toLowerCase();
    if (seen.has(key)) throw drift(where, `two columns named ${c.name}`);
    seen.add(key);
  }
  for (const name of def.primaryKey) if (!seen.has(name.toLowerCase())) throw drift(where, `primary key column ${name} does not exist`);
}
