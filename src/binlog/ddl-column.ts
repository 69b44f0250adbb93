// Column-level DDL grammar: data types (with MySQL's synonyms resolved the way the server
// resolves them), column attributes, DEFAULT values, key parts, table references.
// MySQL 8.0 / MariaDB 10.11 reference manuals, "Data Types" and "CREATE TABLE Statement".

import type { CheckDef, ColumnDef, ColumnType, DefaultValue, ForeignKeyTarget, KeyPart, TableRef } from "./ddl-model.ts";
import { type Cursor, DdlSyntaxError, SQL_MODE } from "./ddl-lexer.ts";

const INTEGERS: Record<string, string> = {
  TINYINT: "tinyint",
  INT1: "tinyint",
  SMALLINT: "smallint",
  INT2: "smallint",
  MEDIUMINT: "mediumint",
  MIDDLEINT: "mediumint",
  INT3: "mediumint",
  INT: "int",
  INTEGER: "int",
  INT4: "int",
  BIGINT: "bigint",
  INT8: "bigint",
};
const SIMPLE: Record<string, string> = {
  DATE: "date",
  JSON: "json",
  TINYBLOB: "tinyblob",
  MEDIUMBLOB: "mediumblob",
  LONGBLOB: "longblob",
  TINYTEXT: "tinytext",
  MEDIUMTEXT: "mediumtext",
  LONGTEXT: "longtext",
  GEOMETRY: "geometry",
  POINT: "point",
  LINESTRING: "linestring",
  POLYGON: "polygon",
  MULTIPOINT: "multipoint",
  MULTILINESTRING: "multilinestring",
  MULTIPOLYGON: "multipolygon",
  GEOMETRYCOLLECTION: "geometrycollection",
  GEOMCOLLECTION: "geometrycollection",
  UUID: "uuid",
  INET4: "inet4",
  INET6: "inet6",
};
const NUMERIC = new Set(["tinyint", "smallint", "mediumint", "int", "bigint", "decimal", "float", "double"]);
const CHARACTER = new Set(["char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set"]);
/** CHARACTER SET binary turns a character type into its byte-string twin. */
const BYTE_TWIN: Record<string, string> = {
  char: "binary",
  varchar: "varbinary",
  tinytext: "tinyblob",
  text: "blob",
  mediumtext: "mediumblob",
  longtext: "longblob",
};
const NATIONAL = "utf8mb3";

export function isCharacterType(name: string): boolean {
  return CHARACTER.has(name);
}

/** A data type; `serial` is set for SERIAL, which also means NOT NULL AUTO_INCREMENT UNIQUE. */
export function parseColumnType(c: Cursor): { type: ColumnType; serial: boolean } {
  const t = c.next();
  if (t.kind !== "word") throw c.fail("expected a data type", t);
  const type: ColumnType = { name: "", unsigned: false, zerofill: false };
  let serial = false;
  const w = t.upper;
  if (INTEGERS[w]) {
    type.name = INTEGERS[w];
    type.length = optLength(c);
  } else if (SIMPLE[w]) {
    type.name = SIMPLE[w];
  } else {
    switch (w) {
      case "BIT":
        type.name = "bit";
        type.length = optLength(c) ?? 1;
        break;
      case "BOOL":
      case "BOOLEAN":
        type.name = "tinyint";
        type.length = 1;
        break;
      case "SERIAL":
        Object.assign(type, { name: "bigint", unsigned: true });
        serial = true;
        break;
      case "DECIMAL":
      case "DEC":
      case "NUMERIC":
      case "FIXED": {
        type.name = "decimal";
        const [m, d] = optPrecision(c);
        type.precision = m ?? 10;
        type.scale = d ?? 0;
        break;
      }
      case "FLOAT": {
        const [m, d] = optPrecision(c);
        // FLOAT(p): p is binary precision and picks the storage type (24 or less: FLOAT).
        if (m !== undefined && d === undefined) {
          if (m > 53) throw c.fail(`FLOAT(${m}) is out of range`);
          type.name = m > 24 ? "double" : "float";
        } else Object.assign(type, { name: "float", precision: m, scale: d });
        break;
      }
      case "FLOAT4":
      case "FLOAT8":
      case "DOUBLE":
      case "REAL": {
        if (w === "DOUBLE") c.eatWord("PRECISION");
        const [m, d] = optPrecision(c);
        const float = w === "FLOAT4" || (w === "REAL" && (c.sqlMode & SQL_MODE.REAL_AS_FLOAT) !== 0n);
        Object.assign(type, { name: float ? "float" : "double", precision: m, scale: d });
        break;
      }
      case "TIMESTAMP":
      case "TIME":
      case "DATETIME":
        // sql_mode MAXDB makes TIMESTAMP a DATETIME (checked against MariaDB 10.11).
        type.name = w === "TIMESTAMP" && (c.sqlMode & SQL_MODE.MAXDB) !== 0n ? "datetime" : w.toLowerCase();
        type.fsp = optLength(c) ?? 0;
        break;
      case "YEAR":
        type.name = "year";
        optLength(c);
        break;
      case "CHAR":
      case "CHARACTER":
        if (c.eatWord("VARYING")) varchar(c, type);
        else {
          type.name = "char";
          type.length = optLength(c) ?? 1;
          if (c.eatWord("BYTE")) type.name = "binary";
        }
        break;
      case "NCHAR":
      case "NATIONAL":
        if (w === "NATIONAL") c.expectWord("CHAR", "CHARACTER", "VARCHAR", "VARCHARACTER");
        if (c.eatWord("VARCHAR", "VARCHARACTER", "VARYING") || c.tokens[c.i - 1]!.upper.startsWith("VARCHAR")) varchar(c, type);
        else {
          type.name = "char";
          type.length = optLength(c) ?? 1;
        }
        type.charset = NATIONAL;
        break;
      case "NVARCHAR":
        varchar(c, type);
        type.charset = NATIONAL;
        break;
      case "VARCHAR":
      case "VARCHARACTER":
        varchar(c, type);
        break;
      case "BINARY":
        type.name = "binary";
        type.length = optLength(c) ?? 1;
        break;
      case "VARBINARY":
        type.name = "varbinary";
        type.length = length(c);
        break;
      case "BLOB":
      case "TEXT":
        type.name = w.toLowerCase();
        type.length = optLength(c);
        break;
      case "LONG":
        if (c.eatWord("VARBINARY")) type.name = "mediumblob";
        else {
          if (!c.eatWord("VARCHAR", "VARCHARACTER") && c.eatWord("CHAR", "CHARACTER")) c.expectWord("VARYING");
          type.name = "mediumtext";
        }
        break;
      case "ENUM":
      case "SET":
        type.name = w.toLowerCase();
        type.values = valueList(c);
        break;
      case "VECTOR":
        type.name = "vector";
        type.length = optLength(c);
        break;
      default:
        throw c.fail(`unknown data type ${t.text}`, t);
    }
  }
  typeAttributes(c, type);
  return { type, serial };
}

