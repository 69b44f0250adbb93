// Data types in column definitions (and information_schema COLUMN_TYPE), with MySQL's
// synonyms resolved the way the server resolves them: INTEGER → int, BOOL → tinyint(1),
// FLOAT(p > 24) → double, REAL → double (float under REAL_AS_FLOAT), NATIONAL → utf8mb3,
// LONG VARCHAR → mediumtext, CHARACTER SET binary → the byte-string twin, TIMESTAMP under
// sql_mode MAXDB → datetime. MySQL 8.0 / MariaDB 10.11 reference manuals, "Data Types".

import type { ColumnType } from "./ddl-model.ts";
import { type Cursor, SQL_MODE } from "./ddl-lexer.ts";

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
