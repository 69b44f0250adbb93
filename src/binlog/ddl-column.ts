// Column-level DDL grammar: column attributes, DEFAULT values, key parts, references,
// checks, table references (MySQL 8.0 / MariaDB 10.11 "CREATE TABLE Statement"). Data types
// are in ddl-datatype.ts.

import type { CheckDef, ColumnDef, DefaultValue, ForeignKeyTarget, KeyPart, TableRef } from "./ddl-model.ts";
import type { Cursor } from "./ddl-lexer.ts";
import { charsetClause, parseColumnType } from "./ddl-datatype.ts";

export { charsetClause, isCharacterType } from "./ddl-datatype.ts";

export interface ParsedColumn {
  column: ColumnDef;
  /** Inline PRIMARY KEY / KEY and UNIQUE [KEY] (and SERIAL's implied UNIQUE), in written order. */
  keys: Array<"primary" | "unique">;
  /** A CHECK written on the column (a table constraint in MySQL's eyes). */
  check?: CheckDef;
}

/** `name type attributes...` up to a top-level ',' or ')' or FIRST/AFTER (left for the caller). */
export function parseColumnDefinition(c: Cursor, name: string): ParsedColumn {
  const { type, serial } = parseColumnType(c);
  const column: ColumnDef = { name, type, autoIncrement: false, invisible: false };
  const keys: Array<"primary" | "unique"> = [];
  let check: CheckDef | undefined;
  if (serial) {
    column.nullable = false;
    column.autoIncrement = true;
    keys.push("unique");
  }
  while (!c.atEnd() && !c.isPunct(",") && !c.isPunct(")") && !c.isWord("FIRST", "AFTER")) {
    if (c.eatWords("NOT", "NULL")) column.nullable = false;
    else if (c.eatWord("NULL")) column.nullable = true;
    else if (c.eatWord("DEFAULT")) column.default = parseDefault(c);
    else if (c.eatWords("ON", "UPDATE")) column.onUpdate = { fsp: currentTimestamp(c) ?? fail(c, "ON UPDATE needs CURRENT_TIMESTAMP") };
    else if (c.eatWord("AUTO_INCREMENT")) column.autoIncrement = true;
    else if (c.eatWords("SERIAL", "DEFAULT", "VALUE")) {
      Object.assign(column, { nullable: false, autoIncrement: true });
      keys.push("unique");
    } else if (c.eatWord("UNIQUE")) {
      c.eatWord("KEY");
      keys.push("unique");
    } else if (c.eatWords("PRIMARY", "KEY") || c.eatWord("KEY")) keys.push("primary");
    else if (c.eatWord("COMMENT")) column.comment = c.string();
    else if (charsetClause(c, type)) continue;
    else if (c.eatWord("COLUMN_FORMAT", "STORAGE")) c.next();
    else if (c.eatWord("ENGINE_ATTRIBUTE", "SECONDARY_ENGINE_ATTRIBUTE")) {
      c.eatEquals();
      c.string();
    } else if (c.eatWord("VISIBLE")) column.invisible = false;
    else if (c.eatWord("INVISIBLE")) column.invisible = true;
    else if (c.eatWord("SRID")) column.srid = c.integer();
    else if (c.eatWord("COMPRESSED")) {
      column.compressed = true;
      if (c.eatPunct("=")) c.next();
    } else if (c.isWord("GENERATED", "AS")) {
      if (c.eatWord("GENERATED")) c.expectWord("ALWAYS");
      c.expectWord("AS");
      if (!c.isPunct("(")) throw c.fail("generated columns AS ROW START/END (system versioning) are not supported");
      const expression = c.parenthesisedText();
      const stored = c.eatWord("STORED", "PERSISTENT");
      if (!stored) c.eatWord("VIRTUAL");
      column.generated = { expression, stored };
    } else if (c.eatWord("REFERENCES")) column.references = parseReferences(c);
    else if (c.isWord("CONSTRAINT", "CHECK")) check = parseCheck(c);
    else if (c.eatWords("NOT", "SECONDARY")) continue;
    else if (c.isWord("WITH", "WITHOUT") && c.isWordAt(1, "SYSTEM")) throw c.fail("system versioning is not supported");
    else throw c.fail("unexpected column attribute");
  }
  return check ? { column, keys, check } : { column, keys };
}

function fail(c: Cursor, message: string): never {
  throw c.fail(message);
}

/** CURRENT_TIMESTAMP[(n)] and its synonyms; returns fsp, or undefined (nothing consumed). */
function currentTimestamp(c: Cursor): number | undefined {
  if (!c.isWord("CURRENT_TIMESTAMP", "NOW", "LOCALTIME", "LOCALTIMESTAMP")) return undefined;
  const needsParens = c.isWord("NOW");
  c.next();
  if (!c.eatPunct("(")) {
    if (needsParens) throw c.fail("NOW needs parentheses");
    return 0;
  }
  const fsp = c.isPunct(")") ? 0 : c.integer();
  c.expectPunct(")");
  return fsp;
}