function varchar(c: Cursor, type: ColumnType): void {
  type.name = "varchar";
  type.length = length(c);
}

function length(c: Cursor): number {
  const n = optLength(c);
  if (n === undefined) throw c.fail("expected a length");
  return n;
}

function optLength(c: Cursor): number | undefined {
  if (!c.eatPunct("(")) return undefined;
  const n = c.integer();
  c.expectPunct(")");
  return n;
}

function optPrecision(c: Cursor): [number | undefined, number | undefined] {
  if (!c.eatPunct("(")) return [undefined, undefined];
  const m = c.integer();
  const d = c.eatPunct(",") ? c.integer() : undefined;
  c.expectPunct(")");
  return [m, d];
}

function valueList(c: Cursor): string[] {
  c.expectPunct("(");
  const values: string[] = [];
  do values.push(c.string());
  while (c.eatPunct(","));
  c.expectPunct(")");
  return values;
}

/** SIGNED/UNSIGNED/ZEROFILL, and the character attributes that may follow a type. */
function typeAttributes(c: Cursor, type: ColumnType): void {
  for (;;) {
    if (c.eatWord("SIGNED")) continue;
    if (c.eatWord("UNSIGNED")) type.unsigned = true;
    else if (c.eatWord("ZEROFILL")) type.zerofill = type.unsigned = true;
    else if (c.eatWord("BINARY")) type.binaryCollation = true;
    else if (c.eatWord("ASCII")) type.charset = "latin1";
    else if (c.eatWord("UNICODE")) type.charset = "ucs2";
    else if (!charsetClause(c, type)) break;
  }
  if ((type.unsigned || type.zerofill) && !NUMERIC.has(type.name)) throw c.fail(`UNSIGNED on ${type.name}`);
  if (type.charset === "binary" && BYTE_TWIN[type.name]) {
    type.name = BYTE_TWIN[type.name]!;
    delete type.charset;
  }
}

/** CHARACTER SET x / CHARSET x / CHAR SET x / COLLATE y onto a type; false when none is next. */
export function charsetClause(c: Cursor, type: { charset?: string; collation?: string }): boolean {
  if (c.eatWords("CHARACTER", "SET") || c.eatWords("CHAR", "SET") || c.eatWord("CHARSET")) {
    c.eatEquals();
    type.charset = charsetName(c);
    return true;
  }
  if (c.eatWord("COLLATE")) {
    c.eatEquals();
    type.collation = charsetName(c);
    return true;
  }
  return false;
}

function charsetName(c: Cursor): string {
  const t = c.next();
  if (t.kind === "word" || t.kind === "ident" || t.kind === "string") return t.text.toLowerCase();
  throw c.fail("expected a character set or collation name", t);
}

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
  const first = c.ident();
  if (c.eatPunct(".")) return { database: first, table: c.ident() };
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

export { DdlSyntaxError };
