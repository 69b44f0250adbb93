// Table-level DDL grammar: CREATE TABLE bodies, index and constraint definitions, table
// options and the partitioning clause (MySQL 8.0 / MariaDB 10.11 "CREATE TABLE Statement").

import { type Cursor } from "./ddl-lexer.ts";
import { parseCheck, parseColumnDefinition, parseKeyParts, parseNameList, parseReferences, parseTableRef } from "./ddl-column.ts";
import type { CheckDef, CreateTable, CreateTableLike, ForeignKeyDef, IndexDef, IndexKind, TableOptions, TableRef } from "./ddl-model.ts";

interface CreateHead {
  table: TableRef;
  temporary: boolean;
  ifNotExists: boolean;
  orReplace: boolean;
}

/** After `CREATE ... TABLE [IF NOT EXISTS] name`. */
export function parseCreateTableBody(c: Cursor, head: CreateHead, statement: string): CreateTable | CreateTableLike {
  if (c.eatWord("LIKE") || (c.isPunct("(") && c.isWordAt(1, "LIKE"))) {
    const paren = c.eatPunct("(");
    if (paren) c.expectWord("LIKE");
    const like = parseTableRef(c);
    if (paren) c.expectPunct(")");
    expectEnd(c);
    return { kind: "create_table_like", statement, ...head, like };
  }
  const out: CreateTable = {
    kind: "create_table",
    statement,
    ...head,
    columns: [],
    indexes: [],
    foreignKeys: [],
    checks: [],
    options: { other: [] },
  };
  if (c.isPunct("(") && !c.isWordAt(1, "SELECT", "WITH", "VALUES", "TABLE")) parseDefinitions(c, out);
  parseTableOptions(c, out.options, true);
  if (c.isWord("PARTITION") && c.isWordAt(1, "BY")) out.partitioning = c.restText();
  if (!c.atEnd()) {
    if (c.isWord("IGNORE", "REPLACE", "AS", "SELECT", "WITH", "VALUES", "TABLE") || c.isPunct("(")) {
      throw c.fail("CREATE TABLE ... SELECT: the column types come from the query");
    }
    throw c.fail("unexpected text after the table definition");
  }
  if (out.columns.length === 0) throw c.fail("CREATE TABLE without columns");
  return out;
}

function parseDefinitions(c: Cursor, out: CreateTable): void {
  c.expectPunct("(");
  do {
    const def = parseTableElement(c);
    if (def.kind === "column") {
      out.columns.push(def.column.column);
      for (const k of def.column.keys) {
        const part = { column: def.column.column.name };
        if (k === "primary") out.primaryKey = { name: "PRIMARY", kind: "primary", parts: [part] };
        else out.indexes.push({ name: def.column.column.name, kind: "unique", parts: [part] });
      }
      if (def.column.check) out.checks.push({ ...def.column.check, column: def.column.column.name });
    } else if (def.kind === "index") {
      if (def.index.kind === "primary") out.primaryKey = def.index;
      else out.indexes.push(def.index);
    } else if (def.kind === "foreign") out.foreignKeys.push(def.foreignKey);
    else if (def.kind === "check") out.checks.push(def.check);
  } while (c.eatPunct(","));
  c.expectPunct(")");
}

type Element =
  | { kind: "column"; column: ReturnType<typeof parseColumnDefinition> }
  | { kind: "index"; index: IndexDef; ifNotExists: boolean }
  | { kind: "foreign"; foreignKey: ForeignKeyDef; ifNotExists: boolean }
  | { kind: "check"; check: CheckDef }
  | { kind: "period" };

/** One create_definition: a column, an index or key, a foreign key, a check, a period. */
function parseTableElement(c: Cursor): Element {
  const index = parseIndexOrConstraint(c);
  if (index) return index;
  if (c.isWord("PERIOD") && c.isWordAt(1, "FOR")) {
    c.i += 2;
    if (c.isWord("SYSTEM_TIME")) throw c.fail("system-versioned tables are not supported");
    c.ident();
    c.skipBalanced();
    return { kind: "period" };
  }
  const name = c.ident();
  return { kind: "column", column: parseColumnDefinition(c, name) };
}

