// ONE canonical text per MySQL column type, produced by SQL on both sides, so that a value and
// its replicated copy hash equal although MySQL and the target type and print them
// differently. docs/check.md lists the rules; in short:
//
//   integers, YEAR, DECIMAL   decimal digits, DECIMAL with exactly its scale ("-12.50")
//   FLOAT, DOUBLE             the shortest round-trip digits D and exponent E of the double,
//                             written "De<E>" with value 0.D × 10^E ("31415927410125732e1");
//                             FLOAT is widened to double first (exact). Both servers print the
//                             same shortest digits; only their layout differs, which this undoes
//   BIT(n)                    n binary digits
//   DATE                      YYYY-MM-DD
//   DATETIME, TIMESTAMP       YYYY-MM-DD HH:MM:SS.ffffff (always 6 digits; TIMESTAMP in UTC)
//   TIME                      [-]HH:MM:SS.ffffff, hours as many digits as needed (838:59:59)
//   text, ENUM, SET           the characters (CHAR without trailing spaces, as both read it)
//   binary, BLOB, GEOMETRY    lower-case hex of the bytes
//   JSON                      MySQL: its own text (key order and spacing as jsonb prints them);
//                             MariaDB: JSON_NORMALIZE's form, rebuilt on the target to a depth
//                             of JSON_DEPTH levels. Row comparison parses both sides, so a
//                             document the SQL forms disagree on is compared by value
//   zero dates                NULL when [sink] zero_date = "null" (what the sink stored); in a
//                             column of the target's primary key the all-zero date is its text
//                             ("0000-00-00", "0000-00-00 00:00:00.000000"), which the target's
//                             -infinity there reads as (the sink stores it so: NULL cannot be in a key)
//
// A row's text joins its columns with "|", NULL as "N"; text is length-prefixed ("3:abc") and
// JSON/unknown types enter as the md5 of their text, so no value can fake a separator (and "#"
// can join rows). A key range's hash is md5 of its rows' texts in key order (data-table.ts);
// a hash bucket's is the row count and the sum of the first 60 bits of each row's md5, which
// needs no order: the two servers sort text keys differently.

import type { ColumnType } from "../binlog/ddl-model.ts";
import { familyOf, mapType, type TargetDialect } from "../dialect/types.ts";
import { fitName } from "../dialect/identifiers.ts";
import { KEY_ZERO_DATE } from "../dialect/values.ts";

export type Kind = "int" | "decimal" | "float" | "double" | "bit" | "date" | "datetime" | "timestamp" | "time" | "text" | "bytes" | "json" | "other";

export interface ColumnPlan {
  name: string;
  kind: Kind;
  /** The canonical text can be NULL on the source / the target (else the NULL marker is left out of the SQL). */
  myNullable: boolean;
  pgNullable: boolean;
  /** Canonical text on the source / the target; NULL for NULL. */
  my: string;
  pg: string;
  /** The field as it enters the row text (before the NULL marker). */
  myField: string;
  pgField: string;
  /** JSON: the stored text, for a by-value comparison and for repair statements. */
  myRaw?: string;
  pgRaw?: string;
  /** A key column holding MySQL's zero date as -infinity: the zero date's canonical text, which stands for it in literals. */
  zeroText?: string;
}

export interface PlanOptions {
  flavour: "mysql" | "mariadb";
  /** MariaDB 10.7+ has JSON_NORMALIZE. */
  jsonNormalize: boolean;
  zeroDateNull: boolean;
  dialect: TargetDialect;
}

const INT = new Set(["tinyint", "smallint", "mediumint", "int", "bigint", "year"]);
const TEXT = new Set(["char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set"]);
const BYTES = new Set([
  "binary",
  "varbinary",
  "tinyblob",
  "blob",
  "mediumblob",
  "longblob",
  "geometry",
  "point",
  "linestring",
  "polygon",
  "multipoint",
  "multilinestring",
  "multipolygon",
  "geometrycollection",
]);

function kindOf(t: ColumnType): Kind {
  if (INT.has(t.name)) return "int";
  if (t.name === "decimal") return "decimal";
  if (t.name === "float") return "float";
  if (t.name === "double") return "double";
  if (t.name === "bit") return "bit";
  if (t.name === "date" || t.name === "datetime" || t.name === "timestamp" || t.name === "time" || t.name === "json") return t.name;
  if (TEXT.has(t.name)) return t.charset === "binary" ? "bytes" : "text";
  if (BYTES.has(t.name)) return "bytes";
  return "other";
}

/** Key columns of these kinds sort alike on both servers, so key ranges select the same rows. */
export function orderSafe(kind: Kind): boolean {
  return ["int", "decimal", "date", "datetime", "timestamp", "time", "bytes"].includes(kind);
}