export function parseDefault(c: Cursor): DefaultValue {
  const fsp = currentTimestamp(c);
  if (fsp !== undefined) return { kind: "current_timestamp", fsp };
  const t = c.peek();
  if (!t) throw c.fail("expected a default value");
  let value: DefaultValue;
  if (t.kind === "punct" && t.text === "(") {
    value = { kind: "expression", text: c.parenthesisedText() };
  } else if (t.kind === "punct" && (t.text === "-" || t.text === "+")) {
    c.next();
    const num = c.next();
    if (num.kind !== "number") throw c.fail("expected a number after the sign", num);
    value = { kind: "number", text: t.text === "-" ? `-${num.text}` : num.text };
  } else if (t.kind === "string") {
    const introducer = t.introducer;
    value = introducer ? { kind: "string", value: c.string(), introducer } : { kind: "string", value: c.string() };
  } else if (t.kind === "number") value = { kind: "number", text: c.next().text };
  else if (t.kind === "hex") value = { kind: "hex", digits: c.next().text };
  else if (t.kind === "bit") value = { kind: "bit", digits: c.next().text };
  else if (t.kind === "word" && t.upper === "NULL") {
    c.next();
    value = { kind: "null" };
  } else if (t.kind === "word" && (t.upper === "TRUE" || t.upper === "FALSE")) {
    c.next();
    value = { kind: "boolean", value: t.upper === "TRUE" };
  } else if (t.kind === "word" && c.isPunct("(", 1)) {
    // MariaDB accepts a function call without surrounding parentheses: DEFAULT uuid().
    const from = c.i;
    c.next();
    c.skipBalanced();
    value = { kind: "expression", text: c.textBetween(from, c.i) };
  } else if (t.kind === "word" && /^(CURRENT_DATE|CURRENT_TIME|CURRENT_USER|CURRENT_ROLE|UTC_DATE|UTC_TIME|UTC_TIMESTAMP|SYSDATE|USER)$/.test(t.upper)) {
    value = { kind: "expression", text: c.next().text };
  } else throw c.fail("unsupported DEFAULT value");
  // An operator after the value means an unparenthesised expression (MariaDB): not guessed at.
  const after = c.peek();
  if (after?.kind === "punct" && !["(", ")", ","].includes(after.text) && !(after.text === ";" && c.atEnd())) {
    throw c.fail("unparenthesised DEFAULT expression");
  }
  return value;
}

/** `[db.]name`, resolved against the session default database. */
export function parseTableRef(c: Cursor): TableRef {
  const first = c.objectName(c.ident());
  if (c.eatPunct(".")) return { database: first, table: c.objectName(c.ident()) };
  return { database: c.database, table: first };
}

/** `(col [(len)] [ASC|DESC], (expr) [ASC|DESC], ...)`. */
export function parseKeyParts(c: Cursor): KeyPart[] {
  c.expectPunct("(");
  const parts: KeyPart[] = [];
  do {
    let part: KeyPart;
    if (c.isPunct("(")) part = { expression: c.parenthesisedText() };
    else {
      const column = c.ident();
      part = c.isPunct("(") ? { column, length: lengthOf(c) } : { column };
    }
    if (c.eatWord("DESC")) part.descending = true;
    else c.eatWord("ASC");
    parts.push(part);
  } while (c.eatPunct(","));
  c.expectPunct(")");
  return parts;
}

function lengthOf(c: Cursor): number {
  c.expectPunct("(");
  const n = c.integer();
  c.expectPunct(")");
  return n;
}

export function parseNameList(c: Cursor): string[] {
  c.expectPunct("(");
  const names: string[] = [];
  do names.push(c.ident());
  while (c.eatPunct(","));
  c.expectPunct(")");
  return names;
}

/** After REFERENCES: `tbl (cols) [MATCH x] [ON DELETE action] [ON UPDATE action]`. */
export function parseReferences(c: Cursor): ForeignKeyTarget {
  const table = parseTableRef(c);
  const target: ForeignKeyTarget = { table, columns: c.isPunct("(") ? parseNameList(c) : [] };
  for (;;) {
    if (c.eatWord("MATCH")) target.match = c.expectWord("FULL", "PARTIAL", "SIMPLE");
    else if (c.eatWords("ON", "DELETE")) target.onDelete = refAction(c);
    else if (c.eatWords("ON", "UPDATE")) target.onUpdate = refAction(c);
    else return target;
  }
}

function refAction(c: Cursor): string {
  if (c.eatWord("RESTRICT")) return "RESTRICT";
  if (c.eatWord("CASCADE")) return "CASCADE";
  if (c.eatWords("SET", "NULL")) return "SET NULL";
  if (c.eatWords("SET", "DEFAULT")) return "SET DEFAULT";
  if (c.eatWords("NO", "ACTION")) return "NO ACTION";
  throw c.fail("expected a referential action");
}

/** `[CONSTRAINT [name]] CHECK (expr) [[NOT] ENFORCED]`. */
export function parseCheck(c: Cursor): CheckDef {
  let name: string | undefined;
  if (c.eatWord("CONSTRAINT") && !c.isWord("CHECK")) name = c.ident();
  c.expectWord("CHECK");
  const expression = c.parenthesisedText();
  let enforced = true;
  if (c.eatWords("NOT", "ENFORCED")) enforced = false;
  else c.eatWord("ENFORCED");
  return name === undefined ? { expression, enforced } : { name, expression, enforced };
}