/** Index, key or constraint definitions (also after ALTER TABLE ... ADD); undefined when none is next. */
export function parseIndexOrConstraint(c: Cursor): Exclude<Element, { kind: "column" | "period" }> | undefined {
  const start = c.i;
  let constraint: string | undefined;
  if (c.eatWord("CONSTRAINT")) {
    if (!c.isWord("PRIMARY", "UNIQUE", "FOREIGN", "CHECK")) constraint = c.ident();
    if (c.isWord("CHECK")) {
      c.i = start;
      return { kind: "check", check: parseCheck(c) };
    }
  }
  if (c.isWord("CHECK")) return { kind: "check", check: parseCheck(c) };
  if (c.eatWords("PRIMARY", "KEY")) return indexDef(c, "primary", constraint);
  if (c.eatWord("UNIQUE")) {
    c.eatWord("INDEX", "KEY");
    return indexDef(c, "unique", constraint);
  }
  if (c.eatWords("FOREIGN", "KEY")) {
    const ifNotExists = c.eatWords("IF", "NOT", "EXISTS");
    let name = constraint;
    if (!c.isPunct("(")) name = c.ident();
    const columns = parseNameList(c);
    c.expectWord("REFERENCES");
    const foreignKey: ForeignKeyDef = { columns, target: parseReferences(c) };
    if (name !== undefined) foreignKey.name = name;
    return { kind: "foreign", foreignKey, ifNotExists };
  }
  if (constraint !== undefined || c.isWord("CONSTRAINT")) throw c.fail("expected PRIMARY KEY, UNIQUE, FOREIGN KEY or CHECK");
  if (c.eatWord("INDEX", "KEY")) return indexDef(c, "index", undefined);
  if (c.isWord("FULLTEXT", "SPATIAL")) {
    const kind = c.next().upper === "FULLTEXT" ? "fulltext" : "spatial";
    c.eatWord("INDEX", "KEY");
    return indexDef(c, kind, undefined);
  }
  return undefined;
}

function indexDef(c: Cursor, kind: IndexKind, constraint: string | undefined): { kind: "index"; index: IndexDef; ifNotExists: boolean } {
  const ifNotExists = c.eatWords("IF", "NOT", "EXISTS");
  const index: IndexDef = { kind, parts: [] };
  if (c.isIdent() && !c.isWord("USING")) index.name = c.ident();
  else if (constraint !== undefined && kind !== "primary") index.name = constraint;
  if (kind === "primary") index.name = "PRIMARY";
  if (constraint !== undefined) index.constraint = constraint;
  indexOptions(c, index);
  index.parts = parseKeyParts(c);
  indexOptions(c, index);
  return { kind: "index", index, ifNotExists };
}

/** index_type and index_option clauses, before or after the key parts. */
export function indexOptions(c: Cursor, index: IndexDef): void {
  for (;;) {
    if (c.eatWord("USING")) index.using = c.expectWord("BTREE", "HASH", "RTREE");
    else if (c.eatWord("COMMENT")) index.comment = c.string();
    else if (c.eatWord("VISIBLE") || c.eatWords("NOT", "IGNORED")) index.invisible = false;
    else if (c.eatWord("INVISIBLE", "IGNORED")) index.invisible = true;
    else if (c.eatWords("WITH", "PARSER")) c.ident();
    else if (c.eatWord("KEY_BLOCK_SIZE", "ENGINE_ATTRIBUTE", "SECONDARY_ENGINE_ATTRIBUTE", "CLUSTERING")) {
      c.eatEquals();
      c.next();
    } else return;
  }
}