export const myIdent = (name: string) => `\`${name.replace(/`/g, "``")}\``;
export const pgIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;
/** A source column's name on the target (shortened past 63 bytes, identifiers.ts), quoted. */
export const pgColumn = (name: string) => pgIdent(fitName(name));

interface ColumnSides {
  /** The target column's format_type, to cast it to the mapped type when it differs. */
  targetType: string;
  sourceNotNull: boolean;
  targetNotNull: boolean;
  /** The target column is in its table's primary key. */
  targetKey: boolean;
}

export function planColumn(name: string, type: ColumnType, sides: ColumnSides, o: PlanOptions): ColumnPlan {
  const { targetType } = sides;
  // MariaDB's JSON is LONGTEXT to information_schema; a jsonb target says what it holds.
  const kind = kindOf(type) === "text" && familyOf(targetType) === "json" ? "json" : kindOf(type);
  const m = myIdent(name);
  const mapped = mapType(type, o.dialect).mapped?.sql;
  const p = mapped !== undefined && mapped !== targetType && kind !== "other" && kind !== "json" ? `CAST(${pgColumn(name)} AS ${mapped})` : pgColumn(name);
  const guard = (e: string) => (o.zeroDateNull ? `IF(YEAR(${m}) = 0 OR MONTH(${m}) = 0 OR DAYOFMONTH(${m}) = 0 OR DAYOFMONTH(${m}) > DAYOFMONTH(LAST_DAY(${m})), NULL, ${e})` : e);
  // Zero dates and JSON_NORMALIZE can turn a NOT NULL value into NULL.
  const myNullable = !sides.sourceNotNull || o.zeroDateNull || kind === "json";
  const nulls = { myNullable, pgNullable: !sides.targetNotNull };
  const same = (my: string, pg: string): ColumnPlan => ({ name, kind, ...nulls, my, pg, myField: my, pgField: pg });
  // A primary-key column under zero_date = "null": the sink stored the all-zero date as -infinity.
  const temporal = (my: string, pg: string, zeroText: string): ColumnPlan => {
    if (!o.zeroDateNull || !sides.targetKey) return same(guard(my), pg);
    return {
      ...same(`IF(${my} = '${zeroText}', ${my}, ${guard(my)})`, `(CASE WHEN ${p} = '${KEY_ZERO_DATE}' THEN '${zeroText}' ELSE ${pg} END)`),
      zeroText,
    };
  };
  switch (kind) {
    case "int":
      return type.name === "year" ? same(`CAST(${m} + 0 AS CHAR)`, `${p}::text`) : same(`CAST(${m} AS CHAR)`, `${p}::text`);
    case "decimal":
      return same(`CAST(${m} AS CHAR)`, `${p}::text`);
    case "float":
      return same(floatMy(`CAST(${m} + 0e0 AS CHAR)`), floatPg(`${p}::float8::text`));
    case "double":
      return same(floatMy(`CAST(${m} AS CHAR)`), floatPg(`${p}::text`));
    case "bit":
      return same(`LPAD(BIN(${m} + 0), ${Math.max(1, type.length ?? 1)}, '0')`, `${p}::text`);
    case "date":
      return temporal(`DATE_FORMAT(${m}, '%Y-%m-%d')`, `to_char(${p}, 'YYYY-MM-DD')`, "0000-00-00");
    case "datetime":
      return temporal(`DATE_FORMAT(${m}, '%Y-%m-%d %H:%i:%s.%f')`, `to_char(${p}, 'YYYY-MM-DD HH24:MI:SS.US')`, "0000-00-00 00:00:00.000000");
    case "timestamp":
      return temporal(`DATE_FORMAT(${m}, '%Y-%m-%d %H:%i:%s.%f')`, `to_char(${p} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')`, "0000-00-00 00:00:00.000000");
    case "time":
      return same(`TIME_FORMAT(${m}, '%H:%i:%s.%f')`, intervalPg(p));
    case "text": {
      // UTF-8 and ASCII columns already hold the bytes the target hashes; others are converted.
      const my = /^(utf8|utf8mb3|utf8mb4|ascii)$/i.test(type.charset ?? "") ? m : `CONVERT(${m} USING utf8mb4)`;
      const pg = `${p}::text`;
      // CHAR: the length of the text without its padding. length() of a character(n) column
      // itself counts the padding in openGauss's C compatibility (PostgreSQL and modes B/PG
      // skip it), so only other text types take the column directly.
      const len = type.name === "char" ? `length(${pg})` : `length(${p})`;
      return { name, kind, ...nulls, my, pg, myField: `CONCAT(CHAR_LENGTH(${m}), ':', ${my})`, pgField: `(${len} || ':' || ${pg})` };
    }
    case "bytes":
      return same(`LOWER(HEX(${m}))`, `encode(${p}, 'hex')`);
    case "json": {
      const mariadb = o.flavour === "mariadb";
      const my = mariadb ? (o.jsonNormalize ? `JSON_NORMALIZE(${m})` : `CONVERT(${m} USING utf8mb4)`) : `CAST(${m} AS CHAR)`;
      const pg = mariadb && o.jsonNormalize ? jsonNormalizePg(`${p}::jsonb`, JSON_DEPTH) : `${p}::text`;
      return { name, kind, ...nulls, my, pg, myField: `MD5(${my})`, pgField: `md5(${pg})`, myRaw: mariadb ? `CONVERT(${m} USING utf8mb4)` : my, pgRaw: `${p}::text` };
    }
    case "other": {
      const my = `CAST(${m} AS CHAR)`;
      const pg = `${p}::text`;
      return { name, kind, ...nulls, my, pg, myField: `MD5(${my})`, pgField: `md5(${pg})` };
    }
  }
}

// ---------------------------------------------------------------- rows and hashes

export function rowTextMy(cols: readonly ColumnPlan[]): string {
  return `CONCAT(${cols.map((c) => (c.myNullable ? `IFNULL(${c.myField}, 'N')` : c.myField)).join(", '|', ")})`;
}

export function rowTextPg(cols: readonly ColumnPlan[]): string {
  return `(${cols.map((c) => (c.pgNullable ? `coalesce(${c.pgField}, 'N')` : c.pgField)).join(" || '|' || ")})`;
}

/** The first 60 bits of md5(text) as an unsigned integer: positive on both servers, summable exactly. */
export const hash60My = (text: string) => `CAST(CONV(LEFT(MD5(${text}), 15), 16, 10) AS UNSIGNED)`;
export const hash60Pg = (text: string) => `('x' || left(md5(${text}), 15))::bit(60)::bigint`;

/** A bucket number in [0, n) from other bits of md5(text). */
export const bucketMy = (text: string, n: number) => `(CAST(CONV(SUBSTRING(MD5(${text}), 17, 8), 16, 10) AS UNSIGNED) % ${n})`;
export const bucketPg = (text: string, n: number) => `(('x' || substring(md5(${text}), 17, 8))::bit(32)::bigint % ${n})`;

// ---------------------------------------------------------------- floats

// Input: the server's text of a double: "-0.00123", "1.5e-7", "1e20", "1.2345e+20".
// Output: sign, digits without leading/trailing zeros, "e", the exponent E of 0.D × 10^E; "0" for zero.
function floatMy(s: string): string {
  const a = `TRIM(LEADING '-' FROM ${s})`;
  const mant = `SUBSTRING_INDEX(${a}, 'e', 1)`;
  const exp = `IF(LOCATE('e', ${a}) > 0, CAST(SUBSTRING_INDEX(${a}, 'e', -1) AS SIGNED), 0)`;
  const ip = `SUBSTRING_INDEX(${mant}, '.', 1)`;
  const fp = `IF(LOCATE('.', ${mant}) > 0, SUBSTRING_INDEX(${mant}, '.', -1), '')`;
  const d0 = `CONCAT(${ip}, ${fp})`;
  const d1 = `TRIM(LEADING '0' FROM ${d0})`;
  const digits = `TRIM(TRAILING '0' FROM ${d1})`;
  const e = `(LENGTH(${ip}) - (LENGTH(${d0}) - LENGTH(${d1})) + ${exp})`;
  return `IF(${s} IS NULL, NULL, IF(${digits} = '', '0', CONCAT(IF(LEFT(${s}, 1) = '-', '-', ''), ${digits}, 'e', ${e})))`;
}

function floatPg(s: string): string {
  const a = `ltrim(${s}, '-')`;
  const mant = `split_part(${a}, 'e', 1)`;
  const exp = `(CASE WHEN position('e' in ${a}) > 0 THEN split_part(${a}, 'e', 2)::int ELSE 0 END)`;
  const ip = `split_part(${mant}, '.', 1)`;
  const fp = `split_part(${mant}, '.', 2)`;
  const d0 = `(${ip} || ${fp})`;
  const d1 = `ltrim(${d0}, '0')`;
  const digits = `rtrim(${d1}, '0')`;
  const e = `(length(${ip}) - (length(${d0}) - length(${d1})) + ${exp})`;
  return `(CASE WHEN ${s} IS NULL THEN NULL WHEN ${digits} = '' THEN '0' ELSE (CASE WHEN left(${s}, 1) = '-' THEN '-' ELSE '' END) || ${digits} || 'e' || ${e}::text END)`;
}