// Options whose value may follow without '='; any other NAME = value is kept as written too.
const VALUE_OPTIONS = new Set([
  "AVG_ROW_LENGTH",
  "CHECKSUM",
  "TABLE_CHECKSUM",
  "COMPRESSION",
  "CONNECTION",
  "DELAY_KEY_WRITE",
  "ENCRYPTION",
  "ENCRYPTED",
  "ENCRYPTION_KEY_ID",
  "INSERT_METHOD",
  "KEY_BLOCK_SIZE",
  "MAX_ROWS",
  "MIN_ROWS",
  "PACK_KEYS",
  "PASSWORD",
  "STATS_AUTO_RECALC",
  "STATS_PERSISTENT",
  "STATS_SAMPLE_PAGES",
  "PAGE_CHECKSUM",
  "PAGE_COMPRESSED",
  "PAGE_COMPRESSION_LEVEL",
  "TRANSACTIONAL",
  "IETF_QUOTES",
  "SEQUENCE",
  "AUTOEXTEND_SIZE",
  "SECONDARY_ENGINE",
  "ENGINE_ATTRIBUTE",
  "SECONDARY_ENGINE_ATTRIBUTE",
]);

/**
 * Table options into `opts`; returns how many were read. `commas`: options may be separated
 * by commas (CREATE TABLE); in ALTER TABLE a comma ends the clause.
 */
export function parseTableOptions(c: Cursor, opts: TableOptions, commas: boolean): number {
  let count = 0;
  for (;;) {
    const mark = c.i;
    if (commas && count > 0) c.eatPunct(",");
    if (!parseTableOption(c, opts)) {
      c.i = mark;
      return count;
    }
    count++;
  }
}

function parseTableOption(c: Cursor, opts: TableOptions): boolean {
  const dflt = c.eatWord("DEFAULT");
  if (c.eatWords("CHARACTER", "SET") || c.eatWords("CHAR", "SET") || c.eatWord("CHARSET")) {
    c.eatEquals();
    opts.charset = optionName(c);
    return true;
  }
  if (c.eatWord("COLLATE")) {
    c.eatEquals();
    opts.collation = optionName(c);
    return true;
  }
  if (dflt) throw c.fail("expected CHARACTER SET or COLLATE after DEFAULT");
  if (c.eatWord("ENGINE", "TYPE")) {
    c.eatEquals();
    opts.engine = c.next().text;
  } else if (c.eatWord("COMMENT")) {
    c.eatEquals();
    opts.comment = c.string();
  } else if (c.eatWord("AUTO_INCREMENT")) {
    c.eatEquals();
    opts.autoIncrement = String(c.integer());
  } else if (c.eatWord("ROW_FORMAT")) {
    c.eatEquals();
    opts.rowFormat = c.next().text.toUpperCase();
  } else if (c.isWord("DATA", "INDEX") && c.isWordAt(1, "DIRECTORY")) {
    const name = `${c.next().upper} DIRECTORY`;
    c.next();
    c.eatEquals();
    opts.other.push({ name, value: c.string() });
  } else if (c.eatWord("TABLESPACE")) {
    c.eatEquals();
    let value = c.ident();
    if (c.eatWord("STORAGE")) value += ` STORAGE ${c.next().upper}`;
    opts.other.push({ name: "TABLESPACE", value });
  } else if (c.eatWord("UNION")) {
    c.eatEquals();
    opts.other.push({ name: "UNION", value: `(${c.parenthesisedText()})` });
  } else if (c.eatWords("START", "TRANSACTION")) {
    opts.other.push({ name: "START TRANSACTION", value: "" });
  } else if (c.peek()?.kind === "word" && (VALUE_OPTIONS.has(c.peek()!.upper) || c.isPunct("=", 1))) {
    const name = c.next().upper;
    c.eatEquals();
    const from = c.i;
    c.skipItem();
    opts.other.push({ name, value: c.textBetween(from, c.i) });
  } else return false;
  return true;
}

function optionName(c: Cursor): string {
  const t = c.next();
  if (t.kind === "word" || t.kind === "ident" || t.kind === "string") return t.text.toLowerCase();
  throw c.fail("expected a name", t);
}

export function expectEnd(c: Cursor): void {
  if (!c.atEnd()) throw c.fail("unexpected text");
}