// ---------------------------------------------------------------- TIME

/**
 * An interval as [-]HH:MM:SS.ffffff from its total microseconds (days and months folded in).
 * div() rather than "/": openGauss divides integers into a double precision (3.5 for 7 / 2),
 * in every compatibility mode; div() truncates on both targets.
 */
function intervalPg(c: string): string {
  const us = `round(extract(epoch from ${c}) * 1000000)::bigint`;
  const a = `abs(${us})`;
  const two = (x: string) => `lpad((${x})::text, 2, '0')`;
  const hours = `div(${a}, 3600000000)`;
  return `(CASE WHEN ${c} IS NULL THEN NULL ELSE (CASE WHEN ${us} < 0 THEN '-' ELSE '' END) || (CASE WHEN ${hours} < 10 THEN '0' ELSE '' END) || ${hours}::text || ':' || ${two(`div(${a}, 60000000) % 60`)} || ':' || ${two(`div(${a}, 1000000) % 60`)} || '.' || lpad((${a} % 1000000)::text, 6, '0') END)`;
}

// ---------------------------------------------------------------- JSON (MariaDB)

/** Levels of nesting rebuilt on the target; deeper documents fall back to the row comparison. */
export const JSON_DEPTH = 4;

/**
 * MariaDB's JSON_NORMALIZE form of a jsonb value: keys sorted by bytes, no spaces, every number
 * as d.dddE<exp> ("1.0E2", "-1.23E-5", "0.0E0"). Linear in the document and in the depth:
 *   - each level names its value once (b<level>, behind OFFSET 0 so that the planner does not
 *     substitute the expression back): written out at every use, the column's cast to jsonb
 *     ran again for every element of every nested array (one 6 MB document took minutes);
 *   - an object's members and an array's elements are one row set, normalised by ONE nested
 *     expression: two (one per branch) doubled the SQL at every level.
 */
export function jsonNormalizePg(x: string, depth: number, level = 0): string {
  const [b, k, i, v, n] = ["b", "k", "i", "v", "n"].map((c) => `${c}${level}`) as [string, string, string, string, string];
  const scalar = `CASE jsonb_typeof(${b}) WHEN 'number' THEN ${jsonNumberPg(`${b}::text`)} ELSE ${b}::text END`;
  let body = scalar;
  if (depth > 0) {
    const is = (t: string) => `jsonb_typeof(${b}) = '${t}'`;
    const members =
      `SELECT ${k}, NULL::int AS ${i}, ${v} FROM jsonb_each(CASE WHEN ${is("object")} THEN ${b} ELSE '{}'::jsonb END) AS e${level}(${k}, ${v}) ` +
      `UNION ALL SELECT NULL, ${i}, ${b} -> ${i} FROM generate_series(0, (CASE WHEN ${is("array")} THEN jsonb_array_length(${b}) ELSE 0 END) - 1) AS g${level}(${i})`;
    const normalised = `SELECT ${k}, ${i}, ${jsonNormalizePg(v, depth - 1, level + 1)} AS ${n} FROM (${members}) AS u${level}`;
    const aggregate =
      `(SELECT CASE WHEN ${is("object")} THEN '{' || coalesce(string_agg(to_json(${k})::text || ':' || ${n}, ',' ORDER BY ${k} COLLATE "C"), '') || '}' ` +
      `ELSE '[' || coalesce(string_agg(${n}, ',' ORDER BY ${i}), '') || ']' END FROM (${normalised}) AS w${level})`;
    body = `CASE WHEN ${is("object")} OR ${is("array")} THEN ${aggregate} ELSE ${scalar} END`;
  }
  return `(SELECT ${body} FROM (SELECT ${x} AS ${b} OFFSET 0) AS s${level})`;
}

/** A numeric's text ("-0.0000123", "100") in JSON_NORMALIZE's layout ("-1.23E-5", "1.0E2"). */
function jsonNumberPg(s: string): string {
  const a = `ltrim(${s}, '-')`;
  const ip = `split_part(${a}, '.', 1)`;
  const d0 = `(${ip} || split_part(${a}, '.', 2))`;
  const d1 = `ltrim(${d0}, '0')`;
  const digits = `rtrim(${d1}, '0')`;
  const e = `(length(${ip}) - (length(${d0}) - length(${d1})) - 1)`;
  return `(CASE WHEN ${digits} = '' THEN '0.0E0' ELSE (CASE WHEN left(${s}, 1) = '-' THEN '-' ELSE '' END) || left(${digits}, 1) || '.' || coalesce(nullif(substr(${digits}, 2), ''), '0') || 'E' || ${e}::text END)`;
}
